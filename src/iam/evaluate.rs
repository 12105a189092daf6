//! The evaluation flow across policy types. PLACEHOLDER: the IAM evaluator work fills this in.

use std::ops::Range;

use super::{Context, Decision, Effect, Policy, PolicyType};
use crate::source::SourceText;

/// Every policy that takes part in one evaluation.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub identity: Vec<Policy>,
    pub resource: Option<Policy>,
    pub boundaries: Vec<Policy>,
    pub session: Option<Policy>,
    /// Service control policies, root first and account last.
    pub scps: Vec<PolicyLevel>,
    /// Resource control policies, root first and account last.
    pub rcps: Vec<PolicyLevel>,
}

/// The policies attached at one level of an organization (root, OU or account).
#[derive(Debug, Clone)]
pub struct PolicyLevel {
    pub name: String,
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The account that owns the resource, when the ARN does not say (S3).
    pub resource_account: Option<String>,
    pub context: Context,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The decision when every unknown context key resolves against the request.
    pub decision: Decision,
    /// Set when unknown context keys could change the decision.
    pub undecided: Option<Undecided>,
    /// The policy type that denied the request, when it was denied.
    pub blocked_by: Option<PolicyType>,
    /// The statements that decided, in evaluation order.
    pub matched: Vec<MatchedStatement>,
    /// Keys that conditions referenced but the request context lacked.
    pub missing_context_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Undecided {
    /// The decision when every unknown key resolves in favour of the request.
    pub best_case: Decision,
    pub unknown_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MatchedStatement {
    pub policy: String,
    pub policy_type: PolicyType,
    /// The organization level, for service and resource control policies.
    pub level: Option<String>,
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub source: SourceText,
    pub span: Range<usize>,
}

pub fn evaluate(set: &PolicySet, request: &Request) -> Evaluation {
    let _ = (set, request);
    todo!()
}
