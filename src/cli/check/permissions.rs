//! `--permissions aws|both`: principal-allowed decided by IAM's
//! SimulatePrincipalPolicy, alone or next to the built-in evaluator.

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};

use super::Permissions;
use crate::facts::aws::error::{classify, Call, Failure};
use crate::facts::aws::session::Session;
use crate::facts::aws::GatherError;
use crate::facts::Facts;
use crate::finding::Finding;
use crate::iam::context::Lookup;
use crate::iam::{Decision, Request};
use crate::rules::{permission_evaluations, Outcome, PermissionCheck, RuleResult, Severity, Verdict, DISTRIBUTE_ACTION};

const PRINCIPAL_RULE: &str = "principal-allowed";
const AGREE_RULE: &str = "permissions-agree";

/// Replaces principal-allowed with the simulator's decision (`aws`), or adds
/// `permissions-agree`, which compares both decisions per dataset (`both`).
pub async fn apply(mode: Permissions, session: &Session, facts: &Facts, verdict: &mut Verdict) -> Result<(), GatherError> {
    let PermissionCheck::Evaluated { principal, train, test } = permission_evaluations(facts) else {
        if mode == Permissions::Both {
            verdict.results.push(result(AGREE_RULE, Outcome::Error, "cannot compare the decisions: the principal's policies are not known".into(), None));
        }
        return Ok(());
    };

    let simulated = match tokio::try_join!(simulate(session, &principal.identity_arn, &train.0), simulate(session, &principal.identity_arn, &test.0)) {
        Ok(decisions) => Ok(decisions),
        Err(Failure::Stop(error)) => return Err(GatherError::Aws(error)),
        Err(Failure::Denied(message)) => Err(message),
        Err(Failure::NotFound) => Err(format!("iam:SimulatePrincipalPolicy found no principal {}", principal.identity_arn)),
    };

    match mode {
        Permissions::Local => {}
        Permissions::Aws => {
            let replacement = match &simulated {
                Ok((train_decision, test_decision)) => simulator_result(&principal.caller_arn, *train_decision, *test_decision),
                Err(reason) => result(PRINCIPAL_RULE, Outcome::Error, format!("cannot decide with IAM's policy simulator: {reason}"), None),
            };
            match verdict.results.iter_mut().find(|result| result.rule == PRINCIPAL_RULE) {
                Some(existing) => *existing = replacement,
                None => verdict.results.push(replacement),
            }
        }
        Permissions::Both => {
            let agreement = match &simulated {
                Ok((train_decision, test_decision)) => agreement(&[("train", train.1.decision, *train_decision), ("test", test.1.decision, *test_decision)]),
                Err(reason) => result(AGREE_RULE, Outcome::Error, format!("cannot compare the decisions: {reason}"), None),
            };
            verdict.results.push(agreement);
        }
    }
    Ok(())
}

/// Calls SimulatePrincipalPolicy for one dataset with the derived context,
/// and returns the most restrictive decision among the results.
async fn simulate(session: &Session, source_arn: &str, request: &Request) -> Result<Decision, Failure> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let call = Call { service: "iam", operation: "SimulatePrincipalPolicy", resource: source_arn, purpose: "ask IAM's policy simulator (--permissions aws or both)" };
    let mut builder = session
        .iam
        .simulate_principal_policy()
        .policy_source_arn(source_arn)
        .action_names(DISTRIBUTE_ACTION)
        .resource_arns(&request.resource);
    for entry in context_entries(request) {
        builder = builder.context_entries(entry);
    }

    let mut pages = builder.into_paginator().send();
    let mut decision: Option<Decision> = None;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| classify(&error, call, &endpoint))?;
        for evaluation in page.evaluation_results() {
            let next = match evaluation.eval_decision() {
                PolicyEvaluationDecisionType::Allowed => Decision::Allowed,
                PolicyEvaluationDecisionType::ExplicitDeny => Decision::ExplicitlyDenied,
                _ => Decision::ImplicitlyDenied,
            };
            decision = Some(match (decision, next) {
                (Some(Decision::ExplicitlyDenied), _) | (_, Decision::ExplicitlyDenied) => Decision::ExplicitlyDenied,
                (Some(Decision::ImplicitlyDenied), _) | (_, Decision::ImplicitlyDenied) => Decision::ImplicitlyDenied,
                _ => Decision::Allowed,
            });
        }
    }
    decision.ok_or_else(|| Failure::Denied(format!("iam:SimulatePrincipalPolicy for {source_arn} returned no evaluation result")))
}

/// Converts the request's condition keys to simulator context entries.
fn context_entries(request: &Request) -> Vec<ContextEntry> {
    let mut keys: Vec<&str> = request.context.keys().collect();
    keys.sort_unstable();
    keys.into_iter()
        .filter_map(|key| {
            let Lookup::Present(values) = request.context.get(key) else { return None };
            let kind = match key.to_ascii_lowercase().as_str() {
                "aws:securetransport" | "aws:principalisawsservice" | "aws:viaawsservice" => ContextKeyTypeEnum::Boolean,
                "aws:currenttime" => ContextKeyTypeEnum::Date,
                "aws:epochtime" => ContextKeyTypeEnum::Numeric,
                _ if values.len() > 1 => ContextKeyTypeEnum::StringList,
                _ => ContextKeyTypeEnum::String,
            };
            Some(ContextEntry::builder().context_key_name(key).set_context_key_values(Some(values.to_vec())).context_key_type(kind).build())
        })
        .collect()
}

fn simulator_result(caller: &str, train: Decision, test: Decision) -> RuleResult {
    if train == Decision::Allowed && test == Decision::Allowed {
        return result(PRINCIPAL_RULE, Outcome::Pass, format!("IAM's policy simulator allows {caller} to call {DISTRIBUTE_ACTION} on both datasets"), None);
    }
    let message = format!("IAM's policy simulator does not allow {caller} to call {DISTRIBUTE_ACTION}: train {train}, test {test}");
    let finding = Finding::error(PRINCIPAL_RULE, message.clone())
        .with_help("grant rekognition:DistributeDatasetEntries on both dataset ARNs; run with --permissions local to see which statement decides");
    result(PRINCIPAL_RULE, Outcome::Fail, message, Some(finding))
}

fn agreement(decisions: &[(&str, Decision, Decision)]) -> RuleResult {
    let differing: Vec<String> = decisions
        .iter()
        .filter(|(_, local, simulated)| local != simulated)
        .map(|(dataset, local, simulated)| format!("{dataset}: built-in evaluator {local}, IAM simulator {simulated}"))
        .collect();
    if differing.is_empty() {
        return result(AGREE_RULE, Outcome::Pass, "the built-in evaluator and IAM's policy simulator agree on both datasets".into(), None);
    }
    let message = format!("the built-in evaluator and IAM's policy simulator disagree: {}", differing.join("; "));
    let finding = Finding::error(AGREE_RULE, message.clone()).with_help(
        "one of the two lacks a fact: check --context values, the service control policies (--scp) and resource tags; \
         the simulator does not see SCPs of other accounts or session policies",
    );
    result(AGREE_RULE, Outcome::Fail, message, Some(finding))
}

fn result(rule: &str, outcome: Outcome, message: String, finding: Option<Finding>) -> RuleResult {
    let summary = match rule {
        AGREE_RULE => "The built-in evaluator and IAM's policy simulator reach the same decision.",
        _ => "The principal may call rekognition:DistributeDatasetEntries on both datasets.",
    };
    RuleResult { rule: rule.into(), severity: Severity::Error, summary: summary.into(), outcome, message, finding }
}
