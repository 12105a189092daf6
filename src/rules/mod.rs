//! The rule engine. Rules are data: TOML files in `rules/` (compiled in) and
//! in folders given with `--rules`. The engine never hard-codes a rule's
//! text. A rule's condition is a CEL expression over the facts model, or the
//! name of a built-in check where CEL cannot express it.

mod builtin;
mod condition;
mod engine;
mod load;
mod template;

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::finding::Finding;
use crate::source::SourceText;

pub use builtin::{permission_evaluations, PermissionCheck, DISTRIBUTE_ACTION};
pub use engine::{evaluate, Verdict};
pub use load::{load_rules, RuleSet};

mod pack {
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"));
}
pub use pack::DEFAULT_RULES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    pub fn to_miette(self) -> miette::Severity {
        match self {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// The conclusion of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// The rule could not decide, for example because a fact is unknown.
    Error,
    /// The rule does not apply, because an ARN it needs does not parse.
    Skip,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skip => "skip",
        })
    }
}

/// When a rule runs: before the split (`pre`, the default) or after it
/// completed (`post`, used by `run` to verify the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    #[default]
    Pre,
    Post,
}

/// What decides a rule.
#[derive(Debug, Clone)]
pub enum Condition {
    Cel { program: std::sync::Arc<cel::Program>, text: String },
    Builtin(builtin::Check),
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    pub phase: Phase,
    pub summary: String,
    pub docs: String,
    pub help: Option<String>,
    /// `train` and/or `test`: the rule is skipped when that ARN does not parse.
    pub needs: Vec<String>,
    /// `train` and/or `test`: the rule is skipped when that dataset is known
    /// not to exist, which `datasets-exist` reports once.
    pub needs_found: Vec<String>,
    pub condition: Condition,
    /// The failure message, with `{fact.path}` placeholders.
    pub message: String,
    /// Fact paths to underline on failure, with a label template each.
    pub labels: Vec<(String, String)>,
    /// The file that defines the rule: `rules/NAME.toml` or a user file.
    pub origin: String,
    pub source: SourceText,
    pub name_span: Range<usize>,
    /// The `condition` value in the rule file, for errors in the condition itself.
    pub condition_span: Option<Range<usize>>,
}

/// The result of one rule.
#[derive(Debug, Clone)]
pub struct RuleResult {
    pub rule: String,
    pub severity: Severity,
    pub summary: String,
    pub outcome: Outcome,
    pub message: String,
    /// The diagnostic for a failure or an undecided rule.
    pub finding: Option<Finding>,
}
