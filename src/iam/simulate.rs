//! Simulation case files: a request, the policies that apply to it and,
//! optionally, the expected decision. The `simulate` command and the tests
//! read them.
//!
//! A file contains one case object or an array of them. Policies are JSON
//! objects inside the file, so that diagnostics point into it, or strings of
//! plain or URL-encoded JSON as the IAM API returns them.

use std::ops::Range;

use super::{evaluate, parse_policy, parse_policy_text, Context, Decision, Evaluation, Policy, PolicyLevel, PolicySet, PolicyType, Request};
use crate::finding::Finding;
use crate::json::{self, Node, Value};
use crate::source::SourceText;

const CASE_KEYS: [&str; 10] = [
    "name",
    "description",
    "request",
    "identityPolicies",
    "resourcePolicy",
    "permissionBoundaries",
    "sessionPolicy",
    "serviceControlPolicies",
    "resourceControlPolicies",
    "expected",
];
const REQUEST_KEYS: [&str; 5] = ["principal", "action", "resource", "resourceAccount", "context"];

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub span: Range<usize>,
    pub request: Request,
    pub policies: PolicySet,
    pub expected: Option<Decision>,
}

impl Case {
    pub fn evaluate(&self) -> Evaluation {
        evaluate(&self.policies, &self.request)
    }
}

/// The cases of one file, and whether the file held an array.
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub cases: Vec<Case>,
    pub is_array: bool,
}

/// Parses a case file. Every error is located in `source`.
pub fn load_cases(source: &SourceText) -> Result<CaseFile, Finding> {
    let root = json::parse(source.text()).map_err(|error| super::policy::syntax_error(&error, source))?;
    match &root.value {
        Value::Array(items) if items.is_empty() => {
            // An empty regression file would pass CI without testing anything.
            Err(input_error(source, root.span.clone(), "the case file holds no cases", "empty array"))
        }
        Value::Array(items) => {
            let cases = items.iter().enumerate().map(|(index, item)| parse_case(item, index, source)).collect::<Result<_, _>>()?;
            Ok(CaseFile { cases, is_array: true })
        }
        Value::Object(_) => Ok(CaseFile { cases: vec![parse_case(&root, 0, source)?], is_array: false }),
        _ => Err(input_error(source, root.span.clone(), format!("a case file must contain a case object or an array of them, found {}", root.type_name()), "not a case")),
    }
}

fn input_error(source: &SourceText, span: Range<usize>, message: impl Into<String>, label: &str) -> Finding {
    Finding::error("input::invalid", message)
        .with_label_in(source, span, label)
        .with_help("a case is {\"name\", \"request\": {\"principal\", \"action\", \"resource\"}, \"identityPolicies\": [...], \"expected\": {\"decision\"}}")
}

fn check_keys(node: &Node, allowed: &[&str], object_kind: &str, source: &SourceText) -> Result<(), Finding> {
    for member in node.as_object().unwrap_or_default() {
        if !allowed.contains(&member.key.as_str()) {
            return Err(Finding::error("input::invalid", format!("unknown {object_kind} field `{}`", member.key))
                .with_label_in(source, member.key_span.clone(), "unknown field")
                .with_help(format!("a {object_kind} has these fields: {}", allowed.join(", "))));
        }
    }
    Ok(())
}

fn required<'a>(node: &'a Node, key: &str, object_kind: &str, source: &SourceText) -> Result<&'a Node, Finding> {
    node.get(key).ok_or_else(|| input_error(source, node.span.clone(), format!("the {object_kind} has no `{key}`"), "incomplete"))
}

fn string_field(node: &Node, key: &str, object_kind: &str, source: &SourceText) -> Result<String, Finding> {
    let value = required(node, key, object_kind, source)?;
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| input_error(source, value.span.clone(), format!("`{key}` must be a string, found {}", value.type_name()), "not a string"))
}

fn parse_case(node: &Node, index: usize, source: &SourceText) -> Result<Case, Finding> {
    if node.as_object().is_none() {
        return Err(input_error(source, node.span.clone(), format!("case {} must be an object, found {}", index + 1, node.type_name()), "not a case"));
    }
    check_keys(node, &CASE_KEYS, "case", source)?;

    let name = match node.get("name") {
        Some(_) => string_field(node, "name", "case", source)?,
        None => format!("case {}", index + 1),
    };
    let request = parse_request(required(node, "request", "case", source)?, source)?;

    let mut policies = PolicySet::default();
    if let Some(list) = node.get("identityPolicies") {
        policies.identity = policy_list(list, "identityPolicies", PolicyType::Identity, source)?;
    }
    if let Some(policy) = node.get("resourcePolicy") {
        policies.resource = Some(parse_one(policy, "resourcePolicy", PolicyType::ResourceBased, source)?);
    }
    if let Some(list) = node.get("permissionBoundaries") {
        policies.boundaries = policy_list(list, "permissionBoundaries", PolicyType::PermissionsBoundary, source)?;
    }
    if let Some(policy) = node.get("sessionPolicy") {
        policies.session = Some(parse_one(policy, "sessionPolicy", PolicyType::SessionPolicy, source)?);
    }
    if let Some(levels) = node.get("serviceControlPolicies") {
        policies.scps = parse_levels(levels, "serviceControlPolicies", PolicyType::ServiceControlPolicy, source)?;
    }
    if let Some(levels) = node.get("resourceControlPolicies") {
        policies.rcps = parse_levels(levels, "resourceControlPolicies", PolicyType::ResourceControlPolicy, source)?;
    }

    let expected = match node.get("expected") {
        None => None,
        Some(expected) => {
            let decision = required(expected, "decision", "expected outcome", source)?;
            Some(match decision.as_str() {
                Some("Allowed") => Decision::Allowed,
                Some("ImplicitlyDenied") => Decision::ImplicitlyDenied,
                Some("ExplicitlyDenied") => Decision::ExplicitlyDenied,
                _ => {
                    return Err(Finding::error("input::invalid", "invalid expected decision")
                        .with_label_in(source, decision.span.clone(), "not a decision")
                        .with_help("write \"Allowed\", \"ImplicitlyDenied\" or \"ExplicitlyDenied\""));
                }
            })
        }
    };

    Ok(Case { name, span: node.span.clone(), request, policies, expected })
}

fn parse_request(node: &Node, source: &SourceText) -> Result<Request, Finding> {
    if node.as_object().is_none() {
        return Err(input_error(source, node.span.clone(), format!("`request` must be an object, found {}", node.type_name()), "not an object"));
    }
    check_keys(node, &REQUEST_KEYS, "request", source)?;

    let resource_account = match node.get("resourceAccount") {
        Some(_) => Some(string_field(node, "resourceAccount", "request", source)?),
        None => None,
    };
    let mut context = Context::new();
    if let Some(entries) = node.get("context") {
        let Some(members) = entries.as_object() else {
            return Err(input_error(source, entries.span.clone(), format!("`context` must be an object, found {}", entries.type_name()), "not an object"));
        };
        for member in members {
            let values = match &member.value.value {
                Value::Array(items) => items.iter().map(|item| context_value(item, source)).collect::<Result<Vec<_>, _>>()?,
                _ => vec![context_value(&member.value, source)?],
            };
            context.insert_values(&member.key, values);
        }
    }

    Ok(Request {
        principal: string_field(node, "principal", "request", source)?,
        action: string_field(node, "action", "request", source)?,
        resource: string_field(node, "resource", "request", source)?,
        resource_account,
        context,
    })
}

/// Reads a context value: a string, or a boolean or number as written.
fn context_value(node: &Node, source: &SourceText) -> Result<String, Finding> {
    match &node.value {
        Value::String(text) => Ok(text.clone()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Number(raw) => Ok(raw.clone()),
        _ => Err(input_error(
            source,
            node.span.clone(),
            format!("a context value must be a string, boolean or number, found {}", node.type_name()),
            "not a value",
        )),
    }
}

fn policy_list(node: &Node, field: &str, policy_type: PolicyType, source: &SourceText) -> Result<Vec<Policy>, Finding> {
    let Some(items) = node.as_array() else {
        return Err(input_error(source, node.span.clone(), format!("`{field}` must be an array of policies, found {}", node.type_name()), "not an array"));
    };
    items.iter().enumerate().map(|(index, item)| parse_one(item, &format!("{field}[{index}]"), policy_type, source)).collect()
}

fn parse_one(node: &Node, name: &str, policy_type: PolicyType, source: &SourceText) -> Result<Policy, Finding> {
    let policy = match node.as_str() {
        Some(text) => parse_policy_text(name, text, &format!("{} ({name})", source.name()))?,
        None => parse_policy(name, node, source)?,
    };
    policy.check_for(policy_type)?;
    Ok(policy)
}

fn parse_levels(node: &Node, field: &str, policy_type: PolicyType, source: &SourceText) -> Result<Vec<PolicyLevel>, Finding> {
    let Some(items) = node.as_array() else {
        return Err(input_error(source, node.span.clone(), format!("`{field}` must be an array of levels, found {}", node.type_name()), "not an array"));
    };
    let mut levels = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if item.as_object().is_none() {
            return Err(input_error(source, item.span.clone(), format!("a level must be an object, found {}", item.type_name()), "not a level"));
        }
        check_keys(item, &["level", "policies"], "level", source)?;
        let name = match item.get("level") {
            Some(_) => string_field(item, "level", "level", source)?,
            None => format!("level {}", index + 1),
        };
        let list = required(item, "policies", "level", source)?;
        let policies = policy_list(list, &format!("{field}[{name}]"), policy_type, source)?;
        levels.push(PolicyLevel { name, policies });
    }
    Ok(levels)
}
