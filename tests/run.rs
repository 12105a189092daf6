//! `run` against the emulator over real HTTP: the guarded path, injected
//! faults, datasets that change between the check and the call, and the
//! exit codes of each. The emulator's call log shows how often
//! DistributeDatasetEntries was called.

#![cfg(feature = "aws")]

mod support;

use std::time::{Duration, Instant};

use rekognition_preflight::cli::check::online::Online;
use rekognition_preflight::cli::run::{execute, Hooks, RunArgs, RunOutcome};
use rekognition_preflight::cli::{Cli, Command, Exit};
use rekognition_preflight::emulator::{self, EmulatorHandle, EmulatorOptions, Fault, FaultRule, Faults, Times, World};
use rekognition_preflight::facts::aws::session;
use rekognition_preflight::facts::aws::IdentitySource;
use rekognition_preflight::facts::snapshot::Snapshot;
use rekognition_preflight::rules::load_rules;

use support::{TEST, TRAIN};

const DISTRIBUTE: &str = "DistributeDatasetEntries";

fn run_args(extra: &[&str]) -> RunArgs {
    let mut argv = vec!["rekognition-preflight", "run", "--train", TRAIN, "--test", TEST, "--yes", "--poll-interval", "100ms"];
    argv.extend_from_slice(extra);
    let cli = <Cli as clap::Parser>::try_parse_from(argv).expect("valid run arguments");
    match cli.command {
        Command::Run(args) => args,
        other => panic!("expected run, parsed {other:?}"),
    }
}

async fn start(world_text: &str, faults: Faults) -> (EmulatorHandle, Online) {
    let world = World::from_json(world_text, "world.json").expect("the world parses");
    let options = EmulatorOptions { update_delay: Duration::from_millis(300), faults, ..EmulatorOptions::default() };
    let handle = emulator::start(world, options).await.expect("the emulator starts");
    let session = session::emulator(&handle.endpoint(), "us-east-1").await;
    let snapshot = Snapshot::parse("world.json", world_text.to_string()).expect("the world is a snapshot");
    let online = Online { session, identity: IdentitySource::World(snapshot), scps: Vec::new(), emulator: None };
    (handle, online)
}

async fn run_with(world_text: &str, faults: Faults, extra: &[&str], hooks: Hooks) -> (RunOutcome, EmulatorHandle) {
    let (handle, online) = start(world_text, faults).await;
    let rules = load_rules(&[], &[], &[]).expect("the default rules load");
    let outcome = execute(&run_args(extra), &rules, &online, &hooks).await;
    (outcome, handle)
}

fn distribute_calls(handle: &EmulatorHandle) -> usize {
    handle.calls().iter().filter(|call| call.operation == DISTRIBUTE).count()
}

fn world() -> String {
    support::read("examples/world.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_splits_and_verifies() {
    let (outcome, handle) = run_with(&world(), Faults::default(), &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Pass, "{:?}", outcome.summary);
    assert!(outcome.summary.executed);
    assert_eq!(distribute_calls(&handle), 1);
    let post = outcome.post.expect("post-split rules ran");
    assert!(post.passed());
    assert_eq!(post.results.len(), 2);
    let state = outcome.summary.final_state.expect("final state");
    assert_eq!(state.train.status, "UPDATE_COMPLETE");
    assert_eq!(state.test.status, "UPDATE_COMPLETE");
    assert_eq!(state.train.total_entries.unwrap_or(0) + state.test.total_entries.unwrap_or(0), 120);
    assert!(state.test.total_entries.unwrap_or(0) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_then_succeeds() {
    let faults = Faults { throttle_first: 2, ..Faults::default() };
    let (outcome, handle) = run_with(&world(), faults, &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Pass, "{:?}", outcome.summary);
    let throttled = handle.calls().iter().filter(|call| call.error_type.as_deref() == Some("ThrottlingException")).count();
    assert_eq!(throttled, 2);
    assert_eq!(distribute_calls(&handle), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_server_errors_exit_3() {
    let faults = Faults { rules: vec![FaultRule::new("DescribeDataset", Fault::InternalError, Times::Always)], ..Faults::default() };
    let (outcome, handle) = run_with(&world(), faults, &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Runtime);
    assert!(!outcome.summary.executed);
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("rekognition:DescribeDataset"), "{reason}");
    assert!(reason.contains("InternalServerError"), "{reason}");
    let attempts = handle.calls().iter().filter(|call| call.operation == "DescribeDataset").count();
    assert!(attempts >= session::MAX_ATTEMPTS as usize, "retried {attempts} times");
    assert_eq!(distribute_calls(&handle), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_filled_before_call_aborts() {
    let (handle, online) = start(&world(), Faults::default()).await;
    let handle = std::sync::Arc::new(handle);
    let filler = std::sync::Arc::clone(&handle);
    let hooks = Hooks {
        before_reread: Some(Box::new(move || {
            let line = r#"{"source-ref":"s3://bucket/late.jpg","defect":1,"defect-metadata":{"class-name":"scratch"}}"#;
            filler.add_entries(TEST, &[line]).expect("the test dataset exists");
        })),
        ..Hooks::default()
    };
    let rules = load_rules(&[], &[], &[]).expect("the default rules load");
    let outcome = execute(&run_args(&[]), &rules, &online, &hooks).await;

    assert_eq!(outcome.exit, Exit::Blocked);
    assert!(!outcome.summary.executed);
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("TotalEntries is now 1"), "{reason}");
    assert_eq!(distribute_calls(&handle), 0);
    insta::assert_snapshot!(reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_deleted_before_call_aborts() {
    let (handle, online) = start(&world(), Faults::default()).await;
    let handle = std::sync::Arc::new(handle);
    let deleter = std::sync::Arc::clone(&handle);
    let hooks = Hooks { before_reread: Some(Box::new(move || deleter.delete_dataset(TRAIN).expect("the dataset exists"))), ..Hooks::default() };
    let rules = load_rules(&[], &[], &[]).expect("the default rules load");
    let outcome = execute(&run_args(&[]), &rules, &online, &hooks).await;

    assert_eq!(outcome.exit, Exit::Blocked);
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("no longer exists"), "{reason}");
    assert_eq!(distribute_calls(&handle), 0);
    insta::assert_snapshot!(reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_failed_exits_4() {
    let faults = Faults { fail_distribution: true, ..Faults::default() };
    let (outcome, handle) = run_with(&world(), faults, &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::UpdateFailed);
    assert!(outcome.summary.executed);
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("UPDATE_FAILED"), "{reason}");
    assert_eq!(distribute_calls(&handle), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_deleted_while_waiting_exits_4() {
    let faults = Faults { never_complete: true, ..Faults::default() };
    let (handle, online) = start(&world(), faults).await;
    let handle = std::sync::Arc::new(handle);
    let deleter = std::sync::Arc::clone(&handle);
    // Delete the test dataset once the split has been called, while run polls.
    let watcher = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while distribute_calls(&deleter) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        deleter.delete_dataset(TEST).expect("the test dataset exists");
    });
    let rules = load_rules(&[], &[], &[]).expect("the default rules load");
    let outcome = execute(&run_args(&["--timeout", "10s"]), &rules, &online, &Hooks::default()).await;
    watcher.join().expect("the watcher thread ends");

    assert_eq!(outcome.exit, Exit::UpdateFailed, "{:?}", outcome.summary);
    assert!(outcome.summary.executed);
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("no longer exists") || reason.contains("deleted"), "{reason}");
    assert_eq!(distribute_calls(&handle), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_split_times_out() {
    let faults = Faults { never_complete: true, ..Faults::default() };
    let started = Instant::now();
    let (outcome, handle) = run_with(&world(), faults, &["--timeout", "2s"], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());
    let reason = outcome.summary.reason.unwrap_or_default();
    assert!(reason.contains("may still be running"), "{reason}");
    assert!(reason.contains("aws rekognition describe-dataset --dataset-arn"), "{reason}");
    assert_eq!(distribute_calls(&handle), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_check_executes_nothing() {
    let world = support::read("tests/fixtures/online/test-not-empty.json");
    let (outcome, handle) = run_with(&world, Faults::default(), &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Blocked);
    assert!(!outcome.summary.executed);
    let verdict = outcome.verdict.expect("the checks ran");
    assert!(!verdict.passed());
    assert_eq!(distribute_calls(&handle), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_principal_is_rejected() {
    let (outcome, handle) = run_with(&world(), Faults::default(), &["--principal", "arn:aws:iam::111122223333:role/someone-else"], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Input);
    assert_eq!(distribute_calls(&handle), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_role_as_principal_is_accepted() {
    let (outcome, handle) = run_with(&world(), Faults::default(), &["--principal", "arn:aws:iam::111122223333:role/ml-pipeline"], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Pass, "{:?}", outcome.summary);
    assert_eq!(distribute_calls(&handle), 1);
}

#[test]
fn cli_run_with_emulator_splits() {
    let home = support::TempDir::new("cli-run");
    let world = support::repo_path("examples/world.json");
    let args = ["run", "--train", TRAIN, "--test", TEST, "--yes", "--poll-interval", "500ms", "--format", "json", "--emulator"];
    let (exit, stdout, stderr) = support::run(support::cli(&home).args(args).arg(&world));

    assert_eq!(exit, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["executed"], serde_json::json!(true));
    assert_eq!(report["final"]["train"]["status"], "UPDATE_COMPLETE");
    assert_eq!(report["final"]["train"]["total_entries"], 96);
    assert_eq!(report["final"]["test"]["total_entries"], 24);
    assert!(stderr.contains("waiting for the split"), "plain progress lines without a terminal: {stderr}");
}

#[test]
fn cli_run_without_yes_is_rejected() {
    let home = support::TempDir::new("no-yes");
    let world = support::repo_path("examples/world.json");
    let (exit, stdout, stderr) = support::run(support::cli(&home).args(["run", "--train", TRAIN, "--test", TEST, "--emulator"]).arg(&world));

    assert_eq!(exit, 2);
    assert!(stdout.is_empty());
    insta::assert_snapshot!(stderr);
}

#[test]
fn cli_run_rejects_snapshot() {
    let home = support::TempDir::new("run-snapshot");
    let (exit, _, stderr) = support::run(support::cli(&home).args(["run", "--train", TRAIN, "--test", TEST, "--yes", "--snapshot", "examples/world.json"]));

    assert_eq!(exit, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn cli_run_refused_endpoint_exits_3() {
    let home = support::TempDir::new("run-refused");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, stdout, stderr) = support::run(support::cli(&home).args(["run", "--train", TRAIN, "--test", TEST, "--yes", "--endpoint-url", &endpoint]));

    assert_eq!(exit, 3);
    assert!(stdout.is_empty());
    assert!(stderr.contains(&endpoint), "{stderr}");
}

#[test]
fn timed_out_run_reports_failure() {
    let home = support::TempDir::new("run-timeout-json");
    let world = support::repo_path("examples/world.json");
    let world = world.to_string_lossy();
    let args = ["run", "--train", TRAIN, "--test", TEST, "--yes", "--timeout", "1s", "--format", "json", "--emulator", world.as_ref()];
    let (exit, stdout, _) = support::run(support::cli(&home).args(args));

    assert_eq!(exit, 5);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON report");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["executed"], true);
    assert_eq!(report["succeeded"], false);
    assert!(report["reason"].as_str().is_some_and(|reason| reason.contains("timed out")), "{stdout}");

    let github = ["run", "--train", TRAIN, "--test", TEST, "--yes", "--timeout", "1s", "--format", "github", "--emulator", world.as_ref()];
    let (exit, stdout, _) = support::run(support::cli(&home).args(github));
    assert_eq!(exit, 5);
    assert!(stdout.contains("::error title=run%3A the split did not complete::waiting timed out"), "{stdout}");
    assert!(stdout.contains("run failed:"), "{stdout}");
}

#[test]
fn closed_stderr_still_completes_run() {
    let home = support::TempDir::new("run-closed-stderr");
    let world = support::repo_path("examples/world.json");
    let mut child = support::cli(&home)
        .args(["run", "--train", TRAIN, "--test", TEST, "--yes", "--poll-interval", "200ms", "--format", "json", "--emulator"])
        .arg(&world)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the CLI");
    // Progress lines go to stderr; with its reader gone every write fails.
    drop(child.stderr.take());
    let output = child.wait_with_output().expect("the CLI exits");

    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON report");
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["final"]["test"]["status"], "UPDATE_COMPLETE");
}

#[test]
fn refused_endpoint_still_reports_json() {
    let home = support::TempDir::new("run-refused-json");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, stdout, _) = support::run(support::cli(&home).args(["run", "--train", TRAIN, "--test", TEST, "--yes", "--format", "json", "--endpoint-url", &endpoint]));

    assert_eq!(exit, 3);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON report");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["executed"], false);
    assert!(report["reason"].as_str().is_some_and(|reason| reason.contains(&endpoint)), "{stdout}");
}

#[test]
fn interrupt_while_waiting_exits_5() {
    use std::io::{BufRead, BufReader};

    let home = support::TempDir::new("interrupt");
    let world = support::repo_path("examples/world.json");
    let args = ["run", "--train", TRAIN, "--test", TEST, "--yes", "--poll-interval", "200ms", "--emulator"];
    let mut child = support::cli(&home).args(args).arg(&world).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("start the CLI");
    let stderr = child.stderr.take().expect("stderr pipe");
    let mut lines = BufReader::new(stderr).lines();

    let waiting = lines.by_ref().map_while(Result::ok).find(|line| line.starts_with("waiting for the split"));
    assert!(waiting.is_some(), "run never started waiting");
    std::thread::sleep(Duration::from_millis(400));
    let signalled = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(signalled.success());

    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("the CLI exits");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout pipe"), &mut stdout).expect("read stdout");
    assert_eq!(status.code(), Some(5), "stderr: {rest:?}");
    assert!(stdout.contains("waiting was interrupted"), "{stdout}");
    assert!(stdout.contains("may still be running"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_post_check_exits_1_executed() {
    let (handle, online) = start(&world(), Faults::default()).await;
    let handle = std::sync::Arc::new(handle);
    let intruder = std::sync::Arc::clone(&handle);
    let hooks = Hooks {
        before_verify: Some(Box::new(move || {
            let line = r#"{"source-ref":"s3://bucket/extra.jpg","defect":1,"defect-metadata":{"class-name":"dent"}}"#;
            intruder.add_entries(TRAIN, &[line, line, line]).expect("the training dataset exists");
        })),
        ..Hooks::default()
    };
    let rules = load_rules(&[], &[], &[]).expect("the default rules load");
    let outcome = execute(&run_args(&[]), &rules, &online, &hooks).await;

    assert_eq!(outcome.exit, Exit::Blocked);
    assert!(outcome.summary.executed);
    assert_eq!(distribute_calls(&handle), 1);
    let post = outcome.post.expect("post-split rules ran");
    let conserved = post.results.iter().find(|result| result.rule == "split-entries-conserved").expect("conservation rule");
    assert_eq!(conserved.outcome, rekognition_preflight::rules::Outcome::Fail);
    insta::assert_snapshot!(conserved.message);
}

/// Runs the CLI under `script`, which gives it a pseudo-terminal, with
/// `input` typed after a second; returns the exit code and the terminal
/// output. `None` when `script` is not installed.
fn run_in_terminal(args: &[&str], input: &str) -> Option<(i32, String)> {
    use std::io::Write;

    let binary = env!("CARGO_BIN_EXE_rekognition-preflight");
    let home = support::TempDir::new("terminal");
    let mut line = binary.to_string();
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let command = support::cli(&home);
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    let mut child = script.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().ok()?;
    std::thread::sleep(Duration::from_secs(1));
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    Some((output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned()))
}

#[test]
fn terminal_prompt_declined_executes_nothing() {
    let world = support::repo_path("examples/world.json");
    let world = world.to_string_lossy();
    let Some((exit, output)) = run_in_terminal(&["run", "--train", TRAIN, "--test", TEST, "--emulator", &world], "n\n") else {
        eprintln!("skipped: `script` is not installed");
        return;
    };

    assert_eq!(exit, 1, "{output}");
    assert!(output.contains("Split 20% of"), "{output}");
    assert!(output.contains("[y/N]"), "{output}");
    assert!(output.contains("the split was not confirmed"), "{output}");
}

#[test]
fn terminal_run_shows_spinner() {
    let world = support::repo_path("examples/world.json");
    let world = world.to_string_lossy();
    let args = ["run", "--train", TRAIN, "--test", TEST, "--poll-interval", "500ms", "--emulator", &world];
    let Some((exit, output)) = run_in_terminal(&args, "y\n") else {
        eprintln!("skipped: `script` is not installed");
        return;
    };

    assert_eq!(exit, 0, "{output}");
    assert!(output.contains("splitting ["), "{output}");
    assert!(output.contains("train UPDATE_IN_PROGRESS, test UPDATE_IN_PROGRESS"), "{output}");
    assert!(output.contains("the split was executed"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_server_errors_are_retried() {
    let faults = Faults { error_500_first: 2, ..Faults::default() };
    let (outcome, handle) = run_with(&world(), faults, &[], Hooks::default()).await;

    assert_eq!(outcome.exit, Exit::Pass, "{:?}", outcome.summary);
    let failed = handle.calls().iter().filter(|call| call.status == 500).count();
    assert_eq!(failed, 2);
    assert_eq!(distribute_calls(&handle), 1);
}
