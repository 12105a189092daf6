//! Wildcard matching compared against the `regex` crate as an oracle, and
//! the ARN part rules of `resource_matches` and `arn_like` compared against a
//! direct restatement of them.

use proptest::prelude::*;
use regex::Regex;
use rekognition_preflight::iam::matching::{Part, Pattern, action_matches, arn_like, resource_matches};

/// Translates pattern parts into an anchored regex: `*` becomes `.*`, `?`
/// becomes `.`, and everything else, including literal parts, is escaped.
fn to_regex(parts: &[Part<'_>], ignore_case: bool) -> Regex {
    let mut source = String::from(if ignore_case { "(?si)^" } else { "(?s)^" });
    for part in parts {
        match part {
            Part::Pattern(text) => {
                for c in text.chars() {
                    match c {
                        '*' => source.push_str(".*"),
                        '?' => source.push('.'),
                        other => source.push_str(&regex::escape(&other.to_string())),
                    }
                }
            }
            Part::Literal(text) => source.push_str(&regex::escape(text)),
        }
    }
    source.push('$');
    Regex::new(&source).unwrap()
}

fn pattern_text() -> impl Strategy<Value = String> {
    "[abé*?:/]{0,12}"
}

/// Texts over the pattern alphabet plus non-ASCII characters, so that both
/// the byte and the char form of the matcher run.
fn any_text() -> impl Strategy<Value = String> {
    "[ab:/é🙂]{0,16}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn matches_agrees_with_regex(pattern in pattern_text(), text in any_text()) {
        let expected = to_regex(&[Part::Pattern(&pattern)], false).is_match(&text);
        prop_assert_eq!(Pattern::parse(&pattern).matches(&text), expected, "pattern {:?} text {:?}", pattern, text);
    }

    #[test]
    fn ignore_case_agrees_with_regex(pattern in "[abAB*?:/]{0,12}", text in "[abAB:/]{0,16}") {
        let expected = to_regex(&[Part::Pattern(&pattern)], true).is_match(&text);
        prop_assert_eq!(Pattern::parse(&pattern).matches_ignore_case(&text), expected, "pattern {:?} text {:?}", pattern, text);
    }

    #[test]
    fn literal_parts_agree_with_regex(
        first in pattern_text(),
        literal in pattern_text(),
        last in pattern_text(),
        text in "[ab*?:/é]{0,16}",
    ) {
        let parts = [Part::Pattern(&first), Part::Literal(&literal), Part::Pattern(&last)];
        let expected = to_regex(&parts, false).is_match(&text);
        prop_assert_eq!(Pattern::from_parts(&parts).matches(&text), expected, "parts {:?} text {:?}", parts, text);
    }

    #[test]
    fn action_matches_agrees_with_pattern(pattern in "[aAé*?:]{0,6}", text in "[aAé:]{0,6}") {
        let expected = Pattern::parse(&pattern).matches_ignore_case(&text);
        prop_assert_eq!(action_matches(&pattern, &text), expected, "pattern {:?} text {:?}", pattern, text);
    }

    #[test]
    fn arn_parts_agree_with_restatement(pattern in "[a*?:]{0,14}", text in "[ab:]{0,14}") {
        let compiled = Pattern::parse(&pattern);
        prop_assert_eq!(resource_matches(&compiled, &text), reference_segments_match(&pattern, &text, true), "resource {:?} {:?}", pattern, text);
        prop_assert_eq!(arn_like(&compiled, &text), reference_segments_match(&pattern, &text, false), "arn_like {:?} {:?}", pattern, text);
    }
}

/// Restates the ARN part rules with allocations and the regex oracle:
/// split both sides into at most six parts at `:`, match part by part, and
/// for resources let a trailing `*` in a shorter pattern cover the rest.
/// `*` alone matches everything in both cases.
fn reference_segments_match(pattern: &str, text: &str, is_resource: bool) -> bool {
    if pattern == "*" {
        return true;
    }
    let patterns: Vec<&str> = pattern.splitn(6, ':').collect();
    let values: Vec<&str> = text.splitn(6, ':').collect();
    let part_matches = |pattern: &str, value: &str| to_regex(&[Part::Pattern(pattern)], false).is_match(value);

    if patterns.len() == values.len() {
        return patterns.iter().zip(&values).all(|(pattern, value)| part_matches(pattern, value));
    }
    if !is_resource || patterns.len() > values.len() {
        return false;
    }
    let (last, leading) = patterns.split_last().unwrap();
    if !last.ends_with('*') {
        return false;
    }
    let leading_match = leading.iter().zip(&values).all(|(pattern, value)| part_matches(pattern, value));
    leading_match && part_matches(last, &values[leading.len()..].join(":"))
}

#[test]
fn regex_translation_escapes_literals() {
    let regex = to_regex(&[Part::Pattern("a.b*"), Part::Literal("*?")], false);
    assert!(regex.is_match("a.bxx*?"));
    assert!(!regex.is_match("axbxx*?"));
    assert!(!regex.is_match("a.bxxab"));
}
