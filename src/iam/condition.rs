//! Condition operators: parsing a `Condition` block and evaluating it in
//! three-valued logic against the request context.
//!
//! Several operators in one block AND, several keys under one operator AND,
//! and several values of one key OR. Negated operators (`StringNotEquals`,
//! `NotIpAddress`, …) are NOR over the values: they hold when the context
//! value matches none of them.

use std::ops::Range;

use super::context::{Context, Lookup};
use super::matching::{self, Pattern};
use super::values::{self, IpNetwork, Timestamp};
use super::policy::OneOrMore;
use super::variables::{KeyLog, Resolved, Template};
use super::Truth;
use crate::finding::Finding;
use crate::json::{self, Node, Value};
use crate::source::SourceText;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

use OperatorKind as K;

/// Every operator with its name as IAM spells it.
pub const OPERATORS: [(&str, OperatorKind); 27] = [
    ("StringEquals", K::StringEquals),
    ("StringNotEquals", K::StringNotEquals),
    ("StringEqualsIgnoreCase", K::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", K::StringNotEqualsIgnoreCase),
    ("StringLike", K::StringLike),
    ("StringNotLike", K::StringNotLike),
    ("NumericEquals", K::NumericEquals),
    ("NumericNotEquals", K::NumericNotEquals),
    ("NumericLessThan", K::NumericLessThan),
    ("NumericLessThanEquals", K::NumericLessThanEquals),
    ("NumericGreaterThan", K::NumericGreaterThan),
    ("NumericGreaterThanEquals", K::NumericGreaterThanEquals),
    ("DateEquals", K::DateEquals),
    ("DateNotEquals", K::DateNotEquals),
    ("DateLessThan", K::DateLessThan),
    ("DateLessThanEquals", K::DateLessThanEquals),
    ("DateGreaterThan", K::DateGreaterThan),
    ("DateGreaterThanEquals", K::DateGreaterThanEquals),
    ("Bool", K::Bool),
    ("BinaryEquals", K::BinaryEquals),
    ("IpAddress", K::IpAddress),
    ("NotIpAddress", K::NotIpAddress),
    ("ArnEquals", K::ArnEquals),
    ("ArnLike", K::ArnLike),
    ("ArnNotEquals", K::ArnNotEquals),
    ("ArnNotLike", K::ArnNotLike),
    ("Null", K::Null),
];

impl OperatorKind {
    /// Tells whether the operator holds when the value matches none of the policy values.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            K::StringNotEquals
                | K::StringNotEqualsIgnoreCase
                | K::StringNotLike
                | K::NumericNotEquals
                | K::DateNotEquals
                | K::NotIpAddress
                | K::ArnNotEquals
                | K::ArnNotLike
        )
    }

    /// Tells whether `${…}` variables are substituted in the operator's values.
    fn takes_variables(self) -> bool {
        matches!(
            self,
            K::StringEquals
                | K::StringNotEquals
                | K::StringEqualsIgnoreCase
                | K::StringNotEqualsIgnoreCase
                | K::StringLike
                | K::StringNotLike
                | K::ArnEquals
                | K::ArnLike
                | K::ArnNotEquals
                | K::ArnNotLike
        )
    }
}

/// `ForAllValues:` and `ForAnyValue:` qualifiers for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub set: SetQualifier,
    pub if_exists: bool,
}

impl Operator {
    /// Spells the operator as IAM does, such as `ForAnyValue:StringLikeIfExists`.
    pub fn name(&self) -> String {
        let prefix = match self.set {
            SetQualifier::Single => "",
            SetQualifier::ForAllValues => "ForAllValues:",
            SetQualifier::ForAnyValue => "ForAnyValue:",
        };
        let base = OPERATORS.iter().find(|(_, kind)| *kind == self.kind).map_or("", |(name, _)| *name);
        let suffix = if self.if_exists { "IfExists" } else { "" };
        format!("{prefix}{base}{suffix}")
    }

    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists`.
    /// Operator names are case-sensitive.
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, rest)
        } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, rest)
        } else {
            (SetQualifier::Single, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let kind = OPERATORS.iter().find(|(operator, _)| *operator == base)?.1;
        // IAM documents IfExists for every operator except Null, which
        // already tests for presence. Set qualifiers on Null have no
        // documented meaning either, so both are rejected.
        if kind == K::Null && (if_exists || set != SetQualifier::Single) {
            return None;
        }
        Some(Operator { kind, set, if_exists })
    }
}

/// A policy value, parsed for its operator.
#[derive(Debug, Clone)]
pub enum ConditionValue {
    /// String and ARN operators; may contain variables.
    Text(Template),
    Number(f64),
    Date(Timestamp),
    Ip(IpNetwork),
    Bool(bool),
    Binary(Vec<u8>),
}

/// One operator-key pair of a `Condition` block, with its values.
#[derive(Debug, Clone)]
pub struct Clause {
    pub operator: Operator,
    pub operator_span: Range<usize>,
    pub key: String,
    pub key_span: Range<usize>,
    pub values: OneOrMore<ConditionValue>,
    pub values_span: Range<usize>,
}

/// Parses the value of a `Condition` element into clauses.
pub fn parse_block(node: &Node, variables: bool, source: &SourceText) -> Result<Vec<Clause>, Finding> {
    let Some(operators) = node.as_object() else {
        return Err(super::policy::invalid_element(
            source,
            node.span.clone(),
            format!("`Condition` must be an object, found {}", node.type_name()),
            "not an object",
            r#"write conditions as {"Operator": {"key": "value"}}"#,
        ));
    };

    let mut clauses = Vec::new();
    for member in operators {
        let Some(operator) = Operator::parse(&member.key) else {
            return Err(unknown_operator(source, member));
        };
        let Some(keys) = member.value.as_object() else {
            return Err(super::policy::invalid_element(
                source,
                member.value.span.clone(),
                format!("the value of condition operator `{}` must be an object, found {}", member.key, member.value.type_name()),
                "not an object",
                r#"map each condition key to its values, as in {"aws:RequestedRegion": "us-east-1"}"#,
            ));
        };
        for key in keys {
            let values = parse_values(operator, &member.key, &key.value, variables, source)?;
            clauses.push(Clause {
                operator,
                operator_span: member.key_span.clone(),
                key: key.key.clone(),
                key_span: key.key_span.clone(),
                values,
                values_span: key.value.span.clone(),
            });
        }
    }
    Ok(clauses)
}

fn unknown_operator(source: &SourceText, member: &json::Member) -> Finding {
    let name = member.key.as_str();
    let rest = name.strip_prefix("ForAllValues:").or_else(|| name.strip_prefix("ForAnyValue:")).unwrap_or(name);
    let base = rest.strip_suffix("IfExists").unwrap_or(rest);
    if base == "Null" {
        return Finding::error("policy::invalid", format!("invalid condition operator `{name}`"))
            .with_label_in(source, member.key_span.clone(), "`Null` takes no qualifier")
            .with_help("write plain `Null`: it already tests whether the key is present, so `IfExists`, `ForAllValues:` and `ForAnyValue:` do not apply");
    }

    let finding = Finding::error("policy::invalid", format!("unknown condition operator `{name}`"))
        .with_label_in(source, member.key_span.clone(), "not a condition operator");
    match closest_operator(name) {
        Some(suggestion) => finding.with_help(format!("did you mean `{suggestion}`?")),
        None => finding.with_help(format!(
            "use one of the IAM condition operators, such as {}",
            OPERATORS.iter().take(6).map(|(operator, _)| format!("`{operator}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Finds the valid operator name, with any qualifier and `IfExists`, that is
/// closest to `name`, if it is at most three edits away.
fn closest_operator(name: &str) -> Option<String> {
    let lowercase_name = name.to_ascii_lowercase();
    let mut best: Option<(usize, String)> = None;
    for prefix in ["", "ForAllValues:", "ForAnyValue:"] {
        for (operator, _) in &OPERATORS {
            for suffix in ["", "IfExists"] {
                let candidate = format!("{prefix}{operator}{suffix}");
                if Operator::parse(&candidate).is_none() {
                    continue;
                }
                let distance = crate::suggest::edit_distance(&lowercase_name, &candidate.to_ascii_lowercase());
                if best.as_ref().is_none_or(|(smallest, _)| distance < *smallest) {
                    best = Some((distance, candidate));
                }
            }
        }
    }
    best.filter(|(distance, _)| *distance <= 3).map(|(_, candidate)| candidate)
}

fn parse_values(operator: Operator, name: &str, node: &Node, variables: bool, source: &SourceText) -> Result<OneOrMore<ConditionValue>, Finding> {
    let items: &[Node] = match &node.value {
        Value::Array(items) => items,
        _ => std::slice::from_ref(node),
    };
    let values = items.iter().map(|item| parse_value(operator, name, item, variables, source)).collect::<Result<Vec<_>, _>>()?;
    OneOrMore::collect(values).ok_or_else(|| {
        super::policy::invalid_element(
            source,
            node.span.clone(),
            "a condition key needs at least one value",
            "empty list",
            "add a value, or remove the key",
        )
    })
}

fn parse_value(operator: Operator, name: &str, node: &Node, variables: bool, source: &SourceText) -> Result<ConditionValue, Finding> {
    let text = match &node.value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(raw) => raw.clone(),
        _ => {
            return Err(super::policy::invalid_element(
                source,
                node.span.clone(),
                format!("a condition value must be a string, boolean or number, found {}", node.type_name()),
                "not a string",
                "write the value as a string, or a list of strings",
            ));
        }
    };

    let invalid = |expected: &str, example: &str| {
        super::policy::invalid_element(
            source,
            node.span.clone(),
            format!("`{text}` is not {expected}, as operator `{name}` requires"),
            format!("not {expected}"),
            format!("write {expected}, for example `{example}`"),
        )
    };
    let value = match operator.kind {
        kind if kind.takes_variables() => ConditionValue::Text(Template::parse(&text, variables)),
        K::NumericEquals | K::NumericNotEquals | K::NumericLessThan | K::NumericLessThanEquals | K::NumericGreaterThan | K::NumericGreaterThanEquals => {
            ConditionValue::Number(parse_number(&text).ok_or_else(|| invalid("a number", "600"))?)
        }
        K::DateEquals | K::DateNotEquals | K::DateLessThan | K::DateLessThanEquals | K::DateGreaterThan | K::DateGreaterThanEquals => {
            ConditionValue::Date(values::parse_date(&text).ok_or_else(|| invalid("an ISO 8601 date or epoch seconds", "2026-12-04T12:00:00Z"))?)
        }
        K::IpAddress | K::NotIpAddress => {
            ConditionValue::Ip(IpNetwork::parse(&text).ok_or_else(|| invalid("an IP address or CIDR range", "203.0.113.0/24"))?)
        }
        K::Bool | K::Null => ConditionValue::Bool(parse_bool(&text).ok_or_else(|| invalid("`true` or `false`", "true"))?),
        K::BinaryEquals => ConditionValue::Binary(values::decode_base64(&text).ok_or_else(|| invalid("base64", "QmluYXJ5VmFsdWU="))?),
        _ => ConditionValue::Text(Template::parse(&text, false)),
    };
    Ok(value)
}

fn parse_number(text: &str) -> Option<f64> {
    let number: f64 = text.trim().parse().ok()?;
    number.is_finite().then_some(number)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Evaluates one clause. Absent keys go to `log.missing`, unknown ones to `log.unknown`.
pub fn evaluate_clause(clause: &Clause, context: &Context, log: &mut KeyLog) -> Truth {
    let operator = clause.operator;
    let lookup = context.get(&clause.key);

    if operator.kind == K::Null {
        return match lookup {
            Lookup::Unknown => {
                log.unknown(&clause.key);
                Truth::Unknown
            }
            // `"Null": {"key": "true"}` holds when the key is absent.
            lookup => {
                let absent = !matches!(lookup, Lookup::Present(values) if !values.is_empty());
                if absent {
                    log.missing(&clause.key);
                }
                Truth::from(clause.values.iter().any(|value| matches!(value, ConditionValue::Bool(flag) if *flag == absent)))
            }
        };
    }

    let values = match lookup {
        Lookup::Unknown => {
            log.unknown(&clause.key);
            return Truth::Unknown;
        }
        Lookup::Absent => {
            log.missing(&clause.key);
            return absent_truth(operator);
        }
        Lookup::Present([]) => return absent_truth(operator),
        Lookup::Present(values) => values,
    };

    let per_value = values.iter().map(|value| value_truth(clause, value, context, log));
    match operator.set {
        // NOTE: a multivalued key under a single-valued operator holds when
        // any of its values does. IAM documents no other meaning for it.
        SetQualifier::Single | SetQualifier::ForAnyValue => per_value.fold(Truth::False, Truth::or),
        SetQualifier::ForAllValues => per_value.fold(Truth::True, Truth::and),
    }
}

/// Evaluates an operator whose key is absent or has no values.
fn absent_truth(operator: Operator) -> Truth {
    if operator.if_exists {
        return Truth::True;
    }
    match operator.set {
        SetQualifier::ForAllValues => Truth::True,
        SetQualifier::ForAnyValue => Truth::False,
        SetQualifier::Single => Truth::from(operator.kind.is_negated()),
    }
}

/// Tests one context value against the clause: some policy value must match
/// it, or for a negated operator, none may.
fn value_truth(clause: &Clause, context_value: &str, context: &Context, log: &mut KeyLog) -> Truth {
    let any_match = clause
        .values
        .iter()
        .map(|policy_value| value_matches(clause.operator.kind, policy_value, context_value, context, log))
        .fold(Truth::False, Truth::or);
    if clause.operator.kind.is_negated() { any_match.not() } else { any_match }
}

/// Compares one policy value with one context value with the positive form
/// of the operator (`StringEquals` for `StringNotEquals`).
fn value_matches(kind: OperatorKind, policy_value: &ConditionValue, context_value: &str, context: &Context, log: &mut KeyLog) -> Truth {
    match policy_value {
        ConditionValue::Text(template) => text_matches(kind, template, context_value, context, log),
        ConditionValue::Number(expected) => match parse_number(context_value) {
            Some(actual) => Truth::from(compare(kind, actual.partial_cmp(expected))),
            None => Truth::False,
        },
        ConditionValue::Date(expected) => match values::parse_date(context_value) {
            Some(actual) => Truth::from(compare(kind, Some(actual.cmp(expected)))),
            None => Truth::False,
        },
        ConditionValue::Ip(network) => match IpNetwork::parse(context_value) {
            // A context value is one address; a range there matches nothing.
            Some(actual) if actual.prefix == if actual.address.is_ipv4() { 32 } else { 128 } => Truth::from(network.contains(actual.address)),
            _ => Truth::False,
        },
        ConditionValue::Bool(expected) => Truth::from(parse_bool(context_value) == Some(*expected)),
        ConditionValue::Binary(expected) => match values::decode_base64(context_value) {
            Some(actual) => Truth::from(actual == *expected),
            None => Truth::False,
        },
    }
}

fn compare(kind: OperatorKind, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(ordering) = ordering else {
        return false;
    };
    match kind {
        K::NumericEquals | K::NumericNotEquals | K::DateEquals | K::DateNotEquals => ordering == Equal,
        K::NumericLessThan | K::DateLessThan => ordering == Less,
        K::NumericLessThanEquals | K::DateLessThanEquals => ordering != Greater,
        K::NumericGreaterThan | K::DateGreaterThan => ordering == Greater,
        K::NumericGreaterThanEquals | K::DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

fn text_matches(kind: OperatorKind, template: &Template, context_value: &str, context: &Context, log: &mut KeyLog) -> Truth {
    match kind {
        K::StringLike | K::StringNotLike | K::ArnEquals | K::ArnLike | K::ArnNotEquals | K::ArnNotLike => {
            let matches = |pattern: &Pattern| match kind {
                K::StringLike | K::StringNotLike => pattern.matches(context_value),
                // ArnEquals takes wildcards too, as the IAM documentation states.
                _ => matching::arn_like(pattern, context_value),
            };
            match template.pattern(context, log) {
                Ok(pattern) => Truth::from(matches(&pattern)),
                Err(Resolved::Unknown) => Truth::Unknown,
                Err(_) => Truth::False,
            }
        }
        _ => {
            let expected = match template.resolve_text(context, log) {
                Ok(expected) => expected,
                Err(Resolved::Unknown) => return Truth::Unknown,
                Err(_) => return Truth::False,
            };
            let equal = match kind {
                K::StringEqualsIgnoreCase | K::StringNotEqualsIgnoreCase => expected.to_lowercase() == context_value.to_lowercase(),
                _ => *expected == *context_value,
            };
            Truth::from(equal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_parse_qualifiers() {
        assert_eq!(
            Operator::parse("ForAnyValue:StringLikeIfExists"),
            Some(Operator { kind: K::StringLike, set: SetQualifier::ForAnyValue, if_exists: true })
        );
        assert_eq!(Operator::parse("stringequals"), None);
        assert_eq!(Operator::parse("NullIfExists"), None);
        assert_eq!(Operator::parse("StringEqualz"), None);
    }

    #[test]
    fn null_with_qualifier_is_explained() {
        let source = SourceText::new("test.json", r#"{"NullIfExists": {"aws:TagKeys": "true"}}"#);
        let node = json::parse(source.text()).unwrap();
        let finding = parse_block(&node, true, &source).unwrap_err();
        assert_eq!(finding.message, "invalid condition operator `NullIfExists`");
        assert!(finding.help.unwrap_or_default().contains("plain `Null`"));
    }

    #[test]
    fn unknown_operator_suggests_closest() {
        let source = SourceText::new("test.json", r#"{"ForAnyValue:StringLikeIfExist": {"aws:TagKeys": "a*"}}"#);
        let node = json::parse(source.text()).unwrap();
        let finding = parse_block(&node, true, &source).unwrap_err();
        assert_eq!(finding.help.as_deref(), Some("did you mean `ForAnyValue:StringLikeIfExists`?"));
    }

    #[test]
    fn operator_names_round_trip() {
        for prefix in ["", "ForAllValues:", "ForAnyValue:"] {
            for (base, _) in OPERATORS {
                for suffix in ["", "IfExists"] {
                    let name = format!("{prefix}{base}{suffix}");
                    if let Some(operator) = Operator::parse(&name) {
                        assert_eq!(operator.name(), name);
                    }
                }
            }
        }
    }

}
