//! Machine-readable output:
//! `{"verdict": "pass"|"fail", "train", "test", "results": [...]}`, plus
//! `executed` and `final` for `run`. The README documents the schema.

use std::io::{self, Write};

use serde::Serialize;

use super::{Report, Reporter};
use crate::finding::Finding;
use crate::rules::{Outcome, RuleResult, Severity};

pub struct JsonReporter;

#[derive(Serialize)]
struct Output<'a> {
    verdict: &'static str,
    train: &'a str,
    test: &'a str,
    results: Vec<ResultOutput<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    post: Vec<ResultOutput<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    run: Option<&'a super::RunSummary>,
}

#[derive(Serialize)]
struct ResultOutput<'a> {
    rule: &'a str,
    severity: Severity,
    outcome: Outcome,
    message: &'a str,
    summary: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<LocationOutput>,
}

/// A labelled span: the source (a file path or a flag such as `--test`),
/// 1-based line and column, and the label text.
#[derive(Serialize)]
struct LocationOutput {
    source: String,
    line: usize,
    column: usize,
    label: Option<String>,
}

impl Reporter for JsonReporter {
    fn write(&self, report: &Report<'_>, _command: &str, out: &mut dyn Write) -> io::Result<()> {
        let output = Output {
            verdict: if report.passed() { "pass" } else { "fail" },
            train: report.train,
            test: report.test,
            results: report.verdict.results.iter().map(result_output).collect(),
            post: report.post.map(|post| post.results.iter().map(result_output).collect()).unwrap_or_default(),
            run: report.run.as_ref(),
        };
        serde_json::to_writer_pretty(&mut *out, &output)?;
        writeln!(out)
    }
}

fn result_output(result: &RuleResult) -> ResultOutput<'_> {
    ResultOutput {
        rule: &result.rule,
        severity: result.severity,
        outcome: result.outcome,
        message: &result.message,
        summary: &result.summary,
        help: result.finding.as_ref().and_then(|finding| finding.help.as_deref()),
        locations: result.finding.as_ref().map(locations).unwrap_or_default(),
    }
}

/// Writes an input error as `{"verdict": "error", "error": {"code", "message", "help", "locations"}}`,
/// so that a JSON reader gets a report even when the command stopped early.
pub fn write_error(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let error = serde_json::json!({
        "verdict": "error",
        "error": {
            "code": finding.code,
            "message": finding.message,
            "help": finding.help,
            "locations": locations(finding),
        },
    });
    serde_json::to_writer_pretty(&mut *out, &error)?;
    writeln!(out)
}

fn locations(finding: &Finding) -> Vec<LocationOutput> {
    let mut found = Vec::new();
    for finding in std::iter::once(finding).chain(finding.related.iter()) {
        let Some(source) = &finding.source else { continue };
        for label in &finding.labels {
            let (line, column) = source.line_column(label.span.start);
            found.push(LocationOutput { source: source.name().to_string(), line, column, label: label.text.clone() });
        }
    }
    found
}
