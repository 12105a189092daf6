//! The evaluation flow across policy types, following the IAM policy
//! evaluation logic. An explicit Deny in any policy wins. Otherwise every
//! organization level, the identity or resource grant, the permissions
//! boundary and the session policy must each allow the request.

use std::ops::Range;

use super::condition;
use super::matching;
use super::principal::{principal_match, PrincipalInfo, PrincipalKind, PrincipalMatch};
use super::variables::{KeyLog, Resolved};
use super::{Context, Decision, Effect, Lookup, Policy, PolicyType, Statement, Truth};
use crate::source::SourceText;

/// Every policy that takes part in one evaluation.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// The principal's identity-based policies (a user's with its groups', or a role's).
    pub identity: Vec<Policy>,
    pub resource: Option<Policy>,
    /// Permissions boundaries; each one must allow.
    pub boundaries: Vec<Policy>,
    pub session: Option<Policy>,
    /// Service control policies, root first and account last. Empty means
    /// the account is in no organization.
    pub scps: Vec<PolicyLevel>,
    /// Resource control policies, root first and account last. Empty means
    /// the resource's account is in no organization.
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
    /// A principal ARN (user, role, assumed-role session, root) or a service name.
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// The account that owns the resource, when the ARN does not say (S3).
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    /// Builds a request with an empty context whose resource account comes from the ARN.
    pub fn new(principal: impl Into<String>, action: impl Into<String>, resource: impl Into<String>) -> Request {
        Request { principal: principal.into(), action: action.into(), resource: resource.into(), resource_account: None, context: Context::new() }
    }
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The decision when every unknown context key resolves against the request.
    pub decision: Decision,
    /// Set when unknown context keys could change the decision.
    pub undecided: Option<Undecided>,
    /// The policy type that denied the request, when it was denied.
    pub blocked_by: Option<PolicyType>,
    /// The statements that decided, in evaluation order: the Deny statements
    /// that applied, or the Allow statements that granted.
    pub matched: Vec<MatchedStatement>,
    /// Keys that conditions referenced but the request context lacked.
    pub missing_context_keys: Vec<String>,
    /// For an implicit deny: the policies of the blocking type (only the
    /// blocking level for organization policies).
    pub blocking_policies: Vec<PolicyRef>,
    /// For an implicit deny: Allow statements of the blocking policies that
    /// match the action but failed on something else.
    pub near_misses: Vec<NearMiss>,
    /// Assumptions the evaluation made, in plain sentences.
    pub notes: Vec<String>,
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
    /// Set when the statement counted only because of how unknown context
    /// keys were resolved.
    pub depends_on_unknown: bool,
}

/// A whole policy named in an explanation.
#[derive(Debug, Clone)]
pub struct PolicyRef {
    pub name: String,
    pub policy_type: PolicyType,
    pub level: Option<String>,
    pub source: SourceText,
    pub span: Range<usize>,
}

/// An Allow statement that matched the action but did not apply.
#[derive(Debug, Clone)]
pub struct NearMiss {
    pub statement: MatchedStatement,
    pub reason: String,
    /// The element that failed: the Resource, Principal or condition value.
    pub span: Range<usize>,
}

/// The first element that kept a statement from applying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Miss {
    None,
    Action,
    Resource,
    Principal,
    /// The index of the first condition clause that is not true.
    Condition(usize),
}

/// One statement with its verdict for the request.
struct Assessed<'a> {
    policy: &'a Policy,
    policy_type: PolicyType,
    level: Option<&'a str>,
    statement: &'a Statement,
    applies: Truth,
    miss: Miss,
    log: KeyLog,
    /// Set when the statement's `Principal` names only the principal's account.
    via_account: bool,
}

/// The rule for unknown statements in one pass of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// Unknown Allow statements do not apply; unknown Deny statements do.
    AgainstRequest,
    InFavour,
}

impl Assessed<'_> {
    fn counts(&self, resolution: Resolution) -> bool {
        match self.applies {
            Truth::True => true,
            Truth::False => false,
            Truth::Unknown => (self.statement.effect == Effect::Deny) == (resolution == Resolution::AgainstRequest),
        }
    }

    fn matched(&self) -> MatchedStatement {
        MatchedStatement {
            policy: self.policy.name.clone(),
            policy_type: self.policy_type,
            level: self.level.map(str::to_string),
            index: self.statement.index,
            sid: self.statement.sid.as_deref().map(str::to_string),
            effect: self.statement.effect,
            source: self.policy.source.clone(),
            span: self.statement.span.clone(),
            depends_on_unknown: self.applies == Truth::Unknown,
        }
    }
}

/// A group of statements that must allow together: one organization level,
/// one boundary, the session policy, or the identity and resource policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate<'a> {
    Level(PolicyType, &'a str),
    Boundary(usize),
    Session,
    Identity,
    Resource,
}

/// The result of one pass of the flow.
struct Outcome {
    decision: Decision,
    blocked_by: Option<PolicyType>,
    /// Indexes into the assessed statements.
    matched: Vec<usize>,
    blocking_gate: Option<usize>,
}

/// Evaluates `request` against every policy in `set`.
pub fn evaluate(set: &PolicySet, request: &Request) -> Evaluation {
    let principal = PrincipalInfo::parse(&request.principal);
    let mut notes = Vec::new();

    let (gates, assessed) = assess_all(set, request, &principal);
    let same_account = same_account(request, &principal, &mut notes);

    let worst = decide(set, &gates, &assessed, &principal, same_account, Resolution::AgainstRequest);
    let best = decide(set, &gates, &assessed, &principal, same_account, Resolution::InFavour);

    let mut missing_context_keys = KeyLog::default();
    let mut unknown_keys = KeyLog::default();
    for (_, item) in &assessed {
        if item.miss != Miss::Action {
            missing_context_keys.append(&item.log);
        }
        if item.applies == Truth::Unknown {
            for key in &item.log.unknown {
                unknown_keys.unknown(key);
            }
        }
    }
    let undecided = (worst.decision != best.decision).then_some(Undecided { best_case: best.decision, unknown_keys: unknown_keys.unknown });

    let delegated = assessed.iter().any(|(_, item)| {
        item.policy_type == PolicyType::ResourceBased && item.via_account && item.statement.effect == Effect::Allow && item.applies == Truth::True
    });
    if delegated && worst.blocked_by == Some(PolicyType::Identity) {
        notes.push(
            "the resource-based policy allows the principal's account, which only delegates access: an identity-based policy must allow the request too"
                .to_string(),
        );
    }

    let (blocking_policies, near_misses) = match worst.blocking_gate {
        Some(gate) if worst.decision == Decision::ImplicitlyDenied => describe_block(set, &gates, gate, &assessed, &request.context),
        _ => (Vec::new(), Vec::new()),
    };

    Evaluation {
        decision: worst.decision,
        undecided,
        blocked_by: worst.blocked_by,
        matched: worst.matched.iter().filter_map(|index| assessed.get(*index)).map(|(_, item)| item.matched()).collect(),
        missing_context_keys: missing_context_keys.missing,
        blocking_policies,
        near_misses,
        notes,
    }
}

/// Lists the gates in flow order and assesses every statement, tagged with
/// the index of its gate. Deny checks follow the same order, so the first
/// applying Deny names the policy type AWS reports first.
fn assess_all<'a>(set: &'a PolicySet, request: &'a Request, principal: &PrincipalInfo<'_>) -> (Vec<Gate<'a>>, Vec<(usize, Assessed<'a>)>) {
    let mut gates = Vec::new();
    let mut assessed = Vec::new();
    let mut add = |gate: Gate<'a>, policy_type: PolicyType, policies: &mut dyn Iterator<Item = &'a Policy>, check_principal: bool| {
        let index = gates.len();
        gates.push(gate);
        let level = match gate {
            Gate::Level(_, name) => Some(name),
            _ => None,
        };
        for policy in policies {
            for statement in &policy.statements {
                let (applies, miss, log, via_account) = assess(statement, request, principal, check_principal);
                // Statements for other actions can neither decide nor nearly apply.
                if miss != Miss::Action {
                    assessed.push((index, Assessed { policy, policy_type, level, statement, applies, miss, log, via_account }));
                }
            }
        }
    };

    for level in &set.scps {
        add(Gate::Level(PolicyType::ServiceControlPolicy, &level.name), PolicyType::ServiceControlPolicy, &mut level.policies.iter(), false);
    }
    for level in &set.rcps {
        add(Gate::Level(PolicyType::ResourceControlPolicy, &level.name), PolicyType::ResourceControlPolicy, &mut level.policies.iter(), true);
    }
    add(Gate::Resource, PolicyType::ResourceBased, &mut set.resource.iter(), true);
    add(Gate::Identity, PolicyType::Identity, &mut set.identity.iter(), false);
    for (index, boundary) in set.boundaries.iter().enumerate() {
        add(Gate::Boundary(index), PolicyType::PermissionsBoundary, &mut std::iter::once(boundary), false);
    }
    add(Gate::Session, PolicyType::SessionPolicy, &mut set.session.iter(), false);
    (gates, assessed)
}

/// Decides whether one statement applies to the request.
fn assess(statement: &Statement, request: &Request, principal: &PrincipalInfo<'_>, check_principal: bool) -> (Truth, Miss, KeyLog, bool) {
    let mut log = KeyLog::default();

    let action_listed = statement.actions.lists(&request.action);
    if action_listed == statement.actions.negated {
        return (Truth::False, Miss::Action, log, false);
    }

    let listed = statement
        .resources
        .entries
        .iter()
        .map(|entry| {
            if entry.is_match_all() {
                return Truth::True;
            }
            match entry.pattern(&request.context, &mut log) {
                Ok(pattern) => Truth::from(matching::resource_matches(&pattern, &request.resource)),
                Err(Resolved::Unknown) => Truth::Unknown,
                Err(_) => Truth::False,
            }
        })
        .fold(Truth::False, Truth::or);
    let resource = if statement.resources.negated { listed.not() } else { listed };

    let principal_coverage = match (&statement.principals, check_principal) {
        (Some(principals), true) => principal_match(principals, principal, statement.effect),
        // A resource-based statement without a principal, or any other
        // statement with one, is invalid and rejected by
        // `Policy::check_for`. If one gets here, it may deny but never grants.
        (None, true) | (Some(_), false) if statement.effect == Effect::Allow => PrincipalMatch::No,
        _ => PrincipalMatch::Direct,
    };
    let principal_applies = principal_coverage != PrincipalMatch::No;

    let mut conditions = Truth::True;
    let mut failed_clause = None;
    for (index, clause) in statement.conditions.iter().enumerate() {
        let truth = condition::evaluate_clause(clause, &request.context, &mut log);
        if truth != Truth::True && failed_clause.is_none_or(|(_, earlier)| earlier == Truth::Unknown && truth == Truth::False) {
            failed_clause = Some((index, truth));
        }
        conditions = conditions.and(truth);
    }

    let applies = resource.and(Truth::from(principal_applies)).and(conditions);
    let miss = if resource == Truth::False {
        Miss::Resource
    } else if !principal_applies {
        Miss::Principal
    } else if let Some((index, _)) = failed_clause {
        Miss::Condition(index)
    } else {
        Miss::None
    };
    (applies, miss, log, principal_coverage == PrincipalMatch::Account)
}

/// Decides whether the resource is in the principal's account. When neither
/// the request nor the resource ARN names the resource's account, the
/// request is treated as same-account and a note records the assumption.
fn same_account(request: &Request, principal: &PrincipalInfo<'_>, notes: &mut Vec<String>) -> bool {
    let from_arn = request.resource.split(':').nth(4).filter(|account| !account.is_empty());
    let resource_account = request.resource_account.as_deref().filter(|account| !account.is_empty()).or(from_arn);
    match (resource_account, principal.account) {
        (Some(resource), Some(principal)) => resource == principal,
        (None, _) => {
            notes.push(format!(
                "the account that owns `{}` is unknown, so it is treated as the principal's own account; give resourceAccount to check cross-account access",
                request.resource
            ));
            true
        }
        // A principal without an account (a service) is never same-account.
        (Some(_), None) => false,
    }
}

fn decide(set: &PolicySet, gates: &[Gate<'_>], assessed: &[(usize, Assessed<'_>)], principal: &PrincipalInfo<'_>, same_account: bool, resolution: Resolution) -> Outcome {
    let service = principal.kind == PrincipalKind::Service;
    // The account root user has every permission without identity-based
    // policies; only organization policies and explicit denies limit it.
    let root = principal.kind == PrincipalKind::Root;
    let counting = |effect: Effect| {
        assessed
            .iter()
            .enumerate()
            .filter(move |(_, (_, item))| item.statement.effect == effect && item.counts(resolution))
    };

    let denies: Vec<usize> = counting(Effect::Deny).map(|(index, _)| index).collect();
    if let Some(first) = denies.first() {
        return Outcome {
            decision: Decision::ExplicitlyDenied,
            blocked_by: assessed.get(*first).map(|(_, item)| item.policy_type),
            matched: denies,
            blocking_gate: None,
        };
    }

    let allows_in = |gate: usize| -> Vec<usize> { counting(Effect::Allow).filter(|(_, (g, _))| *g == gate).map(|(index, _)| index).collect() };
    let blocked = |gate: usize, policy_type: PolicyType| Outcome {
        decision: Decision::ImplicitlyDenied,
        blocked_by: Some(policy_type),
        matched: Vec::new(),
        blocking_gate: Some(gate),
    };

    let mut matched = Vec::new();
    let gate_index = |wanted: Gate<'_>| gates.iter().position(|gate| *gate == wanted).unwrap_or(usize::MAX);
    let identity_gate = gate_index(Gate::Identity);
    let resource_gate = gate_index(Gate::Resource);

    for (gate, kind) in gates.iter().enumerate() {
        match kind {
            Gate::Level(policy_type, _) => {
                let allows = allows_in(gate);
                if allows.is_empty() {
                    return blocked(gate, *policy_type);
                }
                matched.extend(allows);
            }
            Gate::Resource => {}
            Gate::Identity => {
                let identity = allows_in(identity_gate);
                let resource = allows_in(resource_gate);
                if service {
                    // A service principal has no identity-based policies, so
                    // only the resource-based policy can grant it access.
                    if resource.is_empty() {
                        return blocked(resource_gate, PolicyType::ResourceBased);
                    }
                } else if same_account {
                    // NOTE: AWS lets a same-account resource policy that names
                    // a user or role session skip an implicit deny in the
                    // boundary or session policy. This flow still requires
                    // both, so it can only turn an Allow into a deny.
                    // A resource policy that names only the account delegates
                    // to the account's identity-based policies, so it grants
                    // nothing by itself.
                    let direct = resource.iter().any(|index| assessed.get(*index).is_some_and(|(_, item)| !item.via_account));
                    if identity.is_empty() && !direct && !root {
                        return blocked(identity_gate, PolicyType::Identity);
                    }
                } else {
                    if identity.is_empty() && !root {
                        return blocked(identity_gate, PolicyType::Identity);
                    }
                    if set.resource.is_none() || resource.is_empty() {
                        return blocked(resource_gate, PolicyType::ResourceBased);
                    }
                }
                // In the same account, a statement that only names the
                // account granted nothing by itself, so it is not listed.
                let granting = |index: &usize| !same_account || assessed.get(*index).is_some_and(|(_, item)| !item.via_account);
                matched.extend(resource.into_iter().filter(granting));
                matched.extend(identity);
            }
            Gate::Boundary(_) => {
                let allows = allows_in(gate);
                if allows.is_empty() {
                    return blocked(gate, PolicyType::PermissionsBoundary);
                }
                matched.extend(allows);
            }
            Gate::Session => {
                if set.session.is_some() {
                    let allows = allows_in(gate);
                    if allows.is_empty() {
                        return blocked(gate, PolicyType::SessionPolicy);
                    }
                    matched.extend(allows);
                }
            }
        }
    }

    matched.sort_unstable();
    Outcome { decision: Decision::Allowed, blocked_by: None, matched, blocking_gate: None }
}

/// Lists the policies behind a blocking gate and its Allow statements that
/// nearly applied.
fn describe_block(
    set: &PolicySet,
    gates: &[Gate<'_>],
    gate: usize,
    assessed: &[(usize, Assessed<'_>)],
    context: &Context,
) -> (Vec<PolicyRef>, Vec<NearMiss>) {
    let reference = |policy: &Policy, policy_type: PolicyType, level: Option<&str>| PolicyRef {
        name: policy.name.clone(),
        policy_type,
        level: level.map(str::to_string),
        source: policy.source.clone(),
        span: policy.span.clone(),
    };

    let policies: Vec<PolicyRef> = match gates.get(gate) {
        Some(Gate::Level(policy_type, name)) => {
            let levels = if *policy_type == PolicyType::ServiceControlPolicy { &set.scps } else { &set.rcps };
            levels
                .iter()
                .filter(|level| level.name == *name)
                .flat_map(|level| level.policies.iter().map(|policy| reference(policy, *policy_type, Some(&level.name))))
                .collect()
        }
        Some(Gate::Identity) => set.identity.iter().map(|policy| reference(policy, PolicyType::Identity, None)).collect(),
        Some(Gate::Resource) => set.resource.iter().map(|policy| reference(policy, PolicyType::ResourceBased, None)).collect(),
        Some(Gate::Boundary(index)) => set.boundaries.get(*index).map(|policy| reference(policy, PolicyType::PermissionsBoundary, None)).into_iter().collect(),
        Some(Gate::Session) => set.session.iter().map(|policy| reference(policy, PolicyType::SessionPolicy, None)).collect(),
        None => Vec::new(),
    };

    let near_misses = assessed
        .iter()
        .filter(|(g, item)| *g == gate && item.statement.effect == Effect::Allow && item.miss != Miss::Action)
        .filter_map(|(_, item)| near_miss(item, context))
        .collect();
    (policies, near_misses)
}

fn near_miss(item: &Assessed<'_>, context: &Context) -> Option<NearMiss> {
    let statement = item.statement;
    let (reason, span) = match item.miss {
        Miss::None => ("its outcome depends on context keys that are unknown".to_string(), statement.span.clone()),
        Miss::Action => return None,
        Miss::Resource => {
            let element = if statement.resources.negated { "NotResource" } else { "Resource" };
            (format!("its {element} does not cover the resource"), statement.resources.span.clone())
        }
        Miss::Principal => {
            let principals = statement.principals.as_ref()?;
            let element = if principals.negated { "NotPrincipal" } else { "Principal" };
            (format!("its {element} does not cover the principal"), principals.span.clone())
        }
        Miss::Condition(index) => {
            let clause = statement.conditions.get(index)?;
            let request_value = match context.get(&clause.key) {
                Lookup::Present([value]) => format!("the request has `{value}`"),
                Lookup::Present(values) => format!("the request has {}", values.iter().map(|value| format!("`{value}`")).collect::<Vec<_>>().join(", ")),
                Lookup::Absent => "the request has no such key".to_string(),
                Lookup::Unknown => "the request's value is unknown".to_string(),
            };
            (
                format!("its condition `{}` on `{}` is not met: {request_value}", clause.operator.name(), clause.key),
                clause.key_span.start..clause.values_span.end,
            )
        }
    };
    Some(NearMiss { statement: item.matched(), reason, span })
}
