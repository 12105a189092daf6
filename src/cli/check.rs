//! `check`: gather facts, run every rule, print the verdict.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

#[cfg(feature = "aws")]
pub mod online;
#[cfg(feature = "aws")]
mod permissions;

use super::{report_input_error, AwsArgs, Exit, Format, RuleArgs};
use crate::facts::snapshot::{CheckTarget, Snapshot};
use crate::facts::Facts;
use crate::finding::Finding;
use crate::report::{GithubReporter, HumanReporter, JsonReporter, Report, Reporter};
use crate::rules::{self, Phase, RuleSet, Verdict};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// ARN of the training dataset.
    #[arg(long, value_name = "ARN")]
    pub train: String,
    /// ARN of the test dataset.
    #[arg(long, value_name = "ARN")]
    pub test: String,
    /// Take every fact from this snapshot file instead of the live service.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// The principal whose permissions are checked (default: the caller).
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// Set a condition key for the permission check, e.g. aws:SourceIp=203.0.113.7 (repeatable).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Serve the Rekognition calls from a local emulator seeded from this
    /// world file, and take the caller and IAM policies from the file.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    pub emulator: Option<PathBuf>,
    /// A service control policy file: one document or an array (repeatable, root first).
    #[arg(long = "scp", value_name = "FILE", conflicts_with = "snapshot")]
    pub scp: Vec<PathBuf>,
    /// How to decide principal-allowed: the built-in evaluator (local), IAM's
    /// SimulatePrincipalPolicy (aws), or both, reporting any disagreement.
    #[arg(long, value_enum, default_value_t, conflicts_with = "snapshot")]
    pub permissions: Permissions,
}

/// Who decides whether the principal may call DistributeDatasetEntries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Permissions {
    #[default]
    Local,
    Aws,
    Both,
}

pub fn run(args: CheckArgs) -> Exit {
    let rules = match load_rules(&args.rules) {
        Ok(rules) => rules,
        Err(finding) => return input_error(finding, args.format),
    };
    #[cfg(feature = "aws")]
    if args.snapshot.is_none() {
        return online::check(&args, &rules);
    }
    let facts = match gather(&args) {
        Ok(facts) => facts,
        Err(finding) => return input_error(finding, args.format),
    };
    let verdict = rules::evaluate(&rules, &facts, Phase::Pre, None);
    let report = Report { train: &args.train, test: &args.test, verdict: &verdict, post: None, run: None };
    if let Err(exit) = print_report(&report, "check", args.format) {
        return exit;
    }
    exit_for(&verdict)
}

/// Reports an input error on stderr and, for the machine formats, on stdout
/// too, so that a CI job that reads stdout learns why the check stopped.
pub fn input_error(finding: Finding, format: Format) -> Exit {
    let written = match format {
        Format::Human => Ok(()),
        Format::Json => super::write_stdout(|out| crate::report::json::write_error(&finding, out)),
        Format::Github => super::write_stdout(|out| crate::report::github::write_error(&finding, out)),
    };
    let exit = report_input_error(finding);
    written.err().unwrap_or(exit)
}

pub fn load_rules(args: &RuleArgs) -> Result<RuleSet, Finding> {
    rules::load_rules(&args.rule_dirs, &args.ignore, &args.severity)
}

/// Parses `--context KEY=VALUE` pairs.
pub fn parse_context(pairs: &[String]) -> Result<Vec<(String, String)>, Finding> {
    pairs
        .iter()
        .map(|pair| {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(Finding::error("input::usage", format!("--context `{pair}` is not KEY=VALUE"))
                    .with_help("write it as e.g. --context aws:SourceIp=203.0.113.7"));
            };
            let key = key.trim();
            if !key.contains(':') || key.starts_with(':') {
                return Err(Finding::error("input::usage", format!("--context key `{key}` is not a condition key"))
                    .with_help("condition keys have a service prefix, such as aws:SourceIp or aws:MultiFactorAuthPresent"));
            }
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

/// Builds the check target (train/test pair, principal, context) from `args`.
pub fn target(args: &CheckArgs) -> Result<CheckTarget, Finding> {
    Ok(CheckTarget {
        train: args.train.clone(),
        test: args.test.clone(),
        principal: args.principal.clone(),
        context: parse_context(&args.context)?,
    })
}

fn gather(args: &CheckArgs) -> Result<Facts, Finding> {
    let target = target(args)?;
    match &args.snapshot {
        Some(path) => Snapshot::read(path)?.facts(&target),
        None => Err(Finding::error("input::usage", "no fact source: the live AWS mode is not available in this build")
            .with_help("pass --snapshot FILE; examples/snapshot.json is a complete example")),
    }
}

/// Writes the report in the chosen format to stdout. A failed write other
/// than a closed pipe is a runtime error (exit 3), so that lost output never
/// looks like a pass.
pub fn print_report(report: &Report<'_>, command: &str, format: Format) -> Result<(), Exit> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = super::terminal_width();
    let reporter: Box<dyn Reporter> = match format {
        Format::Human => Box::new(HumanReporter { width, color }),
        Format::Json => Box::new(JsonReporter),
        Format::Github => Box::new(GithubReporter),
    };
    super::write_stdout(|out| reporter.write(report, command, out))
}

pub fn exit_for(verdict: &Verdict) -> Exit {
    if verdict.passed() { Exit::Pass } else { Exit::Blocked }
}
