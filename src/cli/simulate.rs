//! `simulate FILE`: evaluates the IAM cases of a file and prints each
//! decision with the statements behind it.
//!
//! JSON output mirrors the input's shape: one object for a file that contains
//! one case object, an array for a file that contains an array. Each object is
//! `{"name", "decision", "blockedBy", "matchedStatements", "missingContextKeys"}`,
//! plus `"expected"` and `"matches"` when the case gives an expected decision
//! and `"notes"` when the evaluation had to assume something.
//! Exit code 1 when any case decides other than expected, 2 on invalid
//! input, 0 otherwise.

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use super::{report_input_error, Exit, Format};
use crate::finding::Finding;
use crate::iam::simulate::{load_cases, Case};
use crate::iam::{explain, Evaluation, MatchedStatement};
use crate::source::SourceText;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Case file: one case object or an array of them, each with a request
    /// and its policies.
    pub file: PathBuf,
    /// Output format. `github` prints the same as `human`.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: SimulateArgs) -> Exit {
    let name = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(error) => {
            return report_input_error(
                Finding::error("input::unreadable", format!("cannot read `{name}`: {error}")).with_help("check the path and its permissions"),
            );
        }
    };
    let source = SourceText::new(name, text);
    let file = match load_cases(&source) {
        Ok(file) => file,
        Err(finding) => return report_input_error(finding),
    };

    let results: Vec<(&Case, Evaluation)> = file.cases.iter().map(|case| (case, case.evaluate())).collect();
    let mismatches = results.iter().filter(|(case, evaluation)| case.expected.is_some_and(|expected| expected != evaluation.decision)).count();

    let written = super::write_stdout(|stdout| {
        match args.format {
            Format::Json => {
                let reports: Vec<Value> = results.iter().map(|(case, evaluation)| case_json(case, evaluation)).collect();
                let output = if file.is_array { Value::Array(reports) } else { reports.into_iter().next().unwrap_or(Value::Null) };
                writeln!(stdout, "{}", serde_json::to_string_pretty(&output).unwrap_or_default())?;
            }
            Format::Human | Format::Github => {
                for (case, evaluation) in &results {
                    writeln!(stdout, "{}", render_human(case, evaluation))?;
                }
                if mismatches > 0 {
                    writeln!(stdout, "{mismatches} of {} cases did not decide as expected", results.len())?;
                }
            }
        }
        Ok(())
    });
    if let Err(exit) = written {
        return exit;
    }

    if mismatches > 0 { Exit::Blocked } else { Exit::Pass }
}

fn case_json(case: &Case, evaluation: &Evaluation) -> Value {
    let mut report = json!({
        "name": case.name,
        "decision": evaluation.decision,
        "blockedBy": evaluation.blocked_by,
        "matchedStatements": evaluation.matched.iter().map(statement_json).collect::<Vec<_>>(),
        "missingContextKeys": evaluation.missing_context_keys,
    });
    if !evaluation.notes.is_empty() {
        report["notes"] = json!(evaluation.notes);
    }
    if let Some(undecided) = &evaluation.undecided {
        report["undecided"] = json!({ "bestCase": undecided.best_case, "unknownKeys": undecided.unknown_keys });
    }
    if let Some(expected) = case.expected {
        report["expected"] = json!(expected);
        report["matches"] = json!(expected == evaluation.decision);
    }
    report
}

/// `statement` is the 0-based position in the policy's Statement array;
/// `line` and `column` are 1-based and point into the file that contains the policy.
fn statement_json(statement: &MatchedStatement) -> Value {
    let (line, column) = statement.source.line_column(statement.span.start);
    let mut value = json!({
        "policy": statement.policy,
        "policyType": statement.policy_type,
        "statement": statement.index,
        "effect": statement.effect,
        "line": line,
        "column": column,
    });
    if let Some(level) = &statement.level {
        value["level"] = json!(level);
    }
    if let Some(sid) = &statement.sid {
        value["sid"] = json!(sid);
    }
    value
}

/// Renders a header line with the decision, then the explanation.
fn render_human(case: &Case, evaluation: &Evaluation) -> String {
    let verdict = match case.expected {
        Some(expected) if expected == evaluation.decision => " (as expected)".to_string(),
        Some(expected) => format!(" — MISMATCH: expected {expected}"),
        None => String::new(),
    };
    let mut out = format!("{}: {}{verdict}\n", case.name, evaluation.decision);

    out.push_str(&explain(evaluation, &case.request).render_plain(100));
    out
}
