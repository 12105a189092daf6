//! Output formats for `check` and `run`: one reporter per format behind one
//! trait. Reporters write to stdout only; logs go to stderr.

pub mod github;
mod human;
pub mod json;

use std::io::{self, Write};

use serde::Serialize;

use crate::rules::{Outcome, RuleResult, Severity, Verdict};

pub use github::GithubReporter;
pub use human::HumanReporter;
pub use json::JsonReporter;

/// The conclusion of a command, for the reporters.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub train: &'a str,
    pub test: &'a str,
    /// The pre-flight verdict.
    pub verdict: &'a Verdict,
    /// Post-split verification, for `run`.
    pub post: Option<&'a Verdict>,
    /// The actions of `run`, when the command was `run`.
    pub run: Option<RunSummary>,
}

/// The outcome of `run` beyond the checks.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub executed: bool,
    /// True when the split is done and verified: `run` exits 0.
    #[serde(default)]
    pub succeeded: bool,
    /// The reason, in one sentence, when the split was not executed or did not finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(rename = "final", skip_serializing_if = "Option::is_none")]
    pub final_state: Option<FinalState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FinalState {
    pub train: DatasetState,
    pub test: DatasetState,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetState {
    pub status: String,
    pub total_entries: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

impl Report<'_> {
    /// True when every error-severity rule passed, before and after, and,
    /// for `run`, the split is done and verified.
    pub fn passed(&self) -> bool {
        self.verdict.passed() && self.post.is_none_or(Verdict::passed) && self.run.as_ref().is_none_or(|run| run.succeeded)
    }

    pub fn results(&self) -> impl Iterator<Item = &RuleResult> {
        self.verdict.results.iter().chain(self.post.into_iter().flat_map(|post| post.results.iter()))
    }

    /// Formats one line that counts the outcomes, such as
    /// `check failed: 1 failed, 1 undecided, 9 passed, 2 skipped, 1 warning`.
    /// "failed" counts error-severity rules only; a failed warning or info
    /// rule is counted as a warning, because it does not block.
    pub fn summary_line(&self, command: &str) -> String {
        let count = |outcome| self.results().filter(|result| result.outcome == outcome && result.severity == Severity::Error).count();
        let warnings = self.results().filter(|result| result.outcome == Outcome::Fail && result.severity != Severity::Error).count();
        let non_error_undecided = self.results().filter(|result| result.outcome == Outcome::Error && result.severity != Severity::Error).count();
        let verdict = match &self.run {
            Some(run) if !run.executed && self.verdict.passed() => "stopped",
            _ if self.passed() => "passed",
            _ => "failed",
        };
        let passed = self.results().filter(|result| result.outcome == Outcome::Pass).count();
        let skipped = self.results().filter(|result| result.outcome == Outcome::Skip).count();
        let mut line = format!(
            "{command} {verdict}: {} failed, {} undecided, {passed} passed, {skipped} skipped",
            count(Outcome::Fail),
            count(Outcome::Error) + non_error_undecided,
        );
        if warnings > 0 {
            line.push_str(&format!(", {warnings} warning{}", if warnings == 1 { "" } else { "s" }));
        }
        if let Some(run) = &self.run {
            line.push_str(match (run.executed, run.succeeded) {
                (true, true) => "; the split was executed",
                (true, false) => "; the split was executed but did not complete as verified",
                (false, _) => "; nothing was executed",
            });
        }
        line
    }
}

pub trait Reporter {
    fn write(&self, report: &Report<'_>, command: &str, out: &mut dyn Write) -> io::Result<()>;
}
