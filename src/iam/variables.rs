//! Policy variables: `${key}` and `${key, 'default'}` in Resource entries and
//! in string and ARN condition values, resolved against the request context.
//!
//! Only policies with `"Version": "2012-10-17"` have variables. In older or
//! unversioned policies `${…}` is plain text, and so are `$`, `{` and `}`.

use super::context::{Context, Lookup};
use super::matching::{Part, Pattern};

/// One piece of a policy string after variable parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text written in the policy, where `*` and `?` are wildcards.
    Text(Box<str>),
    /// Text from an escape such as `${*}`, which never acts as a wildcard.
    Literal(Box<str>),
    Variable { key: Box<str>, default: Option<Box<str>> },
}

/// A policy string split into text and variables. Most strings have no
/// variables and stay one boxed string, which keeps large policies small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// Exactly `*`, the most common entry, kept without an allocation.
    Any,
    Static(Box<str>),
    Dynamic(Box<[Segment]>),
}

/// Keys that a resolution found absent or unknown, in the policy's spelling.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    pub missing: Vec<String>,
    pub unknown: Vec<String>,
}

impl KeyLog {
    pub fn missing(&mut self, key: &str) {
        push_unique(&mut self.missing, key);
    }

    pub fn unknown(&mut self, key: &str) {
        push_unique(&mut self.unknown, key);
    }

    pub fn append(&mut self, other: &KeyLog) {
        for key in &other.missing {
            self.missing(key);
        }
        for key in &other.unknown {
            self.unknown(key);
        }
    }
}

fn push_unique(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|known| known.eq_ignore_ascii_case(key)) {
        keys.push(key.to_string());
    }
}

/// The outcome of substituting a template's variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<'a> {
    Parts(Vec<Part<'a>>),
    /// A variable without a default named an absent key: the entry never matches.
    Missing,
    /// A variable named an unknown key, or a key with several values.
    Unknown,
}

impl Template {
    /// Splits `raw` into segments. With `variables` false the whole string is text.
    pub fn parse(raw: &str, variables: bool) -> Template {
        if raw == "*" {
            return Template::Any;
        }
        if !variables || !raw.contains("${") {
            return Template::Static(raw.into());
        }
        match split_variables(raw) {
            segments if segments.iter().all(|segment| matches!(segment, Segment::Text(_))) => Template::Static(raw.into()),
            segments => Template::Dynamic(segments.into_boxed_slice()),
        }
    }

    /// Returns the text of a template without variables or escapes.
    pub fn static_text(&self) -> Option<&str> {
        match self {
            Template::Any => Some("*"),
            Template::Static(text) => Some(text),
            Template::Dynamic(_) => None,
        }
    }

    /// Tells whether the template is exactly `*`.
    pub fn is_match_all(&self) -> bool {
        self.static_text() == Some("*")
    }

    /// Builds the wildcard pattern after substituting every variable from
    /// `context`. Substituted values are literal text, so a tag value
    /// containing `*` is not a wildcard.
    pub fn pattern(&self, context: &Context, log: &mut KeyLog) -> Result<Pattern, Resolved<'static>> {
        match self.resolve(context, log) {
            Resolved::Parts(parts) => Ok(Pattern::from_parts(&parts)),
            Resolved::Missing => Err(Resolved::Missing),
            Resolved::Unknown => Err(Resolved::Unknown),
        }
    }

    /// Substitutes every variable from `context`.
    pub fn resolve<'a>(&'a self, context: &'a Context, log: &mut KeyLog) -> Resolved<'a> {
        let segments = match self {
            Template::Any => return Resolved::Parts(vec![Part::Pattern("*")]),
            Template::Static(text) => return Resolved::Parts(vec![Part::Pattern(text)]),
            Template::Dynamic(segments) => segments,
        };
        let mut parts = Vec::with_capacity(segments.len());
        let mut outcome_missing = false;
        let mut outcome_unknown = false;
        for segment in segments.iter() {
            match segment {
                Segment::Text(text) => parts.push(Part::Pattern(text)),
                Segment::Literal(text) => parts.push(Part::Literal(text)),
                Segment::Variable { key, default } => match context.get(key) {
                    Lookup::Present([value]) => parts.push(Part::Literal(value)),
                    // NOTE: IAM documents no meaning for a multivalued key in a
                    // variable, so the match is left undecided rather than guessed.
                    Lookup::Present(values) if values.len() > 1 => {
                        log.unknown(key);
                        outcome_unknown = true;
                    }
                    Lookup::Present(_) | Lookup::Absent => match default {
                        Some(default) => parts.push(Part::Literal(default)),
                        None => {
                            log.missing(key);
                            outcome_missing = true;
                        }
                    },
                    Lookup::Unknown => {
                        log.unknown(key);
                        outcome_unknown = true;
                    }
                },
            }
        }

        if outcome_missing {
            Resolved::Missing
        } else if outcome_unknown {
            Resolved::Unknown
        } else {
            Resolved::Parts(parts)
        }
    }

    /// Resolves and joins the parts into plain text, for equality operators.
    pub fn resolve_text<'a>(&'a self, context: &'a Context, log: &mut KeyLog) -> Result<std::borrow::Cow<'a, str>, Resolved<'static>> {
        if let Some(text) = self.static_text() {
            return Ok(std::borrow::Cow::Borrowed(text));
        }
        match self.resolve(context, log) {
            Resolved::Parts(parts) => Ok(std::borrow::Cow::Owned(
                parts
                    .iter()
                    .map(|part| match part {
                        Part::Pattern(text) | Part::Literal(text) => *text,
                    })
                    .collect(),
            )),
            Resolved::Missing => Err(Resolved::Missing),
            Resolved::Unknown => Err(Resolved::Unknown),
        }
    }
}

/// Splits at `${…}`. An opening `${` without a closing `}` stays text.
fn split_variables(raw: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        text.push_str(&rest[..start]);
        let inner = &rest[start + 2..start + 2 + length];
        rest = &rest[start + 2 + length + 1..];

        match inner {
            "*" | "?" | "$" => {
                flush(&mut segments, &mut text);
                segments.push(Segment::Literal(inner.into()));
            }
            _ => {
                flush(&mut segments, &mut text);
                segments.push(parse_variable(inner));
            }
        }
    }
    text.push_str(rest);
    flush(&mut segments, &mut text);
    segments
}

fn flush(segments: &mut Vec<Segment>, text: &mut String) {
    if !text.is_empty() {
        segments.push(Segment::Text(std::mem::take(text).into_boxed_str()));
    }
}

/// Parses `key` or `key, 'default'`, with optional whitespace around the comma.
fn parse_variable(inner: &str) -> Segment {
    if let Some((key, default)) = inner.split_once(',') {
        let default = default.trim();
        if let Some(quoted) = default.strip_prefix('\'').and_then(|rest| rest.strip_suffix('\'')) {
            return Segment::Variable { key: key.trim().into(), default: Some(quoted.into()) };
        }
    }
    Segment::Variable { key: inner.trim().into(), default: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(key: &str, default: Option<&str>) -> Segment {
        Segment::Variable { key: key.into(), default: default.map(Into::into) }
    }

    #[test]
    fn split_text_variables_and_escapes() {
        let template = Template::parse("a/${aws:username}/${*}/${aws:x ,  'd e'}", true);
        assert_eq!(
            template,
            Template::Dynamic(Box::new([
                Segment::Text("a/".into()),
                variable("aws:username", None),
                Segment::Text("/".into()),
                Segment::Literal("*".into()),
                Segment::Text("/".into()),
                variable("aws:x", Some("d e")),
            ]))
        );
    }

    #[test]
    fn old_version_keeps_text_literal() {
        let template = Template::parse("a/${aws:username}", false);
        assert_eq!(template.static_text(), Some("a/${aws:username}"));
    }

    #[test]
    fn unclosed_variable_stays_text() {
        let template = Template::parse("a/${aws:username", true);
        assert_eq!(template.static_text(), Some("a/${aws:username"));
    }

    #[test]
    fn resolve_missing_unknown_and_default() {
        let mut context = Context::new();
        context.insert("aws:username", "dana*");
        let mut log = KeyLog::default();

        let present = Template::parse("u/${aws:UserName}", true);
        assert_eq!(present.resolve(&context, &mut log), Resolved::Parts(vec![Part::Pattern("u/"), Part::Literal("dana*")]));

        let missing = Template::parse("u/${aws:PrincipalTag/x}", true);
        assert_eq!(missing.resolve(&context, &mut log), Resolved::Missing);
        assert_eq!(log.missing, vec!["aws:PrincipalTag/x".to_string()]);

        let defaulted = Template::parse("u/${aws:PrincipalTag/x, 'none'}", true);
        assert_eq!(defaulted.resolve(&context, &mut log), Resolved::Parts(vec![Part::Pattern("u/"), Part::Literal("none")]));

        let unknown_context = Context::new().with_unknown_keys(Default::default());
        assert_eq!(missing.resolve(&unknown_context, &mut log), Resolved::Unknown);
        assert_eq!(log.unknown, vec!["aws:PrincipalTag/x".to_string()]);
    }
}
