//! Terminal output: one miette diagnostic per rule that failed or could not
//! decide, then a one-line summary.

use std::io::{self, Write};

use super::{Report, Reporter};
use crate::rules::Outcome;

pub struct HumanReporter {
    pub width: usize,
    pub color: bool,
}

impl HumanReporter {
    /// Renders one diagnostic as text.
    pub fn render(&self, diagnostic: &dyn miette::Diagnostic) -> String {
        crate::finding::render(diagnostic, self.width, self.color)
    }
}

impl Reporter for HumanReporter {
    fn write(&self, report: &Report<'_>, command: &str, out: &mut dyn Write) -> io::Result<()> {
        for result in report.results() {
            if !matches!(result.outcome, Outcome::Fail | Outcome::Error) {
                continue;
            }
            match &result.finding {
                Some(finding) => write!(out, "{}", self.render(finding))?,
                None => writeln!(out, "{} ({}): {}", result.rule, result.outcome, result.message)?,
            }
            writeln!(out)?;
        }
        if let Some(run) = &report.run {
            if let Some(reason) = &run.reason {
                writeln!(out, "{reason}")?;
            }
            if let Some(state) = &run.final_state {
                let total = |total: Option<u64>| total.map_or_else(|| "unknown".to_string(), |total| total.to_string());
                writeln!(
                    out,
                    "final state: train {} ({} entries), test {} ({} entries)",
                    state.train.status,
                    total(state.train.total_entries),
                    state.test.status,
                    total(state.test.total_entries)
                )?;
            }
        }
        writeln!(out, "{}", report.summary_line(command))
    }
}
