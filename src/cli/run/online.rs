//! The steps of `run` against the live service or the emulator.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};

use super::RunArgs;
use crate::cli::check::online::{check_with, connect, report_aws_error, report_gather_error, runtime, Online};
use crate::cli::check::{exit_for, load_rules, print_report, target};
use crate::cli::{report_input_error, Exit, Format};
use crate::facts::aws::error::Failure;
use crate::facts::aws::rekognition::{self, DatasetStatus};
use crate::facts::aws::{self as aws_facts, GatherError, IdentitySource};
use crate::facts::principal::parse_principal_arn;
use crate::report::{DatasetState, FinalState, Report, RunSummary};
use crate::rules::{self, Phase, RuleSet, Verdict};

/// The maximum wait between two status reads.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Statuses in which a dataset may be split.
const SETTLED: &[&str] = &["CREATE_COMPLETE", "UPDATE_COMPLETE"];

/// Points where tests can act between the steps of `run`.
#[derive(Default)]
pub struct Hooks {
    /// Called after the checks passed and the split was confirmed, just
    /// before both datasets are read again.
    pub before_reread: Option<Box<dyn Fn() + Send + Sync>>,
    /// Called after both datasets reached UPDATE_COMPLETE, just before they
    /// are read for the post-split checks.
    pub before_verify: Option<Box<dyn Fn() + Send + Sync>>,
}

/// The conclusion of `run`: exit code, verdicts and summary.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub exit: Exit,
    /// The pre-split verdict, when the checks ran.
    pub verdict: Option<Verdict>,
    /// The post-split verdict, when the split completed.
    pub post: Option<Verdict>,
    pub summary: RunSummary,
}

impl RunOutcome {
    fn stopped(exit: Exit, verdict: Option<Verdict>, reason: impl Into<String>) -> RunOutcome {
        RunOutcome { exit, verdict, post: None, summary: RunSummary { executed: false, succeeded: false, reason: Some(reason.into()), final_state: None } }
    }
}

pub fn run(args: RunArgs) -> Exit {
    if let Some(path) = &args.check.snapshot {
        crate::status_line!("error: run acts on the live service, so it does not take --snapshot {}", path.display());
        crate::status_line!("  help: check the snapshot with `check --snapshot`, or leave --snapshot out to run against the account");
        return Exit::Input;
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !args.yes && !interactive {
        crate::status_line!("error: run needs --yes unless stdin and stderr are both a terminal, because it asks for confirmation on stderr");
        crate::status_line!("  help: add --yes to split without a prompt");
        return Exit::Input;
    }
    let rules = match load_rules(&args.check.rules) {
        Ok(rules) => rules,
        Err(finding) => return report_input_error(finding),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return report_aws_error(&error),
    };

    runtime.block_on(async {
        let online = match connect(&args.check).await {
            Ok(online) => online,
            Err(error) => {
                let reason = match &error {
                    GatherError::Aws(error) => error.message.clone(),
                    GatherError::Input(finding) => finding.message.clone(),
                };
                let finding = match &error {
                    GatherError::Aws(error) => error.to_finding(),
                    GatherError::Input(finding) => finding.clone(),
                };
                let exit = report_gather_error(error);
                if args.check.format == Format::Github {
                    let _ = crate::cli::write_stdout(|out| crate::report::github::write_error(&finding, out));
                }
                if args.check.format == Format::Json {
                    let summary = RunSummary { executed: false, succeeded: false, reason: Some(reason), final_state: None };
                    let empty = Verdict { results: Vec::new() };
                    let report = Report { train: &args.check.train, test: &args.check.test, verdict: &empty, post: None, run: Some(summary) };
                    let _ = print_report(&report, "run", args.check.format);
                }
                return exit;
            }
        };
        let outcome = execute(&args, &rules, &online, &Hooks::default()).await;
        // A run stopped before any rule ran still owes machine readers a
        // report: JSON gets one without results, GitHub an annotation.
        let empty = Verdict { results: Vec::new() };
        let verdict = match &outcome.verdict {
            Some(verdict) => Some(verdict),
            None if args.check.format == Format::Human => None,
            None => Some(&empty),
        };
        if let Some(verdict) = verdict {
            let summary = RunSummary { succeeded: outcome.exit == Exit::Pass, ..outcome.summary.clone() };
            let report = Report { train: &args.check.train, test: &args.check.test, verdict, post: outcome.post.as_ref(), run: Some(summary) };
            // The exit code reports the split, which happened whether or not
            // the report could be written; a failed write is on stderr.
            let _ = print_report(&report, "run", args.check.format);
        }
        outcome.exit
    })
}

/// Runs every step after the session is set up. Errors are printed to
/// stderr as they happen; the outcome carries the exit code and the report.
pub async fn execute(args: &RunArgs, rules: &RuleSet, online: &Online, hooks: &Hooks) -> RunOutcome {
    let (gathered, verdict) = match check_with(&args.check, rules, online).await {
        Ok(checked) => checked,
        Err(GatherError::Aws(error)) => {
            let exit = report_aws_error(&error);
            return RunOutcome::stopped(exit, None, error.message);
        }
        Err(GatherError::Input(finding)) => {
            let reason = finding.message.clone();
            return RunOutcome::stopped(report_input_error(finding), None, reason);
        }
    };

    if let Some(principal) = &args.check.principal {
        let caller = caller_arn(&gathered.snapshot, &online.identity);
        if !same_principal(principal, caller.as_deref()) {
            let caller = caller.unwrap_or_else(|| "unknown".into());
            crate::status_line!("error: run calls DistributeDatasetEntries as the caller {caller}, so it does not take --principal {principal}");
            crate::status_line!("  help: check another principal with `check --principal`, or run with that principal's credentials");
            return RunOutcome::stopped(Exit::Input, None, "--principal names another principal than the caller");
        }
    }
    if exit_for(&verdict) != Exit::Pass {
        return RunOutcome::stopped(Exit::Blocked, Some(verdict), "the checks did not pass, so nothing was executed");
    }
    if !args.yes && !confirm(&args.check.train, &args.check.test) {
        return RunOutcome::stopped(Exit::Blocked, Some(verdict), "the split was not confirmed, so nothing was executed");
    }

    if let Some(hook) = &hooks.before_reread {
        hook();
    }
    if let Err((exit, reason)) = reread(online, &args.check.train, &args.check.test).await {
        crate::status_line!("error: {reason}");
        return RunOutcome::stopped(exit, Some(verdict), reason);
    }

    if let Err(failure) = rekognition::distribute(&online.session, &args.check.train, &args.check.test).await {
        let reason = match failure {
            Failure::Stop(error) => error.message,
            Failure::Denied(message) => message,
            Failure::NotFound => "DistributeDatasetEntries returned ResourceNotFoundException: a dataset no longer exists".into(),
        };
        crate::status_line!("error: {reason}");
        return RunOutcome::stopped(Exit::Runtime, Some(verdict), reason);
    }

    let waited = wait(online, args).await;
    let final_state = waited.final_state();
    let executed = |exit, reason: String, post| RunOutcome {
        exit,
        verdict: Some(verdict.clone()),
        post,
        summary: RunSummary { executed: true, succeeded: false, reason: Some(reason), final_state: final_state.clone() },
    };
    match waited.end {
        WaitEnd::Complete => {}
        WaitEnd::Failed => {
            let message = waited.status_messages();
            return executed(Exit::UpdateFailed, format!("the split ended in UPDATE_FAILED: {message}"), None);
        }
        WaitEnd::TimedOut | WaitEnd::Interrupted => {
            let cause = if waited.end == WaitEnd::TimedOut { format!("waiting timed out after {}", human(args.timeout)) } else { "waiting was interrupted".into() };
            return executed(Exit::TimedOut, format!("{cause}; the split may still be running on the service: check it with {}", describe_commands(args)), None);
        }
        WaitEnd::Lost(reason) => return executed(Exit::UpdateFailed, reason, None),
    }

    if let Some(hook) = &hooks.before_verify {
        hook();
    }
    verify(args, rules, online, &gathered.facts, verdict.clone(), final_state).await
}

/// Evaluates the `post` rules on the datasets as they are after the split.
async fn verify(args: &RunArgs, rules: &RuleSet, online: &Online, before: &crate::facts::Facts, verdict: Verdict, final_state: Option<FinalState>) -> RunOutcome {
    let summary = |reason: Option<String>| RunSummary { executed: true, succeeded: false, reason, final_state: final_state.clone() };
    let after = match target(&args.check) {
        Ok(target) => aws_facts::gather(&online.session, &target, &IdentitySource::None, &[]).await,
        Err(finding) => Err(GatherError::Input(finding)),
    };
    let after = match after {
        Ok(after) => after,
        Err(error) => {
            let reason = match &error {
                GatherError::Aws(error) => error.message.clone(),
                GatherError::Input(finding) => finding.message.clone(),
            };
            report_gather_error(error);
            let reason = format!("the split completed, but the result could not be read to verify it: {reason}");
            return RunOutcome { exit: Exit::Blocked, verdict: Some(verdict), post: None, summary: summary(Some(reason)) };
        }
    };
    let post = rules::evaluate(rules, &after.facts, Phase::Post, Some(before));
    if post.passed() {
        RunOutcome { exit: Exit::Pass, verdict: Some(verdict), post: Some(post), summary: summary(None) }
    } else {
        let reason = "the split completed, but a post-split check failed".to_string();
        RunOutcome { exit: Exit::Blocked, verdict: Some(verdict), post: Some(post), summary: summary(Some(reason)) }
    }
}

fn caller_arn(snapshot: &serde_json::Value, identity: &IdentitySource) -> Option<String> {
    if let Some(arn) = snapshot["caller"]["Arn"].as_str() {
        return Some(arn.to_string());
    }
    match identity {
        IdentitySource::World(world) => world.root.get("caller")?.get("Arn")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// True when `principal` is the caller, given as the session ARN or as the
/// role or user ARN behind it.
fn same_principal(principal: &str, caller: Option<&str>) -> bool {
    let Some(caller) = caller else { return false };
    if principal == caller {
        return true;
    }
    match (parse_principal_arn(principal), parse_principal_arn(caller)) {
        (Ok(given), Ok(caller)) => {
            given.account == caller.account && given.kind == caller.kind && given.name == caller.name && (given.session.is_none() || given.session == caller.session)
        }
        _ => false,
    }
}

fn confirm(train: &str, test: &str) -> bool {
    let _ = write!(std::io::stderr(), "Split 20% of {train} into {test}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Reads both datasets again just before the call, because another client
/// may have changed them since the checks ran.
async fn reread(online: &Online, train: &str, test: &str) -> Result<(), (Exit, String)> {
    let (train_status, test_status) = tokio::join!(rekognition::dataset_status(&online.session, train), rekognition::dataset_status(&online.session, test));
    for (key, arn, status) in [("training", train, train_status), ("test", test, test_status)] {
        let status = match status {
            Ok(Some(status)) => status,
            Ok(None) => return Err((Exit::Blocked, format!("the {key} dataset {arn} no longer exists, so nothing was executed"))),
            Err(Failure::Stop(error)) => return Err((Exit::Runtime, error.message)),
            Err(Failure::Denied(message)) => return Err((Exit::Runtime, message)),
            Err(Failure::NotFound) => return Err((Exit::Blocked, format!("the {key} dataset {arn} no longer exists, so nothing was executed"))),
        };
        if !SETTLED.contains(&status.status.as_str()) {
            return Err((Exit::Blocked, format!("the {key} dataset changed since the checks: it is now {}, so nothing was executed", status.status)));
        }
        if key == "test" && status.total_entries != Some(0) {
            let count = status.total_entries.map_or_else(|| "unknown".to_string(), |count| count.to_string());
            return Err((Exit::Blocked, format!("the test dataset changed since the checks: its TotalEntries is now {count}, so nothing was executed")));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WaitEnd {
    Complete,
    Failed,
    TimedOut,
    Interrupted,
    /// A dataset could not be read any more.
    Lost(String),
}

struct Waited {
    end: WaitEnd,
    train: Option<DatasetStatus>,
    test: Option<DatasetStatus>,
}

impl Waited {
    fn final_state(&self) -> Option<FinalState> {
        let state = |status: &DatasetStatus| DatasetState { status: status.status.clone(), total_entries: status.total_entries, status_message: status.status_message.clone() };
        Some(FinalState { train: state(self.train.as_ref()?), test: state(self.test.as_ref()?) })
    }

    fn status_messages(&self) -> String {
        let mut messages = Vec::new();
        for (key, status) in [("train", &self.train), ("test", &self.test)] {
            if let Some(status) = status.as_ref().filter(|status| status.status == "UPDATE_FAILED") {
                messages.push(format!("{key}: {}", status.status_message.as_deref().unwrap_or("no StatusMessage")));
            }
        }
        messages.join("; ")
    }
}

/// Polls both datasets until both are UPDATE_COMPLETE, either is
/// UPDATE_FAILED, the timeout passes or Ctrl-C is pressed.
async fn wait(online: &Online, args: &RunArgs) -> Waited {
    let started = Instant::now();
    let deadline = started + args.timeout;
    let progress = Progress::new();
    let mut interval = args.poll_interval;
    let mut waited = Waited { end: WaitEnd::TimedOut, train: None, test: None };
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);

    loop {
        let (train, test) = tokio::join!(
            rekognition::dataset_status(&online.session, &args.check.train),
            rekognition::dataset_status(&online.session, &args.check.test)
        );
        let mut deleted = false;
        for (slot, result) in [(&mut waited.train, train), (&mut waited.test, test)] {
            match result {
                Ok(Some(status)) => *slot = Some(status),
                Ok(None) | Err(Failure::NotFound) => deleted = true,
                Err(Failure::Stop(error)) => tracing::warn!(error = %error.message, "reading a dataset's status failed; trying again"),
                Err(Failure::Denied(message)) => tracing::warn!(%message, "reading a dataset's status was denied; trying again"),
            }
        }
        if deleted {
            waited.end = WaitEnd::Lost("a dataset was deleted while the split was running".into());
            break;
        }
        let statuses = [&waited.train, &waited.test].map(|status| status.as_ref().map(|status| status.status.as_str()));
        progress.show(started.elapsed(), statuses);
        if statuses.contains(&Some("UPDATE_FAILED")) {
            waited.end = WaitEnd::Failed;
            break;
        }
        if statuses == [Some("UPDATE_COMPLETE"); 2] {
            waited.end = WaitEnd::Complete;
            break;
        }

        let now = Instant::now();
        if now >= deadline {
            waited.end = WaitEnd::TimedOut;
            break;
        }
        let pause = jitter(interval).min(deadline - now);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = &mut interrupt => {
                waited.end = WaitEnd::Interrupted;
                break;
            }
        }
        interval = (interval.mul_f64(1.5)).min(MAX_POLL_INTERVAL);
    }
    progress.finish();
    waited
}

/// Spreads `interval` by up to 20% either way, so that many runs started
/// together do not poll in step.
fn jitter(interval: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.subsec_nanos()).unwrap_or(0);
    let factor = 0.8 + 0.4 * f64::from(nanos % 1000) / 1000.0;
    interval.mul_f64(factor)
}

/// A spinner with the elapsed time and both statuses on a terminal, plain
/// lines on stderr otherwise.
struct Progress {
    spinner: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { spinner: None };
        }
        let spinner = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} splitting [{elapsed}] {msg}") {
            spinner.set_style(style);
        }
        spinner.enable_steady_tick(Duration::from_millis(120));
        Progress { spinner: Some(spinner) }
    }

    fn show(&self, elapsed: Duration, statuses: [Option<&str>; 2]) {
        let [train, test] = statuses.map(|status| status.unwrap_or("unknown"));
        match &self.spinner {
            Some(spinner) => spinner.set_message(format!("train {train}, test {test}")),
            None => crate::status_line!("waiting for the split ({}s): train {train}, test {test}", elapsed.as_secs()),
        }
    }

    fn finish(&self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

fn describe_commands(args: &RunArgs) -> String {
    format!(
        "`aws rekognition describe-dataset --dataset-arn {}` and `aws rekognition describe-dataset --dataset-arn {}`",
        args.check.train, args.check.test
    )
}

fn human(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 60.0 && seconds % 60.0 == 0.0 { format!("{}m", seconds / 60.0) } else { format!("{seconds}s") }
}
