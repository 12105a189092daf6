//! Online facts over real HTTP: Rekognition from the emulator, STS and IAM
//! from moto or a loopback stub, through the CLI and through the library.

#![cfg(feature = "aws")]

mod support;

use std::collections::BTreeMap;

use rekognition_preflight::emulator::{self, EmulatorOptions, World};
use rekognition_preflight::facts::aws::{self as aws_facts, IdentitySource};
use rekognition_preflight::facts::snapshot::{CheckTarget, Snapshot};
use rekognition_preflight::facts::Known;
use rekognition_preflight::rules::{self, load_rules, Outcome, Phase, Verdict};
use serde::Deserialize;
use serde_json::Value;

use support::{cli, redact, run, TempDir, TEST, TRAIN};

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    world: String,
    test: Option<String>,
}


fn verdict_outcome(verdict: &Verdict, rule: &str) -> Outcome {
    verdict.results.iter().find(|result| result.rule == rule).map(|result| result.outcome).unwrap_or_else(|| panic!("no result for {rule}"))
}

#[test]
fn emulator_matches_snapshot_outcomes() {
    let cases: Vec<Case> = serde_json::from_str(&support::read("tests/fixtures/online/cases.json")).expect("cases parse");
    let home = TempDir::new("cases");
    for case in cases {
        let world = support::repo_path(&case.world);
        let test = case.test.as_deref().unwrap_or(TEST);
        let args = ["check", "--train", TRAIN, "--test", test, "--format", "json"];

        let (offline_exit, offline, _) = run(cli(&home).args(args).arg("--snapshot").arg(&world));
        let (online_exit, online, stderr) = run(cli(&home).args(args).arg("--emulator").arg(&world));

        assert_eq!(online_exit, offline_exit, "{}: exit codes differ; stderr: {stderr}", case.name);
        assert_eq!(support::outcomes(&online), support::outcomes(&offline), "{}: outcomes differ", case.name);
    }
}

#[test]
fn emulator_check_reports_emulator_mode() {
    let home = TempDir::new("mode");
    let world = support::repo_path("examples/world.json");
    let (exit, stdout, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--format", "json", "--emulator"]).arg(&world));

    assert_eq!(exit, 0, "{stderr}");
    assert!(support::outcomes(&stdout).values().all(|outcome| outcome == "pass"));
}

#[test]
fn broken_world_file_exits_2() {
    let home = TempDir::new("broken");
    let world = home.file("world.json", "{\n  \"rekognition\": {\n    \"region\": \"us-east-1\",\n  }\n}\n");
    let (exit, stdout, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--emulator"]).arg(&world));

    assert_eq!(exit, 2);
    assert!(stdout.is_empty());
    let home_text = home.0.display().to_string();
    insta::assert_snapshot!(redact(&stderr.replace(&home_text, "TMP")));
}

#[test]
fn refused_endpoint_exits_3() {
    let home = TempDir::new("refused");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, stdout, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--endpoint-url", &endpoint]));

    assert_eq!(exit, 3);
    assert!(stdout.is_empty());
    assert!(stderr.contains(&endpoint), "{stderr}");
    insta::assert_snapshot!(redact(&stderr));
}

#[test]
fn aws_error_reaches_machine_formats() {
    let home = TempDir::new("refused-formats");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, stdout, _) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--format", "json", "--endpoint-url", &endpoint]));
    assert_eq!(exit, 3);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["error"]["code"], "aws::call");

    let (exit, stdout, _) = run(cli(&home).args(["run", "--yes", "--train", TRAIN, "--test", TEST, "--format", "github", "--endpoint-url", &endpoint]));
    assert_eq!(exit, 3);
    assert!(stdout.starts_with("::error title=run%3A nothing was executed::sts:GetCallerIdentity could not reach"), "{stdout}");
}

#[test]
fn missing_credentials_exit_3() {
    let home = TempDir::new("credentials");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let mut command = cli(&home);
    command.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
    let (exit, _, stderr) = run(command.args(["check", "--train", TRAIN, "--test", TEST, "--endpoint-url", &endpoint]));

    assert_eq!(exit, 3);
    assert!(stderr.contains("credentials"), "{stderr}");
    assert!(stderr.contains("aws configure"), "{stderr}");
    insta::assert_snapshot!(redact(&stderr));
}

#[test]
fn expired_credentials_exit_3() {
    let home = TempDir::new("expired");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the stub");
    let body = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
                <Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error>\
                <RequestId>stub-request</RequestId></ErrorResponse>";
    let sts = runtime.block_on(support::stub(403, "text/xml", body.to_string()));
    let (exit, stdout, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--endpoint-url", &sts.endpoint]));

    assert_eq!(exit, 3, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("ExpiredToken") || stderr.contains("expired"), "{stderr}");
    assert!(stderr.contains("credentials"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_iam_names_the_permission() {
    let caller = "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run";
    let sts = support::stub(200, "text/xml", support::query_caller_identity(caller, "111122223333")).await;
    let iam = support::stub(403, "text/xml", support::query_access_denied("iam:GetRole")).await;
    let world = World::from_json(&support::read("examples/world.json"), "world.json").expect("world parses");
    let emulator = emulator::start(world, EmulatorOptions::default()).await.expect("emulator starts");
    let session = support::session_with(&sts.endpoint, &iam.endpoint, &emulator.endpoint()).await;

    let target = CheckTarget { train: TRAIN.into(), test: TEST.into(), ..CheckTarget::default() };
    let gathered = aws_facts::gather(&session, &target, &IdentitySource::Live, &[]).await.expect("facts gathered");
    let rules = load_rules(&[], &[], &[]).expect("rules load");
    let verdict = rules::evaluate(&rules, &gathered.facts, Phase::Pre, None);

    assert_eq!(verdict_outcome(&verdict, "principal-allowed"), Outcome::Error);
    assert_eq!(verdict_outcome(&verdict, "test-dataset-empty"), Outcome::Pass);
    let message = &verdict.results.iter().find(|result| result.rule == "principal-allowed").expect("result").message;
    assert!(message.contains("iam:"), "{message}");
    insta::assert_snapshot!(message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_rekognition_leaves_facts_unknown() {
    let body = r#"{"__type":"AccessDeniedException","Message":"not authorized"}"#.to_string();
    let rekognition = support::stub(400, "application/x-amz-json-1.1", body).await;
    let session = support::session("http://127.0.0.1:9", &rekognition.endpoint).await;
    let snapshot = Snapshot::parse("world.json", support::read("examples/world.json")).expect("world parses");

    let target = CheckTarget { train: TRAIN.into(), test: TEST.into(), ..CheckTarget::default() };
    let gathered = aws_facts::gather(&session, &target, &IdentitySource::World(snapshot), &[]).await.expect("facts gathered");
    let rules = load_rules(&[], &[], &[]).expect("rules load");
    let verdict = rules::evaluate(&rules, &gathered.facts, Phase::Pre, None);

    assert_eq!(gathered.facts.test.description, Known::Unknown);
    assert!(gathered.facts.projects.is_none());
    assert_eq!(verdict_outcome(&verdict, "test-dataset-empty"), Outcome::Error);
    assert_eq!(verdict_outcome(&verdict, "datasets-exist"), Outcome::Error);
    assert!(!verdict.passed());
    insta::assert_snapshot!(gathered.denials.join("\n"));
}

/// Returns the awsQuery body of a SimulatePrincipalPolicy response with one result.
fn simulation(decision: &str) -> String {
    format!(
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><SimulatePrincipalPolicyResult>\
         <IsTruncated>false</IsTruncated><EvaluationResults><member><EvalActionName>rekognition:DistributeDatasetEntries</EvalActionName>\
         <EvalResourceName>{TRAIN}</EvalResourceName><EvalDecision>{decision}</EvalDecision><MatchedStatements/><MissingContextValues/>\
         </member></EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>stub-request</RequestId>\
         </ResponseMetadata></SimulatePrincipalPolicyResponse>"
    )
}

/// Checks the bundled world with IAM's simulator served by a stub that
/// returns `decision`, and returns the verdict and the simulator's requests.
async fn check_with_simulator(permissions: &str, decision: &str) -> (Verdict, Vec<String>) {
    use rekognition_preflight::cli::check::online::{check_with, Online};
    use rekognition_preflight::cli::{Cli, Command};

    let simulator = support::stub(200, "text/xml", simulation(decision)).await;
    let world_text = support::read("examples/world.json");
    let world = World::from_json(&world_text, "world.json").expect("world parses");
    let emulator = emulator::start(world, EmulatorOptions::default()).await.expect("emulator starts");
    let session = support::session(&simulator.endpoint, &emulator.endpoint()).await;
    let snapshot = Snapshot::parse("world.json", world_text).expect("world parses");
    let online = Online { session, identity: IdentitySource::World(snapshot), scps: Vec::new(), emulator: None };

    let argv = ["rekognition-preflight", "check", "--train", TRAIN, "--test", TEST, "--permissions", permissions];
    let Command::Check(args) = <Cli as clap::Parser>::try_parse_from(argv).expect("valid arguments").command else {
        panic!("expected check");
    };
    let rules = load_rules(&[], &[], &[]).expect("rules load");
    let (_, verdict) = check_with(&args, &rules, &online).await.unwrap_or_else(|error| panic!("check failed: {error:?}"));
    let requests = simulator.requests.lock().expect("stub log").clone();
    (verdict, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_decides_principal_allowed() {
    let (allowed, requests) = check_with_simulator("aws", "allowed").await;
    let (denied, _) = check_with_simulator("aws", "implicitDeny").await;

    assert_eq!(verdict_outcome(&allowed, "principal-allowed"), Outcome::Pass);
    assert_eq!(verdict_outcome(&denied, "principal-allowed"), Outcome::Fail);
    assert_eq!(requests.len(), 2, "one simulation per dataset");
    let request = requests.iter().find(|request| request.contains("ResourceArns.member.1=")).expect("a simulation request");
    assert!(request.contains("Action=SimulatePrincipalPolicy"), "{request}");
    assert!(request.contains("PolicySourceArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fml-pipeline"), "{request}");
    assert!(request.contains("ContextEntries.member.1.ContextKeyName="), "{request}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_modes_report_disagreement() {
    let (agreeing, _) = check_with_simulator("both", "allowed").await;
    let (disagreeing, _) = check_with_simulator("both", "explicitDeny").await;

    assert_eq!(verdict_outcome(&agreeing, "permissions-agree"), Outcome::Pass);
    assert_eq!(verdict_outcome(&agreeing, "principal-allowed"), Outcome::Pass);
    assert_eq!(verdict_outcome(&disagreeing, "permissions-agree"), Outcome::Fail);
    assert_eq!(verdict_outcome(&disagreeing, "principal-allowed"), Outcome::Pass);
    assert!(!disagreeing.passed());
    let message = &disagreeing.results.iter().find(|result| result.rule == "permissions-agree").expect("result").message;
    insta::assert_snapshot!(message);
}

#[test]
fn scp_file_denies_the_split() {
    let home = TempDir::new("scp");
    let world = support::repo_path("examples/world.json");
    let scp = support::repo_path("tests/fixtures/online/scp-deny-split.json");
    let args = ["check", "--train", TRAIN, "--test", TEST, "--format", "json", "--emulator"];
    let (exit, stdout, stderr) = run(cli(&home).args(args).arg(&world).arg("--scp").arg(&scp));

    assert_eq!(exit, 1, "{stderr}");
    assert_eq!(support::outcomes(&stdout).get("principal-allowed").map(String::as_str), Some("fail"));
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    let message = report["results"].as_array().and_then(|results| results.iter().find(|result| result["rule"] == "principal-allowed")).map(|result| result["message"].to_string()).unwrap_or_default();
    assert!(message.contains("NoSplits"), "{message}");
}

#[test]
fn invalid_scp_file_exits_2() {
    let home = TempDir::new("bad-scp");
    let world = support::repo_path("examples/world.json");
    let scp = home.file("scp.json", "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Perhaps\", \"Action\": \"*\", \"Resource\": \"*\"}]}");
    let (exit, _, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--emulator"]).arg(&world).arg("--scp").arg(&scp));

    assert_eq!(exit, 2, "{stderr}");
    assert!(stderr.contains("Perhaps"), "{stderr}");
}

#[test]
fn global_endpoint_variable_is_used() {
    let home = TempDir::new("global-endpoint");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, _, stderr) = run(cli(&home).env("AWS_ENDPOINT_URL", &endpoint).args(["check", "--train", TRAIN, "--test", TEST]));

    assert_eq!(exit, 3);
    assert!(stderr.contains(&format!("could not reach {endpoint}")), "{stderr}");
}

/// Lists the Rekognition operations one check of `world` calls.
async fn operations_of_check(world_relative: &str) -> Vec<String> {
    let world_text = support::read(world_relative);
    let world = World::from_json(&world_text, "world.json").expect("world parses");
    let emulator = emulator::start(world, EmulatorOptions::default()).await.expect("emulator starts");
    let session = rekognition_preflight::facts::aws::session::emulator(&emulator.endpoint(), "us-east-1").await;
    let snapshot = Snapshot::parse("world.json", world_text).expect("world parses");
    let target = CheckTarget { train: TRAIN.into(), test: TEST.into(), ..CheckTarget::default() };
    aws_facts::gather(&session, &target, &IdentitySource::World(snapshot), &[]).await.expect("facts gathered");
    emulator.calls().into_iter().map(|call| call.operation).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_read_only_when_needed() {
    let plain = operations_of_check("examples/world.json").await;
    let tagged = operations_of_check("tests/fixtures/online/resource-tag-condition.json").await;

    assert!(!plain.iter().any(|operation| operation == "ListTagsForResource"), "{plain:?}");
    assert_eq!(tagged.iter().filter(|operation| *operation == "ListTagsForResource").count(), 2, "{tagged:?}");
    for operations in [&plain, &tagged] {
        assert_eq!(operations.iter().filter(|operation| *operation == "DescribeDataset").count(), 2);
        assert_eq!(operations.iter().filter(|operation| *operation == "ListDatasetLabels").count(), 2);
        assert_eq!(operations.iter().filter(|operation| *operation == "DescribeProjects").count(), 1);
    }
}

#[test]
fn online_flags_conflict_with_snapshot() {
    let home = TempDir::new("conflicts");
    for extra in [["--permissions", "aws"], ["--scp", "tests/fixtures/online/scp-deny-split.json"], ["--emulator", "examples/world.json"]] {
        let args = ["check", "--train", TRAIN, "--test", TEST, "--snapshot", "examples/world.json"];
        let (exit, _, stderr) = run(cli(&home).current_dir(support::repo_path(".")).args(args).args(extra));

        assert_eq!(exit, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains("cannot be used with"), "{extra:?}: {stderr}");
    }
}

/// Starts the emulator on `world_relative` on a runtime of its own, so that a
/// blocking CLI run can call it.
fn emulator_on(world_relative: &str, options: EmulatorOptions) -> (tokio::runtime::Runtime, emulator::EmulatorHandle) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the emulator");
    let world = World::from_json(&support::read(world_relative), "world.json").expect("world parses");
    let handle = runtime.block_on(emulator::start(world, options)).expect("emulator starts");
    (runtime, handle)
}

/// Checks `world_relative` through `--endpoint-url` pointed at the emulator
/// and through `--emulator`, and returns both outcomes and the emulator's calls.
fn check_both_ways(world_relative: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>, Vec<String>) {
    let home = TempDir::new("endpoint-url");
    let (_runtime, emulator) = emulator_on(world_relative, EmulatorOptions::default());
    let args = ["check", "--train", TRAIN, "--test", TEST, "--format", "json"];

    let (endpoint_exit, endpoint_stdout, endpoint_stderr) = run(cli(&home).args(args).args(["--endpoint-url", &emulator.endpoint()]));
    let world = support::repo_path(world_relative);
    let (emulator_exit, emulator_stdout, emulator_stderr) = run(cli(&home).args(args).arg("--emulator").arg(&world));

    assert_eq!(endpoint_exit, 0, "{world_relative} through --endpoint-url: {endpoint_stderr}");
    assert_eq!(emulator_exit, 0, "{world_relative} through --emulator: {emulator_stderr}");
    let operations = emulator.calls().into_iter().map(|call| call.operation).collect();
    (support::outcomes(&endpoint_stdout), support::outcomes(&emulator_stdout), operations)
}

#[test]
fn endpoint_url_emulator_serves_role() {
    let (through_endpoint, through_emulator, operations) = check_both_ways("examples/world.json");

    assert_eq!(through_endpoint, through_emulator);
    for action in ["GetCallerIdentity", "GetRole", "ListRolePolicies", "ListAttachedRolePolicies", "GetPolicy", "GetPolicyVersion"] {
        assert!(operations.iter().any(|operation| operation == action), "no {action} in {operations:?}");
    }
}

#[test]
fn endpoint_url_emulator_serves_user() {
    let (through_endpoint, through_emulator, operations) = check_both_ways("tests/fixtures/scenarios/user-via-group/world.json");

    assert_eq!(through_endpoint, through_emulator);
    assert_eq!(through_endpoint.get("principal-allowed").map(String::as_str), Some("pass"), "{through_endpoint:?}");
    for action in ["GetCallerIdentity", "GetUser", "ListUserPolicies", "ListAttachedUserPolicies", "ListGroupsForUser", "ListGroupPolicies", "GetGroupPolicy", "ListAttachedGroupPolicies"] {
        assert!(operations.iter().any(|operation| operation == action), "no {action} in {operations:?}");
    }
}

#[test]
fn endpoint_url_run_splits_once() {
    let home = TempDir::new("endpoint-url-run");
    let options = EmulatorOptions { update_delay: std::time::Duration::from_millis(200), ..EmulatorOptions::default() };
    let (_runtime, emulator) = emulator_on("examples/world.json", options);
    let args = ["run", "--train", TRAIN, "--test", TEST, "--yes", "--poll-interval", "100ms", "--endpoint-url", &emulator.endpoint()];
    let (exit, _, stderr) = run(cli(&home).args(args));

    assert_eq!(exit, 0, "{stderr}");
    let operations: Vec<String> = emulator.calls().into_iter().map(|call| call.operation).collect();
    assert_eq!(operations.iter().filter(|operation| *operation == "DistributeDatasetEntries").count(), 1, "{operations:?}");
    assert!(!emulator.dataset_entries(TEST).expect("test dataset").is_empty());
}

#[test]
fn unreadable_error_body_is_quoted() {
    let home = TempDir::new("unreadable");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the stub");
    let stub = runtime.block_on(support::stub(400, "text/plain", "upstream proxy: bad gateway\n  route not configured".to_string()));
    let (exit, stdout, stderr) = run(cli(&home).args(["check", "--train", TRAIN, "--test", TEST, "--endpoint-url", &stub.endpoint]));

    assert_eq!(exit, 3, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(stderr.contains("upstream proxy: bad gateway route not configured"), "{stderr}");
    assert!(!stderr.contains("check the request and run the command again"), "{stderr}");
    insta::assert_snapshot!(redact(&stderr));
}

#[test]
fn emulator_mode_writes_no_stderr() {
    let home = TempDir::new("quiet");
    let world = support::repo_path("examples/world.json");
    let mut command = cli(&home);
    // The default log level, at which aws-config warns about missing profile files.
    command.env_remove("REKOGNITION_PREFLIGHT_LOG");
    let (exit, _, stderr) = run(command.args(["check", "--train", TRAIN, "--test", TEST, "--emulator"]).arg(&world));

    assert_eq!(exit, 0, "{stderr}");
    assert_eq!(stderr, "");
}
