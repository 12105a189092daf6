//! IAM and STS facts from moto's server, Rekognition from the emulator.
//! The tests cover roles with a path, a boundary, managed and inline
//! policies and tags, a user whose permission comes from a group, the
//! endpoint variables, and `collect` followed by an offline check.
//!
//! Uses the moto server that `MOTO_ENDPOINT` names, or starts `python3 -m moto.server`
//! on a free loopback port. Every test seeds entities with its own names.

#![cfg(feature = "aws")]

mod support;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use rekognition_preflight::emulator::{self, EmulatorOptions, World};
use rekognition_preflight::facts::aws::{self as aws_facts, IdentitySource};
use rekognition_preflight::facts::snapshot::CheckTarget;
use rekognition_preflight::rules::{self, load_rules, Outcome, Phase};

use support::{cli, moto_arn, run, Moto, TempDir, MOTO_ACCOUNT, TEST, TRAIN};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ALLOW_SPLIT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Split","Effect":"Allow","Action":"rekognition:DistributeDatasetEntries","Resource":"*"}]}"#;
const ALLOW_DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rekognition:Describe*","rekognition:List*"],"Resource":"*"}]}"#;
const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::training-images/*"}]}"#;
const ALLOW_REKOGNITION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rekognition:*","Resource":"*"}]}"#;
const DENY_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rekognition:DeleteDataset","Resource":"*"}]}"#;

fn suffix() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|time| time.as_nanos()).unwrap_or(0);
    format!("{}", nanos % 1_000_000_000)
}

async fn create_policy(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> String {
    let output = iam.create_policy().policy_name(name).policy_document(document).send().await.expect("create a policy in moto");
    output.policy().and_then(|policy| policy.arn()).expect("policy ARN").to_string()
}

/// Creates a role with a path, tags, a boundary, three managed policies and
/// one inline policy; returns its ARN.
async fn seed_role(iam: &aws_sdk_iam::Client, name: &str, boundary_document: &str) -> String {
    let split = create_policy(iam, &format!("{name}-split"), ALLOW_SPLIT).await;
    let describe = create_policy(iam, &format!("{name}-describe"), ALLOW_DESCRIBE).await;
    let s3 = create_policy(iam, &format!("{name}-s3"), ALLOW_S3).await;
    let boundary = create_policy(iam, &format!("{name}-boundary"), boundary_document).await;
    let tag = aws_sdk_iam::types::Tag::builder().key("team").value("vision").build().expect("tag");
    let role = iam
        .create_role()
        .role_name(name)
        .path("/teams/vision/")
        .assume_role_policy_document(TRUST)
        .permissions_boundary(&boundary)
        .tags(tag)
        .send()
        .await
        .expect("create a role in moto");
    for policy in [&split, &describe, &s3] {
        iam.attach_role_policy().role_name(name).policy_arn(policy).send().await.expect("attach a policy");
    }
    iam.put_role_policy().role_name(name).policy_name("no-deletes").policy_document(DENY_DELETE).send().await.expect("put an inline policy");
    role.role().map(|role| role.arn().to_string()).expect("role ARN")
}

async fn check_principal(moto: &Moto, principal: &str) -> (aws_facts::Gathered, rules::Verdict) {
    let world = World::from_json(&support::moto_world(), "world.json").expect("world parses");
    let emulator = emulator::start(world, EmulatorOptions::default()).await.expect("emulator starts");
    let session = support::session(&moto.endpoint, &emulator.endpoint()).await;
    let target = CheckTarget { train: moto_arn(TRAIN), test: moto_arn(TEST), principal: Some(principal.into()), context: Vec::new() };
    let gathered = aws_facts::gather(&session, &target, &IdentitySource::Live, &[]).await.expect("facts gathered");
    let rules = load_rules(&[], &[], &[]).expect("rules load");
    let verdict = rules::evaluate(&rules, &gathered.facts, Phase::Pre, None);
    (gathered, verdict)
}

fn outcome_of(verdict: &rules::Verdict, rule: &str) -> Outcome {
    verdict.results.iter().find(|result| result.rule == rule).map(|result| result.outcome).unwrap_or_else(|| panic!("no result for {rule}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_facts_come_from_iam() {
    let moto = Moto::start();
    let name = format!("ml-pipeline-{}", suffix());
    let arn = seed_role(&moto.iam(), &name, ALLOW_REKOGNITION).await;
    let (gathered, verdict) = check_principal(&moto, &arn).await;

    let principal = gathered.facts.principal.as_ref().expect("principal resolved");
    assert_eq!(arn, format!("arn:aws:iam::{MOTO_ACCOUNT}:role/teams/vision/{name}"));
    assert_eq!(principal.identity_arn, arn);
    assert_eq!(principal.name, name);
    assert_eq!(principal.tags, BTreeMap::from([("team".to_string(), "vision".to_string())]));
    assert_eq!(principal.policies.identity.len(), 4, "three managed and one inline policy");
    assert!(principal.policies.boundary.is_some());
    assert_eq!(outcome_of(&verdict, "principal-allowed"), Outcome::Pass);
    assert!(verdict.passed(), "{:?}", verdict.results.iter().filter(|result| result.outcome != Outcome::Pass).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundary_without_action_denies() {
    let moto = Moto::start();
    let name = format!("bounded-{}", suffix());
    let arn = seed_role(&moto.iam(), &name, ALLOW_S3).await;
    let (_, verdict) = check_principal(&moto, &arn).await;

    assert_eq!(outcome_of(&verdict, "principal-allowed"), Outcome::Fail);
    let message = &verdict.results.iter().find(|result| result.rule == "principal-allowed").expect("result").message;
    assert!(message.contains("boundary"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_allowed_through_group() {
    let moto = Moto::start();
    let iam = moto.iam();
    let id = suffix();
    let (user, group) = (format!("dana-{id}"), format!("labelers-{id}"));
    let describe = create_policy(&iam, &format!("{group}-describe"), ALLOW_DESCRIBE).await;
    iam.create_group().group_name(&group).send().await.expect("create a group");
    iam.put_group_policy().group_name(&group).policy_name("split").policy_document(ALLOW_SPLIT).send().await.expect("group inline policy");
    iam.attach_group_policy().group_name(&group).policy_arn(&describe).send().await.expect("attach to the group");
    let created = iam.create_user().user_name(&user).send().await.expect("create a user");
    iam.add_user_to_group().group_name(&group).user_name(&user).send().await.expect("add the user to the group");
    let arn = created.user().map(|user| user.arn().to_string()).expect("user ARN");

    let (gathered, verdict) = check_principal(&moto, &arn).await;

    let principal = gathered.facts.principal.as_ref().expect("principal resolved");
    assert_eq!(principal.identity_arn, arn);
    assert_eq!(principal.policies.identity.len(), 2, "the group's inline and managed policy");
    assert!(principal.policies.boundary.is_none());
    assert_eq!(outcome_of(&verdict, "principal-allowed"), Outcome::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_without_group_is_denied() {
    let moto = Moto::start();
    let iam = moto.iam();
    let user = format!("nobody-{}", suffix());
    let created = iam.create_user().user_name(&user).send().await.expect("create a user");
    let arn = created.user().map(|user| user.arn().to_string()).expect("user ARN");

    let (_, verdict) = check_principal(&moto, &arn).await;

    assert_eq!(outcome_of(&verdict, "principal-allowed"), Outcome::Fail);
}


#[test]
fn service_endpoint_variables_route_calls() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let name = format!("routed-{}", suffix());
    let arn = runtime.block_on(seed_role(&moto.iam(), &name, ALLOW_REKOGNITION));
    let world = World::from_json(&support::moto_world(), "world.json").expect("world parses");
    let emulator = emulator::start_background(world, EmulatorOptions::default()).expect("emulator starts");
    let home = TempDir::new("routed");
    let routed = |home: &TempDir| {
        let mut command = cli(home);
        command
            .env("AWS_ENDPOINT_URL_REKOGNITION", emulator.endpoint())
            .env("AWS_ENDPOINT_URL_IAM", &moto.endpoint)
            .env("AWS_ENDPOINT_URL_STS", &moto.endpoint);
        command
    };
    let (train, test) = (moto_arn(TRAIN), moto_arn(TEST));
    let args = ["--train", train.as_str(), "--test", test.as_str(), "--principal", arn.as_str()];

    let (exit, online, stderr) = run(routed(&home).arg("check").args(args).args(["--format", "json"]));
    assert_eq!(exit, 0, "{stderr}");
    let online = support::outcomes(&online);
    assert_eq!(online.get("principal-allowed").map(String::as_str), Some("pass"));
    let operations: Vec<String> = emulator.calls().iter().map(|call| call.operation.clone()).collect();
    assert!(operations.contains(&"DescribeDataset".to_string()), "{operations:?}");

    let snapshot = home.0.join("collected.json");
    let (exit, _, stderr) = run(routed(&home).arg("collect").args(args).arg("-o").arg(&snapshot));
    assert_eq!(exit, 0, "{stderr}");
    let (exit, offline, stderr) = run(cli(&home).arg("check").args(args).args(["--format", "json", "--snapshot"]).arg(&snapshot));
    assert_eq!(exit, 0, "{stderr}");
    assert_eq!(support::outcomes(&offline), online);
}

#[test]
fn failed_collect_leaves_no_file() {
    let home = TempDir::new("no-partial");
    let snapshot = home.0.join("collected.json");
    let endpoint = format!("http://127.0.0.1:{}", support::free_port());
    let (exit, _, _) = run(cli(&home).args(["collect", "--train", TRAIN, "--test", TEST, "--endpoint-url", &endpoint, "-o"]).arg(&snapshot));

    assert_eq!(exit, 3);
    assert!(!snapshot.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&home.0).expect("read the folder").collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
