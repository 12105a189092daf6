//! Built-in checks: the decisions that CEL cannot express, named from rule
//! files with `check = "…"`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::Outcome;
use crate::facts::principal::{PrincipalFacts, PrincipalKind};
use crate::facts::{DatasetFacts, Facts, Role};
use crate::finding::Finding;
use crate::iam::context::UnknownKeys;
use crate::iam::{self, Context, Decision, Evaluation, PolicySet, Request};

/// The action the tool exists to guard.
pub const DISTRIBUTE_ACTION: &str = "rekognition:DistributeDatasetEntries";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Both ARNs parse as Rekognition dataset ARNs.
    DatasetArns,
    /// The principal may call DistributeDatasetEntries on both datasets.
    PrincipalPermissions,
}

impl Check {
    pub const NAMES: &[&str] = &["dataset-arns", "principal-permissions"];

    pub fn parse(name: &str) -> Option<Check> {
        match name {
            "dataset-arns" => Some(Check::DatasetArns),
            "principal-permissions" => Some(Check::PrincipalPermissions),
            _ => None,
        }
    }
}

/// A built-in check's conclusion.
pub struct CheckResult {
    pub outcome: Outcome,
    pub message: String,
    pub finding: Option<Finding>,
}

/// The permission evaluation of both datasets, or why it could not run.
#[derive(Debug, Clone)]
pub enum PermissionCheck {
    Evaluated { principal: Box<PrincipalFacts>, train: (Request, Evaluation), test: (Request, Evaluation) },
    Unavailable(String),
}

impl PermissionCheck {
    /// Builds the `permissions` variable of the facts model.
    pub fn model(&self) -> Value {
        match self {
            PermissionCheck::Evaluated { train, test, .. } => json!({
                "action": DISTRIBUTE_ACTION,
                "train": evaluation_model(&train.1),
                "test": evaluation_model(&test.1),
            }),
            PermissionCheck::Unavailable(_) => json!({"action": DISTRIBUTE_ACTION}),
        }
    }
}

fn evaluation_model(evaluation: &Evaluation) -> Value {
    let mut model = json!({
        "decision": evaluation.decision.to_string(),
        "decided": evaluation.undecided.is_none(),
        "missing_context_keys": evaluation.missing_context_keys,
    });
    if let Some(undecided) = &evaluation.undecided {
        model["unknown_context_keys"] = json!(undecided.unknown_keys);
    }
    model
}

pub fn run(check: Check, facts: &Facts, permissions: &PermissionCheck) -> CheckResult {
    match check {
        Check::DatasetArns => dataset_arns(facts),
        Check::PrincipalPermissions => principal_permissions(permissions),
    }
}

fn dataset_arns(facts: &Facts) -> CheckResult {
    let mut finding: Option<Finding> = None;
    let mut messages = Vec::new();
    for dataset in [&facts.train, &facts.test] {
        let Err(error) = &dataset.arn else { continue };
        messages.push(format!("{} {}", dataset.role.flag(), error.message));
        let next = error.to_finding("dataset-arn-valid", &dataset.argument);
        finding = Some(match finding {
            None => next,
            Some(mut first) => {
                first.related.push(next);
                first
            }
        });
    }
    match finding {
        None => CheckResult { outcome: Outcome::Pass, message: "both ARNs are Rekognition dataset ARNs".into(), finding: None },
        Some(finding) => CheckResult { outcome: Outcome::Fail, message: messages.join("; "), finding: Some(finding) },
    }
}

/// Evaluates the principal's permission on both datasets. Facts that the
/// tool cannot know (the caller's IP address, MFA) are unknown context
/// keys, so a decision that depends on them is reported as undecided.
pub fn permission_evaluations(facts: &Facts) -> PermissionCheck {
    let principal = match &facts.principal {
        Ok(principal) => principal,
        Err(unresolved) => return PermissionCheck::Unavailable(unresolved.message.clone()),
    };
    let (Ok(_), Ok(_)) = (&facts.train.arn, &facts.test.arn) else {
        return PermissionCheck::Unavailable("a dataset ARN does not parse".into());
    };
    let set = PolicySet {
        identity: principal.policies.identity.clone(),
        boundaries: principal.policies.boundary.iter().cloned().collect(),
        scps: facts.service_control_policies.clone(),
        ..PolicySet::default()
    };
    let evaluate = |dataset: &DatasetFacts| {
        let request = request_for(facts, principal, dataset);
        let evaluation = iam::evaluate(&set, &request);
        (request, evaluation)
    };
    PermissionCheck::Evaluated { principal: Box::new(principal.clone()), train: evaluate(&facts.train), test: evaluate(&facts.test) }
}

fn request_for(facts: &Facts, principal: &PrincipalFacts, dataset: &DatasetFacts) -> Request {
    let arn = dataset.arn.as_ref().ok();
    let mut absent_prefixes = vec!["aws:requesttag/".to_string(), "aws:principaltag/".to_string(), "aws:calledvia".to_string()];
    if dataset.tags.is_some() {
        absent_prefixes.push("aws:resourcetag/".into());
    }
    let mut absent_keys: Vec<String> =
        ["aws:tagkeys", "aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths", "aws:principalservicename", "aws:principalservicenameslist"]
            .map(String::from)
            .to_vec();
    if principal.kind != PrincipalKind::User {
        absent_keys.push("aws:username".into());
    }
    let mut context = Context::new().with_unknown_keys(UnknownKeys { absent_keys, absent_prefixes });

    context.insert("aws:PrincipalArn", principal.identity_arn.clone());
    context.insert("aws:PrincipalAccount", principal.account.clone());
    context.insert("aws:PrincipalType", principal.kind.context_value());
    context.insert("aws:PrincipalIsAWSService", "false");
    context.insert("aws:ViaAWSService", "false");
    context.insert("aws:SecureTransport", "true");
    if let Some(user_id) = &principal.user_id {
        context.insert("aws:userid", user_id.clone());
    }
    if principal.kind == PrincipalKind::User {
        context.insert("aws:username", principal.name.clone());
    }
    for (key, value) in &principal.tags {
        context.insert(&format!("aws:PrincipalTag/{key}"), value.clone());
    }
    if let Some(arn) = arn {
        context.insert("aws:RequestedRegion", arn.arn.region.clone());
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
    context.insert("aws:CurrentTime", format_iso8601(now));
    context.insert("aws:EpochTime", now.to_string());
    for (key, value) in dataset.tags.iter().flatten() {
        context.insert(&format!("aws:ResourceTag/{key}"), value.clone());
    }
    for (key, value) in &facts.context_overrides {
        context.insert(key, value.clone());
    }

    Request {
        principal: principal.caller_arn.clone(),
        action: DISTRIBUTE_ACTION.into(),
        resource: dataset.arn_text().to_string(),
        resource_account: arn.map(|arn| arn.arn.account.clone()),
        context,
    }
}

fn principal_permissions(permissions: &PermissionCheck) -> CheckResult {
    let (principal, evaluations) = match permissions {
        PermissionCheck::Unavailable(reason) => {
            return CheckResult {
                outcome: Outcome::Error,
                message: format!("cannot decide whether the principal may call {DISTRIBUTE_ACTION}: {reason}"),
                finding: None,
            };
        }
        PermissionCheck::Evaluated { principal, train, test } => (principal, [(Role::Train, train), (Role::Test, test)]),
    };

    let denied: Vec<_> = evaluations.iter().filter(|(_, (_, evaluation))| certainly_denied(evaluation)).collect();
    if let Some((role, (request, evaluation))) = denied.first() {
        let message = format!(
            "{} may not call {DISTRIBUTE_ACTION} on the {} dataset: {}{}",
            principal.caller_arn,
            role.key(),
            evaluation.decision,
            deciding_statement(evaluation),
        );
        let mut finding = iam::explain(evaluation, request);
        finding.message = message.clone();
        return CheckResult { outcome: Outcome::Fail, message, finding: Some(finding) };
    }

    let undecided: Vec<String> = evaluations
        .iter()
        .filter_map(|(_, (_, evaluation))| evaluation.undecided.as_ref())
        .flat_map(|undecided| undecided.unknown_keys.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !undecided.is_empty() {
        let keys = undecided.join(", ");
        let example = undecided.first().map(String::as_str).unwrap_or("aws:SourceIp");
        // Dataset tags are a fact the snapshot can carry, unlike the caller's network or MFA.
        let tags_hint = if undecided.iter().any(|key| key.to_ascii_lowercase().starts_with("aws:resourcetag/")) {
            "; for aws:ResourceTag keys, add the datasets' tags to the snapshot as rekognition.tags (the output of \
             `aws rekognition list-tags-for-resource`)"
        } else {
            ""
        };
        return CheckResult {
            outcome: Outcome::Error,
            message: format!(
                "cannot decide whether {} may call {DISTRIBUTE_ACTION}: the decision depends on {keys}, which the facts do not include; \
                 give the value with --context, e.g. --context {example}=VALUE{tags_hint}",
                principal.caller_arn
            ),
            finding: None,
        };
    }

    CheckResult {
        outcome: Outcome::Pass,
        message: format!("{} may call {DISTRIBUTE_ACTION} on both datasets", principal.caller_arn),
        finding: None,
    }
}

/// True when the request is denied however the unknown keys turn out.
fn certainly_denied(evaluation: &Evaluation) -> bool {
    let best_case = evaluation.undecided.as_ref().map_or(evaluation.decision, |undecided| undecided.best_case);
    best_case != Decision::Allowed
}

fn deciding_statement(evaluation: &Evaluation) -> String {
    if let Some(statement) = evaluation.matched.first().filter(|_| evaluation.decision == Decision::ExplicitlyDenied) {
        let which = statement.sid.as_ref().map_or_else(|| format!("statement {}", statement.index + 1), |sid| format!("statement `{sid}`"));
        return format!(" by {which} of {}", statement.policy);
    }
    match evaluation.blocked_by {
        Some(policy_type) => format!(", because no {policy_type} allows it"),
        None => String::new(),
    }
}

/// Formats seconds since the epoch as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format_iso8601(seconds: u64) -> String {
    let days = seconds / 86_400;
    let time = seconds % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time / 3600, time % 3600 / 60, time % 60)
}

/// Converts days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_dates() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(1_798_761_600), "2027-01-01T00:00:00Z");
        assert_eq!(format_iso8601(951_825_600), "2000-02-29T12:00:00Z");
    }
}
