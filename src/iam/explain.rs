//! Renders an evaluation as a diagnostic that underlines the statements
//! that decided it and suggests what to change.

use super::evaluate::{Evaluation, MatchedStatement};
use super::{Decision, Effect, PolicyType, Request};
use crate::finding::Finding;

/// Builds the diagnostic for `evaluation`: an error for a denial, advice for
/// an allowed request.
pub fn explain(evaluation: &Evaluation, request: &Request) -> Finding {
    let action = &request.action;
    let resource = &request.resource;
    let blocked_by = evaluation.blocked_by;

    let (code, message) = match evaluation.decision {
        Decision::Allowed => ("iam::allowed", format!("`{}` is allowed to call `{action}` on `{resource}`", request.principal)),
        Decision::ExplicitlyDenied => (
            "iam::explicitly-denied",
            format!("`{action}` on `{resource}` is explicitly denied by {}", article(blocked_by.unwrap_or(PolicyType::Identity))),
        ),
        Decision::ImplicitlyDenied => ("iam::implicitly-denied", implicit_message(evaluation, request)),
    };
    let mut finding = Finding::error(code, message);
    if evaluation.decision == Decision::Allowed {
        finding = finding.with_severity(miette::Severity::Advice);
    }

    for statement in &evaluation.matched {
        let verb = match (statement.effect, statement.depends_on_unknown) {
            (Effect::Deny, false) => "matches",
            (Effect::Deny, true) => "may match, depending on unknown context keys",
            (Effect::Allow, _) => "allows it",
        };
        finding = finding.with_label_in(&statement.source, statement.span.clone(), format!("{} {verb}", describe(statement)));
    }
    for near_miss in &evaluation.near_misses {
        let text = format!("{} matches the action, but {}", describe(&near_miss.statement), near_miss.reason);
        finding = finding.with_label_in(&near_miss.statement.source, near_miss.span.clone(), text);
    }
    if evaluation.near_misses.is_empty() {
        for policy in &evaluation.blocking_policies {
            let text = format!("no statement of {} `{}` allows `{action}` on this resource", policy.policy_type, policy.name);
            finding = finding.with_label_in(&policy.source, policy.span.clone(), text);
        }
    }

    let help = help_lines(evaluation, request);
    if !help.is_empty() {
        finding = finding.with_help(help.join("\n"));
    }
    finding
}

fn article(policy_type: PolicyType) -> String {
    match policy_type {
        PolicyType::Identity => "an identity-based policy".to_string(),
        other => format!("a {other}"),
    }
}

/// Names a statement as "this Deny statement (Sid `X`, statement 2 of …)".
fn describe(statement: &MatchedStatement) -> String {
    let effect = match statement.effect {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    };
    let sid = statement.sid.as_ref().map(|sid| format!("Sid `{sid}`, ")).unwrap_or_default();
    let level = statement.level.as_ref().map(|level| format!(" at `{level}`")).unwrap_or_default();
    format!(
        "this {effect} statement ({sid}statement {} of {} `{}`{level})",
        statement.index + 1,
        short_type(statement.policy_type),
        statement.policy
    )
}

fn short_type(policy_type: PolicyType) -> &'static str {
    match policy_type {
        PolicyType::Identity => "policy",
        PolicyType::ResourceBased => "resource policy",
        PolicyType::PermissionsBoundary => "permissions boundary",
        PolicyType::SessionPolicy => "session policy",
        PolicyType::ServiceControlPolicy => "SCP",
        PolicyType::ResourceControlPolicy => "RCP",
    }
}

fn blocking_level(evaluation: &Evaluation) -> Option<&str> {
    evaluation.blocking_policies.first().and_then(|policy| policy.level.as_deref())
}

fn implicit_message(evaluation: &Evaluation, request: &Request) -> String {
    let action = &request.action;
    let resource = &request.resource;
    let reason = match evaluation.blocked_by {
        Some(policy_type @ (PolicyType::ServiceControlPolicy | PolicyType::ResourceControlPolicy)) => match blocking_level(evaluation) {
            Some(level) => format!("no {policy_type} at `{level}` allows it"),
            None => format!("a level of the organization has no {policy_type}, so nothing there allows it"),
        },
        Some(PolicyType::ResourceBased) => "the resource is in another account and no resource-based policy there allows the principal".to_string(),
        Some(PolicyType::Identity) if evaluation.blocking_policies.is_empty() => "the principal has no identity-based policy that could allow it".to_string(),
        Some(PolicyType::Identity) => "no identity-based policy allows it".to_string(),
        Some(PolicyType::PermissionsBoundary) => "the permissions boundary does not allow it".to_string(),
        Some(PolicyType::SessionPolicy) => "the session policy does not allow it".to_string(),
        None => "no policy allows it".to_string(),
    };
    format!("`{action}` on `{resource}` is implicitly denied: {reason}")
}

fn help_lines(evaluation: &Evaluation, request: &Request) -> Vec<String> {
    let action = &request.action;
    let resource = &request.resource;
    let mut lines = Vec::new();

    match (evaluation.decision, evaluation.blocked_by) {
        (Decision::ExplicitlyDenied, _) => lines.push(
            "an explicit Deny overrides every Allow: narrow or remove the marked statement, or change the request so that it no longer matches".to_string(),
        ),
        (Decision::ImplicitlyDenied, Some(PolicyType::Identity)) => lines.push(format!(
            "add a statement with \"Effect\": \"Allow\", \"Action\": \"{action}\" and a Resource that covers `{resource}` to a policy attached to `{}`",
            request.principal
        )),
        (Decision::ImplicitlyDenied, Some(PolicyType::ResourceBased)) => lines.push(format!(
            "cross-account access needs both sides: the resource's policy must allow `{}` (or its account) to call `{action}`, in addition to the principal's own policy",
            request.principal
        )),
        (Decision::ImplicitlyDenied, Some(PolicyType::PermissionsBoundary)) => {
            lines.push(format!("add `{action}` to the permissions boundary; a boundary only limits what the identity policies grant"));
        }
        (Decision::ImplicitlyDenied, Some(PolicyType::SessionPolicy)) => {
            lines.push(format!("assume the role with a session policy that also allows `{action}`, or with none"));
        }
        (Decision::ImplicitlyDenied, Some(policy_type @ (PolicyType::ServiceControlPolicy | PolicyType::ResourceControlPolicy))) => {
            let level = blocking_level(evaluation).map(|level| format!(" at `{level}`")).unwrap_or_default();
            lines.push(format!(
                "every level of the organization must allow the action: ask the organization's administrators to allow `{action}` in a {policy_type}{level}"
            ));
        }
        _ => {}
    }

    if !evaluation.missing_context_keys.is_empty() {
        lines.push(format!(
            "the request context has no {}, which the conditions reference",
            evaluation.missing_context_keys.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(undecided) = &evaluation.undecided {
        lines.push(format!(
            "the decision assumes the worst for unknown context keys {}; if they resolve in favour of the request it is {}",
            undecided.unknown_keys.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", "),
            undecided.best_case
        ));
    }
    lines.extend(evaluation.notes.iter().cloned());
    lines
}
