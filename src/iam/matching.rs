//! Wildcard matching for actions, resources and `…Like` condition values.
//!
//! `*` matches any run of characters, including none, and `?` matches exactly
//! one character.

/// A piece of a pattern before compilation. Text from a policy is a
/// `Pattern`, so its `*` and `?` are wildcards. Text substituted from a
/// policy variable (or an escape such as `${*}`) is a `Literal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    Pattern(&'a str),
    Literal(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    AnyChar,
    AnyRun,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    pub fn parse(text: &str) -> Pattern {
        Pattern::from_parts(&[Part::Pattern(text)])
    }

    pub fn from_parts(parts: &[Part<'_>]) -> Pattern {
        let mut tokens = Vec::new();
        for part in parts {
            match part {
                Part::Pattern(text) => tokens.extend(text.chars().map(|c| match c {
                    '*' => Token::AnyRun,
                    '?' => Token::AnyChar,
                    other => Token::Char(other),
                })),
                Part::Literal(text) => tokens.extend(text.chars().map(Token::Char)),
            }
        }
        Pattern { tokens }
    }

    pub fn matches(&self, text: &str) -> bool {
        match_tokens(&self.tokens, text, false)
    }

    /// Matches with ASCII case folding, as IAM does for action names.
    pub fn matches_ignore_case(&self, text: &str) -> bool {
        match_tokens(&self.tokens, text, true)
    }

    /// Tells whether the pattern is exactly `*`.
    pub fn is_match_all(&self) -> bool {
        self.tokens == [Token::AnyRun]
    }

    /// Splits at literal `:` characters into at most `limit` pieces, the last
    /// piece keeping any further colons.
    fn split_segments(&self, limit: usize) -> Vec<Pattern> {
        let mut segments = vec![Pattern { tokens: Vec::new() }];
        for token in &self.tokens {
            if *token == Token::Char(':') && segments.len() < limit {
                segments.push(Pattern { tokens: Vec::new() });
            } else if let Some(last) = segments.last_mut() {
                last.tokens.push(*token);
            }
        }
        segments
    }

    fn ends_with_any_run(&self) -> bool {
        self.tokens.last() == Some(&Token::AnyRun)
    }
}

/// Matches an `Action` or `NotAction` entry against an action name such as
/// `rekognition:DistributeDatasetEntries`. Action names ignore case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    Pattern::parse(pattern).matches_ignore_case(action)
}

/// Matches a `Resource` or `NotResource` entry against a resource ARN.
///
/// The six colon-separated ARN parts are matched one by one, and wildcards
/// stay inside their part. A pattern with fewer parts whose last part ends in
/// `*` lets that part match the rest of the ARN, colons included, so
/// `arn:aws:rekognition:*` covers every Rekognition resource. `*` alone
/// matches any resource.
pub fn resource_matches(pattern: &Pattern, resource: &str) -> bool {
    if pattern.is_match_all() {
        return true;
    }
    segments_match(pattern, resource, true)
}

/// Matches for `ArnLike` and `ArnEquals`: each of the six parts is matched
/// on its own and a wildcard never reaches into the next part.
pub fn arn_like(pattern: &Pattern, arn: &str) -> bool {
    segments_match(pattern, arn, false)
}

fn segments_match(pattern: &Pattern, arn: &str, trailing_run_spans: bool) -> bool {
    let patterns = pattern.split_segments(6);
    let values: Vec<&str> = arn.splitn(6, ':').collect();
    if patterns.len() == values.len() {
        return patterns.iter().zip(&values).all(|(pattern, value)| pattern.matches(value));
    }
    if !trailing_run_spans || patterns.len() > values.len() {
        return false;
    }
    let Some((last, leading)) = patterns.split_last() else {
        return false;
    };
    if !last.ends_with_any_run() {
        return false;
    }
    let leading_match = leading.iter().zip(&values).all(|(pattern, value)| pattern.matches(value));
    let rest = values[leading.len()..].join(":");
    leading_match && last.matches(&rest)
}

/// Two-pointer matching that backtracks only to the most recent `*`.
// TODO: replace with the segment search that is linear in the text length.
fn match_tokens(tokens: &[Token], text: &str, ignore_case: bool) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let (mut t, mut c) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while c < chars.len() {
        let step = match tokens.get(t) {
            Some(Token::AnyRun) => {
                star = Some((t, c));
                t += 1;
                continue;
            }
            Some(Token::AnyChar) => true,
            Some(Token::Char(expected)) => {
                if ignore_case { expected.eq_ignore_ascii_case(&chars[c]) } else { *expected == chars[c] }
            }
            None => false,
        };
        if step {
            t += 1;
            c += 1;
        } else if let Some((star_token, star_char)) = star {
            t = star_token + 1;
            c = star_char + 1;
            star = Some((star_token, star_char + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|token| *token == Token::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark_match() {
        assert!(Pattern::parse("rekognition:*Dataset*").matches("rekognition:DistributeDatasetEntries"));
        assert!(Pattern::parse("t?st").matches("test"));
        assert!(!Pattern::parse("t?st").matches("tst"));
    }

    #[test]
    fn literal_parts_are_not_wildcards() {
        let pattern = Pattern::from_parts(&[Part::Pattern("project/"), Part::Literal("*"), Part::Pattern("/*")]);
        assert!(pattern.matches("project/*/dataset"));
        assert!(!pattern.matches("project/shelf/dataset"));
    }

    #[test]
    fn trailing_star_spans_arn_parts() {
        let arn = "arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/train/1";
        assert!(resource_matches(&Pattern::parse("arn:aws:rekognition:*"), arn));
        assert!(!arn_like(&Pattern::parse("arn:aws:rekognition:*"), arn));
        assert!(arn_like(&Pattern::parse("arn:aws:rekognition:*:*:project/*"), arn));
    }
}
