//! The command-line interface: argument parsing and dispatch. Each command
//! lives in its own file; this one maps results to exit codes.

pub mod check;
mod collect;
mod emulate;
mod rules;
pub mod run;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Finding;

/// Exit codes. `check` uses 0–2, `run` adds 3–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every error-severity rule passed (for `run`: the split is done and verified).
    Pass = 0,
    /// A rule failed or could not decide; nothing was executed.
    Blocked = 1,
    /// Usage error or unreadable input.
    Input = 2,
    /// AWS or runtime error before the split was executed.
    Runtime = 3,
    /// The split ended in UPDATE_FAILED.
    UpdateFailed = 4,
    /// Waiting for the split timed out; it may still be running.
    TimedOut = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

#[derive(Debug, Parser)]
#[command(name = "rekognition-preflight", version, about = "Checks before Amazon Rekognition Custom Labels' DistributeDatasetEntries that it will succeed, and runs it only then.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log level for messages on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn", env = "REKOGNITION_PREFLIGHT_LOG")]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every rule for a train/test pair and print a verdict.
    Check(check::CheckArgs),
    /// Check, then call DistributeDatasetEntries, wait for it and verify the result.
    Run(run::RunArgs),
    /// Evaluate IAM requests against policy documents.
    Simulate(simulate::SimulateArgs),
    /// List the rules or explain one.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Serve the local Rekognition Custom Labels emulator.
    Emulate(emulate::EmulateArgs),
    /// Write a snapshot of the live facts for offline review.
    Collect(collect::CollectArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Github,
}

/// Flags that pick the rule folders and adjust rules.
#[derive(Debug, Clone, Args, Default)]
pub struct RuleArgs {
    /// Add the rules in this folder (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rule_dirs: Vec<PathBuf>,
    /// Leave this rule out (repeatable).
    #[arg(long = "ignore", value_name = "NAME")]
    pub ignore: Vec<String>,
    /// Change a rule's severity: NAME=error|warning|info (repeatable).
    #[arg(long = "severity", value_name = "NAME=LEVEL")]
    pub severity: Vec<String>,
}

/// Flags that set up the AWS session.
#[derive(Debug, Clone, Args, Default)]
pub struct AwsArgs {
    /// Named profile from the shared AWS config files.
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS Region; defaults to the profile's or AWS_REGION.
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint URL for every service (also AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>).
    #[arg(long)]
    pub endpoint_url: Option<String>,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let exit = if error.use_stderr() { Exit::Input } else { Exit::Pass };
            let _ = error.print();
            return exit.into();
        }
    };
    init_logging(&cli.log);

    let exit = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Run(args) => run::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Emulate(args) => emulate::run(args),
        Command::Collect(args) => collect::run(args),
    };
    exit.into()
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| QuietStderr).with_ansi(ansi).with_target(false).try_init();
}

/// Stderr for log events. A failed write is dropped: tracing would otherwise
/// report it with a panicking `eprintln!`, and a closed stderr must not stop
/// a run that has already called the service.
struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buffer);
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Prints an input error to stderr and returns the input-error exit code.
pub fn report_input_error(finding: Finding) -> Exit {
    use std::io::IsTerminal;

    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let reporter = crate::report::HumanReporter { width: terminal_width(), color };
    let _ = std::io::Write::write_all(&mut std::io::stderr(), reporter.render(&finding).as_bytes());
    Exit::Input
}

/// Writes a command's output to stdout and flushes it. A failed write (a
/// full disk) is a runtime error, so that lost output never looks like a
/// pass. A closed pipe is not: the reader chose to stop reading (as with
/// `| head -1`), and the exit code still reports the result.
pub fn write_stdout(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<(), Exit> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = write(&mut out).and_then(|()| std::io::Write::flush(&mut out));
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => {
            crate::status_line!("error: cannot write the output to stdout: {error}");
            Err(Exit::Runtime)
        }
    }
}

/// Returns the width for rendered diagnostics: `COLUMNS` when set, else 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|columns| columns.parse().ok()).unwrap_or(100)
}
