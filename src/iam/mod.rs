//! An IAM policy evaluator with AWS semantics that explains its decision.
//!
//! `policy` parses documents with byte spans. `matching` implements the
//! wildcard and ARN matching, and `condition` the condition operators, with
//! `values` for dates, IP ranges and base64. `variables` substitutes the
//! `${…}` policy variables and `principal` matches the `Principal` element.
//! `context` stores the request context, `evaluate` runs the decision flow across
//! policy types, and `explain` builds the diagnostic that shows the decision.
//! `simulate` reads the case files of the `simulate` command.

pub mod condition;
pub mod context;
pub mod evaluate;
pub mod explain;
pub mod matching;
pub mod policy;
pub mod principal;
pub mod simulate;
pub mod values;
pub mod variables;

use std::fmt;

pub use context::{Context, Lookup, UnknownKeys};
pub use evaluate::{evaluate, Evaluation, MatchedStatement, NearMiss, PolicyLevel, PolicyRef, PolicySet, Request, Undecided};
pub use explain::explain;
pub use policy::{parse_policy, parse_policy_text, Effect, Policy, Statement};

/// The outcome of evaluating one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Decision {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allowed => "Allowed",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
        })
    }
}

/// The kinds of policy that take part in an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyType {
    Identity,
    ResourceBased,
    PermissionsBoundary,
    SessionPolicy,
    ServiceControlPolicy,
    ResourceControlPolicy,
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::ResourceBased => "resource-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::SessionPolicy => "session policy",
            PolicyType::ServiceControlPolicy => "service control policy",
            PolicyType::ResourceControlPolicy => "resource control policy",
        })
    }
}

/// Three-valued truth for conditions whose context keys may be unknown.
/// `Unknown` means the tool cannot tell, which is different from a key that
/// is known to be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    pub fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }
}
