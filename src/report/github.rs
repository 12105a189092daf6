//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`
//! per rule that failed or could not decide, escaped as the runner requires.

use std::io::{self, Write};

use super::{Report, Reporter};
use crate::finding::Finding;
use crate::rules::{Outcome, Severity};

pub struct GithubReporter;

impl Reporter for GithubReporter {
    fn write(&self, report: &Report<'_>, command: &str, out: &mut dyn Write) -> io::Result<()> {
        for result in report.results() {
            if !matches!(result.outcome, Outcome::Fail | Outcome::Error) {
                continue;
            }
            let level = match (result.outcome, result.severity) {
                (Outcome::Error, _) | (_, Severity::Error) => "error",
                (_, Severity::Warning) => "warning",
                (_, Severity::Info) => "notice",
            };
            let mut properties = Vec::new();
            let position = result.finding.as_ref().and_then(|finding| finding.position()).filter(|(name, ..)| is_file(name));
            if let Some((file, line, column)) = position {
                properties.push(format!("file={}", escape_property(&file)));
                properties.push(format!("line={line}"));
                properties.push(format!("col={column}"));
            }
            let title = format!("{} ({})", result.rule, result.outcome);
            properties.push(format!("title={}", escape_property(&title)));
            let mut message = result.message.clone();
            if let Some(help) = result.finding.as_ref().and_then(|finding| finding.help.as_ref()) {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            writeln!(out, "::{level} {}::{}", properties.join(","), escape_data(&message))?;
        }
        if let Some(run) = report.run.as_ref().filter(|run| !run.succeeded) {
            if let Some(reason) = &run.reason {
                let title = if run.executed { "run: the split did not complete" } else { "run: nothing was executed" };
                writeln!(out, "::error title={}::{}", escape_property(title), escape_data(reason))?;
            }
        }
        writeln!(out, "{}", report.summary_line(command))
    }
}

/// Writes an input error as one `::error` command, located when the error
/// points into a file.
pub fn write_error(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let mut properties = Vec::new();
    if let Some((file, line, column)) = finding.position().filter(|(name, ..)| is_file(name)) {
        properties.push(format!("file={}", escape_property(&file)));
        properties.push(format!("line={line}"));
        properties.push(format!("col={column}"));
    }
    properties.push(format!("title={}", escape_property(&finding.code)));
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    writeln!(out, "::error {}::{}", properties.join(","), escape_data(&message))
}

/// Tells whether a source name is a file that an annotation can point at.
/// The `arguments`, a flag such as `--test`, and responses from the service
/// are not.
fn is_file(name: &str) -> bool {
    std::path::Path::new(name).is_file()
}

/// Escapes a message as the runner expects: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: the data escapes plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_newlines() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
    }

    #[test]
    fn properties_escape_colon_and_comma() {
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
