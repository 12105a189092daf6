//! Wildcard matching for actions, resources and `…Like` condition values.
//!
//! `*` matches any run of characters, including none, and `?` matches exactly
//! one character.

use std::ops::Range;
use std::sync::OnceLock;

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
#[derive(Debug, Clone)]
pub struct Pattern {
    tokens: Vec<Token>,
    matcher: Matcher,
    /// The six colon-separated ARN parts, compiled on first use because only
    /// resource patterns need them.
    arn_parts: OnceLock<Vec<Matcher>>,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.tokens == other.tokens
    }
}

impl Eq for Pattern {}

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
        let matcher = Matcher::compile(&tokens);
        Pattern { tokens, matcher, arn_parts: OnceLock::new() }
    }

    pub fn matches(&self, text: &str) -> bool {
        self.matcher.matches(text, false)
    }

    /// Matches with ASCII case folding, as IAM does for action names.
    pub fn matches_ignore_case(&self, text: &str) -> bool {
        self.matcher.matches(text, true)
    }

    /// Tells whether the pattern is exactly `*`.
    pub fn is_match_all(&self) -> bool {
        self.tokens == [Token::AnyRun]
    }

    /// Returns the pattern split at literal `:` characters into at most six
    /// ARN parts, the last part keeping any further colons.
    fn arn_parts(&self) -> &[Matcher] {
        self.arn_parts.get_or_init(|| {
            let mut parts = Vec::new();
            let mut rest = self.tokens.as_slice();
            while parts.len() < 5 {
                let Some(colon) = rest.iter().position(|token| *token == Token::Char(':')) else {
                    break;
                };
                let (part, after) = rest.split_at(colon);
                parts.push(Matcher::compile(part));
                rest = after.get(1..).unwrap_or_default();
            }
            parts.push(Matcher::compile(rest));
            parts
        })
    }
}

/// Matches an `Action` or `NotAction` entry against an action name such as
/// `rekognition:DistributeDatasetEntries`. Action names ignore case.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    // Most entries are `*` or a plain action name, which need no compiled
    // pattern.
    if pattern == "*" {
        return true;
    }
    if !pattern.contains(['*', '?']) {
        return pattern.eq_ignore_ascii_case(action);
    }
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
    // `*` alone matches any ARN. Treating it as a one-part pattern that never
    // matches would let a Deny conditioned on `ArnLike: "*"` allow instead.
    if pattern.is_match_all() {
        return true;
    }
    segments_match(pattern, arn, false)
}

fn segments_match(pattern: &Pattern, arn: &str, trailing_run_spans: bool) -> bool {
    let parts = pattern.arn_parts();
    let value_count = arn.match_indices(':').take(5).count() + 1;
    if parts.len() == value_count {
        return parts.iter().zip(arn.splitn(6, ':')).all(|(part, value)| part.matches(value, false));
    }
    if !trailing_run_spans || parts.len() > value_count {
        return false;
    }
    let Some((last, leading)) = parts.split_last() else {
        return false;
    };
    if !last.ends_with_any_run {
        return false;
    }

    // The last part matches the rest of the ARN after the leading parts'
    // values, colons included.
    let mut rest = arn;
    for part in leading {
        let Some((value, after)) = rest.split_once(':') else {
            return false;
        };
        if !part.matches(value, false) {
            return false;
        }
        rest = after;
    }
    last.matches(rest, false)
}

/// One position of a star-free segment: a literal unit or `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom<U> {
    Literal(U),
    Any,
}

/// A pattern cut at every `*` into star-free segments. With one segment the
/// pattern has no `*` and must match the whole text. Otherwise the first
/// segment is anchored at the start, the last at the end, and the ones
/// between may match anywhere in order.
#[derive(Debug, Clone)]
struct Segments<U> {
    atoms: Vec<Atom<U>>,
    /// Ranges into `atoms`, one per segment, never empty as a list.
    ranges: Vec<Range<usize>>,
}

/// A compiled pattern. The byte form works on the UTF-8 text directly. It
/// is exact whenever the pattern has no `?`, because an encoded literal can
/// only match at char boundaries, and whenever the text is ASCII, where a
/// byte is a char. Otherwise `?` must consume a whole char, so the char form
/// is used.
#[derive(Debug, Clone)]
struct Matcher {
    bytes: Segments<u8>,
    /// Present only when the pattern contains `?`.
    chars: Option<Segments<char>>,
    /// The text of each segment without `?`, searched with `str::find`
    /// when matching is case-sensitive.
    needles: Vec<Option<String>>,
    ends_with_any_run: bool,
}

impl Matcher {
    fn compile(tokens: &[Token]) -> Matcher {
        let has_any_char = tokens.contains(&Token::AnyChar);
        let chars = has_any_char.then(|| {
            Segments::compile(tokens, |token, atoms| match token {
                Token::Char(c) => atoms.push(Atom::Literal(c)),
                _ => atoms.push(Atom::Any),
            })
        });
        let bytes = Segments::compile(tokens, |token, atoms| match token {
            Token::Char(c) => {
                let mut buffer = [0; 4];
                atoms.extend(c.encode_utf8(&mut buffer).bytes().map(Atom::Literal));
            }
            _ => atoms.push(Atom::Any),
        });
        let needles = tokens
            .split(|token| *token == Token::AnyRun)
            .map(|segment| {
                segment
                    .iter()
                    .map(|token| match token {
                        Token::Char(c) => Some(*c),
                        _ => None,
                    })
                    .collect::<Option<String>>()
            })
            .collect();
        Matcher { bytes, chars, needles, ends_with_any_run: tokens.last() == Some(&Token::AnyRun) }
    }

    fn matches(&self, text: &str, ignore_case: bool) -> bool {
        if let Some(chars) = &self.chars
            && !text.is_ascii()
        {
            let text: Vec<char> = text.chars().collect();
            return chars.matches(&text, ignore_case, |index, window| chars.find(index, window, &text, ignore_case));
        }

        let bytes = &self.bytes;
        bytes.matches(text.as_bytes(), ignore_case, |index, window| {
            // Windows start and end at char boundaries (see `Matcher`). If
            // `get` still failed, comparing atoms gives the same result.
            if !ignore_case
                && let Some(Some(needle)) = self.needles.get(index)
                && let Some(haystack) = text.get(window.clone())
            {
                return haystack.find(needle.as_str()).map(|found| window.start + found);
            }
            bytes.find(index, window, text.as_bytes(), ignore_case)
        })
    }
}

impl<U: Unit> Segments<U> {
    /// Splits `tokens` at `*`, pushing the atoms of every other token with
    /// `push`.
    fn compile(tokens: &[Token], push: impl Fn(Token, &mut Vec<Atom<U>>)) -> Segments<U> {
        let mut atoms = Vec::new();
        let mut ranges = Vec::new();
        let mut start = 0;
        for token in tokens {
            if *token == Token::AnyRun {
                ranges.push(start..atoms.len());
                start = atoms.len();
            } else {
                push(*token, &mut atoms);
            }
        }
        ranges.push(start..atoms.len());
        Segments { atoms, ranges }
    }

    fn segment(&self, index: usize) -> &[Atom<U>] {
        self.ranges.get(index).and_then(|range| self.atoms.get(range.clone())).unwrap_or_default()
    }

    /// Matches the whole text. `search(index, window)` returns the leftmost
    /// start of segment `index` inside the `window` of text positions.
    ///
    /// Time is linear in the text length for a fixed pattern: the anchored
    /// ends are compared once, and each middle segment is searched
    /// leftmost-first after the previous one. Taking the leftmost match is
    /// safe because every segment has a fixed length, so an earlier match
    /// leaves at least as much text for the segments after it.
    fn matches(&self, text: &[U], ignore_case: bool, search: impl Fn(usize, Range<usize>) -> Option<usize>) -> bool {
        let first = self.segment(0);
        let last_index = self.ranges.len().saturating_sub(1);
        if last_index == 0 {
            return first.len() == text.len() && matches_here(first, text, ignore_case);
        }
        let last = self.segment(last_index);

        if first.len() + last.len() > text.len() {
            return false;
        }
        let (head, after_head) = text.split_at(first.len());
        let tail = after_head.get(after_head.len() - last.len()..).unwrap_or_default();
        if !matches_here(first, head, ignore_case) || !matches_here(last, tail, ignore_case) {
            return false;
        }

        let mut start = first.len();
        let end = text.len() - last.len();
        for index in 1..last_index {
            let Some(found) = search(index, start..end) else {
                return false;
            };
            start = found + self.segment(index).len();
        }
        true
    }

    /// Returns the leftmost start of segment `index` inside `window`, by
    /// comparing atoms at each position.
    fn find(&self, index: usize, window: Range<usize>, text: &[U], ignore_case: bool) -> Option<usize> {
        let segment = self.segment(index);
        let haystack = text.get(window.clone())?;
        if segment.len() > haystack.len() {
            return None;
        }
        let found = (0..=haystack.len() - segment.len()).find(|&start| {
            haystack.get(start..start + segment.len()).is_some_and(|candidate| matches_here(segment, candidate, ignore_case))
        })?;
        Some(window.start + found)
    }
}

/// Compares a segment with a text slice of the same length.
fn matches_here<U: Unit>(segment: &[Atom<U>], text: &[U], ignore_case: bool) -> bool {
    segment.iter().zip(text).all(|(atom, unit)| match atom {
        Atom::Any => true,
        Atom::Literal(expected) if ignore_case => expected.eq_ignore_ascii_case(*unit),
        Atom::Literal(expected) => expected == unit,
    })
}

/// A unit of text the matcher compares: a UTF-8 byte or a char.
trait Unit: Copy + Eq {
    fn eq_ignore_ascii_case(self, other: Self) -> bool;
}

impl Unit for u8 {
    fn eq_ignore_ascii_case(self, other: u8) -> bool {
        u8::eq_ignore_ascii_case(&self, &other)
    }
}

impl Unit for char {
    fn eq_ignore_ascii_case(self, other: char) -> bool {
        char::eq_ignore_ascii_case(&self, &other)
    }
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
    #[test]
    fn question_mark_takes_whole_char() {
        assert!(Pattern::parse("caf?").matches("café"));
        assert!(!Pattern::parse("caf??").matches("café"));
        assert!(Pattern::parse("?").matches("🙂"));
        assert!(Pattern::parse("*?x").matches("ééx"));
        assert!(!Pattern::parse("??").matches("é"));
    }

    #[test]
    fn non_ascii_literals_match_exactly() {
        assert!(Pattern::parse("*é*").matches("caféine"));
        assert!(!Pattern::parse("*é*").matches("cafe"));
        assert!(Pattern::parse("project/sh*").matches("project/shélf"));
        assert!(!Pattern::parse("é").matches("e\u{301}"));
    }

    #[test]
    fn case_folding_is_ascii_only() {
        assert!(Pattern::parse("Rekognition:Describe*").matches_ignore_case("rekognition:describeprojects"));
        assert!(!Pattern::parse("Rekognition:Describe*").matches("rekognition:describeprojects"));
        assert!(!Pattern::parse("É").matches_ignore_case("é"));
        assert!(Pattern::parse("?É").matches_ignore_case("AÉ"));
    }

    #[test]
    fn stars_split_into_segments() {
        assert!(Pattern::parse("").matches(""));
        assert!(!Pattern::parse("").matches("a"));
        assert!(Pattern::parse("**").matches(""));
        assert!(Pattern::parse("a*b*c").matches("abc"));
        assert!(Pattern::parse("a*b*c").matches("aXbYbZc"));
        assert!(!Pattern::parse("a*b*c").matches("acb"));
        assert!(!Pattern::parse("ab*ba").matches("aba"));
        assert!(Pattern::parse("*a?a*").matches("xxabaxx"));
        assert!(!Pattern::parse("*aa*aa*").matches("aaa"));
        assert!(Pattern::parse("*aa*aa*").matches("aaaa"));
    }

    #[test]
    fn literal_question_mark_is_not_wildcard() {
        let pattern = Pattern::from_parts(&[Part::Literal("a?"), Part::Pattern("*")]);
        assert!(pattern.matches("a?b"));
        assert!(!pattern.matches("ab"));
    }

    #[test]
    fn patterns_compare_by_tokens() {
        let pattern = Pattern::parse("arn:aws:*");
        assert!(resource_matches(&pattern, "arn:aws:s3:::bucket"));
        assert_eq!(pattern, Pattern::parse("arn:aws:*"));
        assert_ne!(pattern, Pattern::parse("arn:aws:?"));
    }

    #[test]
    fn action_matches_ignores_case() {
        assert!(action_matches("*", "rekognition:DistributeDatasetEntries"));
        assert!(action_matches("Rekognition:distributeDatasetEntries", "rekognition:DistributeDatasetEntries"));
        assert!(action_matches("rekognition:Distribute*", "REKOGNITION:DISTRIBUTEDATASETENTRIES"));
        assert!(!action_matches("rekognition:Describe*", "rekognition:DistributeDatasetEntries"));
        assert!(!action_matches("rekognition:DistributeDataset", "rekognition:DistributeDatasetEntries"));
    }

    const DATASET: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train/1690000000000";

    #[test]
    fn resource_star_alone_matches_everything() {
        let pattern = Pattern::parse("*");
        assert!(resource_matches(&pattern, DATASET));
        assert!(resource_matches(&pattern, ""));
        assert!(resource_matches(&pattern, "not an arn"));
    }

    #[test]
    fn resource_wildcards_stay_in_part() {
        assert!(resource_matches(&Pattern::parse("arn:aws:rekognition:*:111122223333:project/*"), DATASET));
        assert!(!resource_matches(&Pattern::parse("arn:aws:rekognition:*:999999999999:project/*"), DATASET));
        // Six parts, so the `*` in the region cannot also cover the account.
        assert!(!resource_matches(&Pattern::parse("arn:aws:rekognition:*:project/*"), DATASET));
        assert!(!resource_matches(&Pattern::parse("arn:aws:*:project/shelf/*"), DATASET));
        assert!(resource_matches(&Pattern::parse("arn:aws:rekognition:us-east-?:*:project/shelf/dataset/*"), DATASET));
    }

    #[test]
    fn resource_trailing_star_spans_parts() {
        assert!(resource_matches(&Pattern::parse("arn:aws:rekognition:us-east-1:*"), DATASET));
        assert!(resource_matches(&Pattern::parse("arn:*"), DATASET));
        assert!(!resource_matches(&Pattern::parse("arn:aws:rekognition:us-west-2:*"), DATASET));
        // Only a trailing `*` spans parts, not one earlier in the last part.
        assert!(!resource_matches(&Pattern::parse("arn:aws:rekognition:*1"), DATASET));
    }

    #[test]
    fn resource_last_part_keeps_colons() {
        let pattern = Pattern::parse("arn:aws:s3:::bucket/*");
        assert!(resource_matches(&pattern, "arn:aws:s3:::bucket/a:b:c"));
        assert!(!resource_matches(&pattern, "arn:aws:s3:::other/a:b:c"));
        assert!(!resource_matches(&Pattern::parse("arn:aws:s3:::bucket/a"), "arn:aws:s3:::bucket"));
    }

    #[test]
    fn arn_like_matches_part_by_part() {
        assert!(arn_like(&Pattern::parse("arn:aws:rekognition:*:*:*"), DATASET));
        assert!(arn_like(&Pattern::parse(DATASET), DATASET));
        assert!(!arn_like(&Pattern::parse("arn:aws:rekognition:*"), DATASET));
        assert!(arn_like(&Pattern::parse("*"), DATASET));
        assert!(!arn_like(&Pattern::parse("arn:aws:rekognition:*:*:*:*"), "arn:aws:rekognition:us-east-1:111122223333"));
        assert!(!arn_like(&Pattern::parse("arn:aws:rekognition:*:*:project/other/*"), DATASET));
    }
}
