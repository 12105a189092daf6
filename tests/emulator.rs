//! The emulator driven by the real aws-sdk-rekognition client over HTTP on
//! 127.0.0.1. Every client here is pinned to the emulator's endpoint with
//! static credentials and an explicit region, so nothing is looked up in the
//! environment or on the network.

#![cfg(feature = "aws")]

use std::path::Path;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::config::{Credentials, Region};
use aws_sdk_rekognition::error::ProvideErrorMetadata;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{DatasetChanges, DatasetStatus, DatasetType, DistributeDataset};
use rekognition_preflight::emulator::{self, EmulatorHandle, EmulatorOptions, Fault, FaultRule, Faults, Times, World};

const TRAIN: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";
const TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858107";
const OTHER_TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects-v2/dataset/test/1700000002000";
const MISSING_TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858999";
const PROJECT: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/1690564850000";

fn load_world(name: &str) -> World {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    World::from_json(&text, name).unwrap()
}

fn fast_options() -> EmulatorOptions {
    EmulatorOptions { update_delay: Duration::from_millis(300), ..EmulatorOptions::default() }
}

async fn start(world: &str, options: EmulatorOptions) -> (EmulatorHandle, Client) {
    let handle = emulator::start(load_world(world), options).await.unwrap();
    let client = client_for(&handle.endpoint()).await;
    (handle, client)
}

/// Builds an SDK client for the emulator. The short initial backoff keeps
/// retried calls fast; the attempt count stays the SDK default of 3.
async fn client_for(endpoint: &str) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)))
        .load()
        .await;
    Client::new(&config)
}

async fn dataset_status(client: &Client, arn: &str) -> DatasetStatus {
    let output = client.describe_dataset().dataset_arn(arn).send().await.unwrap();
    output.dataset_description().and_then(|description| description.status()).cloned().unwrap()
}

/// Polls DescribeDataset until the dataset leaves UPDATE_IN_PROGRESS, for at most 10 s.
async fn wait_until_settled(client: &Client, arn: &str) -> DatasetStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = dataset_status(client, arn).await;
        if status != DatasetStatus::UpdateInProgress || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Returns (TotalEntries, LabeledEntries, TotalLabels, ErrorEntries).
async fn dataset_stats(client: &Client, arn: &str) -> (i32, i32, i32, i32) {
    let output = client.describe_dataset().dataset_arn(arn).send().await.unwrap();
    let stats = output.dataset_description().and_then(|description| description.dataset_stats()).unwrap();
    (
        stats.total_entries().unwrap_or(-1),
        stats.labeled_entries().unwrap_or(-1),
        stats.total_labels().unwrap_or(-1),
        stats.error_entries().unwrap_or(-1),
    )
}

async fn all_entries(client: &Client, arn: &str) -> Vec<String> {
    let pages: Vec<_> = client.list_dataset_entries().dataset_arn(arn).into_paginator().send().collect().await;
    pages.into_iter().flat_map(|page| page.unwrap().dataset_entries.unwrap_or_default()).collect()
}

async fn distribute(client: &Client, first: &str, second: &str) -> Result<(), String> {
    let datasets = [first, second].map(|arn| DistributeDataset::builder().arn(arn).build().unwrap());
    match client.distribute_dataset_entries().datasets(datasets[0].clone()).datasets(datasets[1].clone()).send().await {
        Ok(_) => Ok(()),
        Err(error) => Err(error.code().unwrap_or("(no error code)").to_string()),
    }
}

#[tokio::test]
async fn describe_projects_lists_seeded_project() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    let output = client.describe_projects().send().await.unwrap();
    let projects = output.project_descriptions();
    assert_eq!(projects.len(), 1);
    let project = &projects[0];
    assert_eq!(project.project_arn(), Some(PROJECT));
    assert_eq!(project.creation_timestamp().map(|time| time.secs()), Some(1690564850));
    let datasets: Vec<_> = project.datasets().iter().map(|dataset| (dataset.dataset_arn().unwrap(), dataset.dataset_type().cloned().unwrap())).collect();
    assert_eq!(datasets, vec![(TRAIN, DatasetType::Train), (TEST, DatasetType::Test)]);
}

#[tokio::test]
async fn describe_projects_filters_and_paginates() {
    let (_handle, client) = start("cross-project.json", fast_options()).await;
    client.create_project().project_name("third").send().await.unwrap();

    let pages: Vec<_> = client.describe_projects().max_results(1).into_paginator().send().collect().await;
    let names: Vec<String> = pages
        .into_iter()
        .flat_map(|page| page.unwrap().project_descriptions.unwrap_or_default())
        .map(|project| project.project_arn.unwrap().split('/').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["shelf-defects", "shelf-defects-v2", "third"]);

    let filtered = client.describe_projects().project_names("shelf-defects-v2").send().await.unwrap();
    assert_eq!(filtered.project_descriptions().len(), 1);
    assert_eq!(filtered.next_token(), None);
}

#[tokio::test]
async fn describe_dataset_computes_stats_from_entries() {
    let cases = [
        ("ready-role.json", TRAIN, (120, 120, 3, 0)),
        ("ready-role.json", TEST, (0, 0, 0, 0)),
        ("test-not-empty.json", TEST, (30, 30, 3, 0)),
        ("train-empty.json", TRAIN, (0, 0, 0, 0)),
    ];
    for (world, arn, expected) in cases {
        let (_handle, client) = start(world, fast_options()).await;
        assert_eq!(dataset_stats(&client, arn).await, expected, "{world} {arn}");
    }
}

#[tokio::test]
async fn describe_missing_dataset_is_not_found() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;
    let error = client.describe_dataset().dataset_arn(MISSING_TEST).send().await.unwrap_err();
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
    assert!(error.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn list_entries_applies_filters() {
    let (handle, client) = start("ready-role.json", fast_options()).await;
    handle.add_entries(TRAIN, &[r#"{"no-source-ref": true}"#, r#"{"source-ref":"s3://shelf-defects-images/extra/unlabeled.jpg"}"#]).unwrap();

    type Filter = fn(aws_sdk_rekognition::operation::list_dataset_entries::builders::ListDatasetEntriesFluentBuilder) -> aws_sdk_rekognition::operation::list_dataset_entries::builders::ListDatasetEntriesFluentBuilder;
    let cases: [(&str, Filter, usize); 7] = [
        ("no filter", |request| request, 122),
        ("contains dent", |request| request.contains_labels("dent"), 40),
        ("contains dent or ok", |request| request.contains_labels("dent").contains_labels("ok"), 80),
        ("labeled", |request| request.labeled(true), 120),
        ("unlabeled", |request| request.labeled(false), 2),
        ("source ref part", |request| request.source_ref_contains("images/0011"), 10),
        ("has errors", |request| request.has_errors(true), 1),
    ];
    for (name, filter, expected) in cases {
        let pages: Vec<_> = filter(client.list_dataset_entries().dataset_arn(TRAIN)).into_paginator().send().collect().await;
        let count: usize = pages.into_iter().map(|page| page.unwrap().dataset_entries().len()).sum();
        assert_eq!(count, expected, "{name}");
    }
}

#[tokio::test]
async fn list_entries_pages_by_max_results() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    let first = client.list_dataset_entries().dataset_arn(TRAIN).send().await.unwrap();
    assert_eq!(first.dataset_entries().len(), 100);
    assert!(first.next_token().is_some());

    let pages: Vec<_> = client.list_dataset_entries().dataset_arn(TRAIN).max_results(50).into_paginator().send().collect().await;
    let sizes: Vec<usize> = pages.into_iter().map(|page| page.unwrap().dataset_entries().len()).collect();
    assert_eq!(sizes, vec![50, 50, 20]);

    let error = client.list_dataset_entries().dataset_arn(TRAIN).next_token("bogus").send().await.unwrap_err();
    assert_eq!(error.code(), Some("InvalidPaginationTokenException"));
}

#[tokio::test]
async fn list_labels_counts_entries_per_label() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    let pages: Vec<_> = client.list_dataset_labels().dataset_arn(TRAIN).max_results(2).into_paginator().send().collect().await;
    assert_eq!(pages.len(), 2);
    let labels: Vec<(String, i32)> = pages
        .into_iter()
        .flat_map(|page| page.unwrap().dataset_label_descriptions.unwrap_or_default())
        .map(|label| (label.label_name.unwrap(), label.label_stats.and_then(|stats| stats.entry_count).unwrap()))
        .collect();
    assert_eq!(labels, vec![("scratch".to_string(), 40), ("dent".to_string(), 40), ("ok".to_string(), 40)]);
}

const SYNTH_TRAIN: &str = "arn:aws:rekognition:eu-west-1:444455556666:project/parcels/dataset/train/1700000001000";
const SYNTH_TEST: &str = "arn:aws:rekognition:eu-west-1:444455556666:project/parcels/dataset/test/1700000002000";

#[tokio::test]
async fn seeds_without_entries_get_placeholders() {
    let (_handle, client) = start("synthesized.json", fast_options()).await;

    assert_eq!(dataset_stats(&client, SYNTH_TRAIN).await, (50, 45, 2, 2));
    assert_eq!(dataset_stats(&client, SYNTH_TEST).await, (0, 0, 0, 0));
    assert_eq!(dataset_status(&client, SYNTH_TRAIN).await, DatasetStatus::UpdateComplete);

    let labels = client.list_dataset_labels().dataset_arn(SYNTH_TRAIN).send().await.unwrap();
    let counts: Vec<(&str, Option<i32>, Option<i32>)> = labels
        .dataset_label_descriptions()
        .iter()
        .map(|label| {
            let stats = label.label_stats();
            (label.label_name().unwrap(), stats.and_then(|stats| stats.entry_count()), stats.and_then(|stats| stats.bounding_box_count()))
        })
        .collect();
    assert_eq!(counts, vec![("box", Some(30), Some(75)), ("envelope", Some(15), Some(15))]);

    let errors = client.list_dataset_entries().dataset_arn(SYNTH_TRAIN).has_errors(true).send().await.unwrap();
    assert_eq!(errors.dataset_entries().len(), 2);
}

#[tokio::test]
async fn responses_carry_request_ids() {
    use aws_sdk_rekognition::operation::RequestId;

    let (handle, client) = start("ready-role.json", fast_options()).await;
    let output = client.describe_projects().send().await.unwrap();
    let error = client.describe_dataset().dataset_arn(MISSING_TEST).send().await.unwrap_err();

    let calls = handle.calls();
    assert_eq!(output.request_id(), Some(calls[0].request_id.as_str()));
    assert_eq!(error.request_id(), Some(calls[1].request_id.as_str()));
    assert_ne!(calls[0].request_id, calls[1].request_id);
}

#[tokio::test]
async fn distribute_moves_a_fifth_after_delay() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    distribute(&client, TRAIN, TEST).await.unwrap();
    assert_eq!(dataset_status(&client, TRAIN).await, DatasetStatus::UpdateInProgress);
    assert_eq!(dataset_status(&client, TEST).await, DatasetStatus::UpdateInProgress);

    assert_eq!(wait_until_settled(&client, TRAIN).await, DatasetStatus::UpdateComplete);
    assert_eq!(wait_until_settled(&client, TEST).await, DatasetStatus::UpdateComplete);
    assert_eq!(dataset_stats(&client, TRAIN).await, (96, 96, 3, 0));
    assert_eq!(dataset_stats(&client, TEST).await, (24, 24, 3, 0));

    let description = client.describe_dataset().dataset_arn(TEST).send().await.unwrap().dataset_description.unwrap();
    assert_eq!(description.status_message(), Some(emulator::UPDATE_SUCCEEDED_MESSAGE));
    assert_eq!(description.status_message_code().map(|code| code.as_str()), Some("SUCCESS"));

    let projects = client.describe_projects().send().await.unwrap();
    let statuses: Vec<_> = projects.project_descriptions()[0].datasets().iter().map(|dataset| dataset.status().cloned().unwrap()).collect();
    assert_eq!(statuses, vec![DatasetStatus::UpdateComplete, DatasetStatus::UpdateComplete]);

    let mut together = all_entries(&client, TRAIN).await;
    together.extend(all_entries(&client, TEST).await);
    together.sort();
    let mut before = load_world_entries("ready-role.json", TRAIN);
    before.sort();
    assert_eq!(together, before);
}

fn load_world_entries(world: &str, arn: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator").join(world);
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    value["rekognition"]["entries"][arn].as_array().unwrap().iter().map(|line| line.as_str().unwrap().to_string()).collect()
}

async fn moved_entries(seed: u64) -> Vec<String> {
    let options = EmulatorOptions { seed, update_delay: Duration::ZERO, ..EmulatorOptions::default() };
    let (_handle, client) = start("ready-role.json", options).await;
    distribute(&client, TEST, TRAIN).await.unwrap();
    assert_eq!(wait_until_settled(&client, TEST).await, DatasetStatus::UpdateComplete);
    all_entries(&client, TEST).await
}

#[tokio::test]
async fn distribute_is_deterministic_per_seed() {
    let first = moved_entries(7).await;
    assert_eq!(first.len(), 24);
    assert_eq!(first, moved_entries(7).await);
    assert_ne!(first, moved_entries(8).await);
}

#[tokio::test]
async fn distribute_rejects_invalid_requests() {
    struct Case {
        name: &'static str,
        world: &'static str,
        datasets: [&'static str; 2],
        prepare: fn(&EmulatorHandle),
        expected: &'static str,
    }
    let nothing: fn(&EmulatorHandle) = |_| {};
    let cases = [
        Case { name: "missing dataset", world: "ready-role.json", datasets: [TRAIN, MISSING_TEST], prepare: nothing, expected: "ResourceNotFoundException" },
        Case { name: "different projects", world: "cross-project.json", datasets: [TRAIN, OTHER_TEST], prepare: nothing, expected: "InvalidParameterException" },
        Case { name: "two train datasets", world: "ready-role.json", datasets: [TRAIN, TRAIN], prepare: nothing, expected: "InvalidParameterException" },
        Case { name: "test not empty", world: "test-not-empty.json", datasets: [TRAIN, TEST], prepare: nothing, expected: "InvalidParameterException" },
        Case {
            name: "malformed arn",
            world: "ready-role.json",
            datasets: [TRAIN, "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/validation/1690564858107"],
            prepare: nothing,
            expected: "InvalidParameterException",
        },
        Case { name: "train updating", world: "update-in-progress.json", datasets: [TRAIN, TEST], prepare: nothing, expected: emulator::DISTRIBUTE_BUSY_ERROR },
        Case { name: "train empty", world: "train-empty.json", datasets: [TRAIN, TEST], prepare: nothing, expected: "InvalidParameterException" },
        Case {
            name: "test filled after check",
            world: "ready-role.json",
            datasets: [TRAIN, TEST],
            prepare: |handle| handle.add_entries(TEST, &[r#"{"source-ref":"s3://b/late.jpg"}"#]).unwrap(),
            expected: "InvalidParameterException",
        },
        Case {
            name: "test deleted after check",
            world: "ready-role.json",
            datasets: [TRAIN, TEST],
            prepare: |handle| handle.delete_dataset(TEST).unwrap(),
            expected: "ResourceNotFoundException",
        },
    ];
    for case in cases {
        let (handle, client) = start(case.world, fast_options()).await;
        (case.prepare)(&handle);
        let result = distribute(&client, case.datasets[0], case.datasets[1]).await;
        assert_eq!(result, Err(case.expected.to_string()), "{}", case.name);
        assert_eq!(handle.calls().len(), 1, "{}: the SDK retried a client error", case.name);
    }
}

#[tokio::test]
async fn changes_are_rejected_while_updating() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;
    distribute(&client, TRAIN, TEST).await.unwrap();
    assert_eq!(distribute(&client, TRAIN, TEST).await, Err(emulator::DISTRIBUTE_BUSY_ERROR.to_string()));

    let changes = DatasetChanges::builder().ground_truth(Blob::new(r#"{"source-ref":"s3://b/x.jpg"}"#)).build().unwrap();
    let error = client.update_dataset_entries().dataset_arn(TEST).changes(changes).send().await.unwrap_err();
    assert_eq!(error.code(), Some("ResourceInUseException"));
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    let options = EmulatorOptions { faults: Faults { throttle_first: 2, ..Faults::default() }, ..fast_options() };
    let (handle, client) = start("ready-role.json", options).await;

    assert_eq!(dataset_status(&client, TRAIN).await, DatasetStatus::CreateComplete);

    let calls = handle.calls();
    let errors: Vec<Option<&str>> = calls.iter().map(|call| call.error_type.as_deref()).collect();
    assert_eq!(errors, vec![Some("ThrottlingException"), Some("ThrottlingException"), None]);
    assert_eq!(calls[0].status, 400);
}

#[tokio::test]
async fn persistent_500_ends_in_error() {
    let rule = FaultRule::new("DescribeDataset", Fault::InternalError, Times::Always);
    let options = EmulatorOptions { faults: Faults { rules: vec![rule], ..Faults::default() }, ..fast_options() };
    let (handle, client) = start("ready-role.json", options).await;

    let error = client.describe_dataset().dataset_arn(TRAIN).send().await.unwrap_err();
    assert_eq!(error.code(), Some("InternalServerError"));
    let statuses: Vec<u16> = handle.calls().iter().map(|call| call.status).collect();
    assert_eq!(statuses, vec![500, 500, 500]);

    client.describe_projects().send().await.unwrap();
}

#[tokio::test]
async fn fail_distribution_ends_update_failed() {
    let options = EmulatorOptions { faults: Faults { fail_distribution: true, ..Faults::default() }, ..fast_options() };
    let (_handle, client) = start("ready-role.json", options).await;

    distribute(&client, TRAIN, TEST).await.unwrap();
    assert_eq!(wait_until_settled(&client, TRAIN).await, DatasetStatus::UpdateFailed);
    assert_eq!(wait_until_settled(&client, TEST).await, DatasetStatus::UpdateFailed);

    let description = client.describe_dataset().dataset_arn(TRAIN).send().await.unwrap().dataset_description.unwrap();
    assert_eq!(description.status_message(), Some(emulator::DISTRIBUTION_FAILED_MESSAGE));
    assert_eq!(description.status_message_code().map(|code| code.as_str()), Some("CLIENT_ERROR"));
    assert_eq!(dataset_stats(&client, TRAIN).await, (120, 120, 3, 0));
    assert_eq!(dataset_stats(&client, TEST).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn never_complete_stays_in_progress() {
    let options = EmulatorOptions { update_delay: Duration::ZERO, faults: Faults { never_complete: true, ..Faults::default() }, ..EmulatorOptions::default() };
    let (_handle, client) = start("ready-role.json", options).await;

    distribute(&client, TRAIN, TEST).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(dataset_status(&client, TRAIN).await, DatasetStatus::UpdateInProgress);
    assert_eq!(dataset_status(&client, TEST).await, DatasetStatus::UpdateInProgress);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let options = EmulatorOptions { faults: Faults { latency: Duration::from_millis(200), ..Faults::default() }, ..fast_options() };
    let (_handle, client) = start("ready-role.json", options).await;

    let started = Instant::now();
    client.describe_projects().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200), "answered after {:?}", started.elapsed());
}

#[tokio::test]
async fn call_log_records_calls_in_order() {
    let log_path = std::env::temp_dir().join(format!("emulator-call-log-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log_path);
    let options = EmulatorOptions { call_log: Some(log_path.clone()), ..fast_options() };
    let (handle, client) = start("ready-role.json", options).await;

    client.describe_projects().send().await.unwrap();
    let _ = client.describe_dataset().dataset_arn(MISSING_TEST).send().await;
    distribute(&client, TRAIN, TEST).await.unwrap();

    let calls = handle.calls();
    let operations: Vec<&str> = calls.iter().map(|call| call.operation.as_str()).collect();
    assert_eq!(operations, vec!["DescribeProjects", "DescribeDataset", "DistributeDatasetEntries"]);
    assert_eq!(calls[1].status, 400);
    assert_eq!(calls[1].error_type.as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(calls[2].request["Datasets"][1]["Arn"], TEST);
    assert!(calls[0].timestamp <= calls[2].timestamp);

    let written = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = written.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["operation"], "DistributeDatasetEntries");
    let _ = std::fs::remove_file(&log_path);
}

#[tokio::test]
async fn update_entries_adds_and_replaces() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;
    let manifest = concat!(
        r#"{"source-ref":"s3://shelf-defects-images/images/00000.jpg","x":1,"x-metadata":{"class-name":"crack"}}"#,
        "\n",
        r#"{"source-ref":"s3://shelf-defects-images/new/1.jpg","x":1,"x-metadata":{"class-name":"crack"}}"#,
        "\n",
    );
    let changes = DatasetChanges::builder().ground_truth(Blob::new(manifest)).build().unwrap();
    client.update_dataset_entries().dataset_arn(TRAIN).changes(changes).send().await.unwrap();

    assert_eq!(dataset_status(&client, TRAIN).await, DatasetStatus::UpdateInProgress);
    assert_eq!(wait_until_settled(&client, TRAIN).await, DatasetStatus::UpdateComplete);
    assert_eq!(dataset_stats(&client, TRAIN).await, (121, 121, 4, 0));
}

#[tokio::test]
async fn create_project_and_datasets() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    let project = client.create_project().project_name("fresh").send().await.unwrap().project_arn.unwrap();
    let pattern = regex::Regex::new(r"^arn:aws:rekognition:us-east-1:111122223333:project/fresh/\d{13}$").unwrap();
    assert!(pattern.is_match(&project), "{project}");

    let train = client
        .create_dataset()
        .project_arn(&project)
        .dataset_type(DatasetType::Train)
        .dataset_source(aws_sdk_rekognition::types::DatasetSource::builder().dataset_arn(TRAIN).build())
        .send()
        .await
        .unwrap()
        .dataset_arn
        .unwrap();
    let pattern = regex::Regex::new(r"^arn:aws:rekognition:us-east-1:111122223333:project/fresh/dataset/train/\d{13}$").unwrap();
    assert!(pattern.is_match(&train), "{train}");
    assert_eq!(dataset_status(&client, &train).await, DatasetStatus::CreateInProgress);

    let test = client.create_dataset().project_arn(&project).dataset_type(DatasetType::Test).send().await.unwrap().dataset_arn.unwrap();
    let duplicate = client.create_dataset().project_arn(&project).dataset_type(DatasetType::Test).send().await.unwrap_err();
    assert_eq!(duplicate.code(), Some("ResourceAlreadyExistsException"));

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(dataset_status(&client, &train).await, DatasetStatus::CreateComplete);
    assert_eq!(dataset_stats(&client, &train).await, (120, 120, 3, 0));
    distribute(&client, &train, &test).await.unwrap();
}

#[tokio::test]
async fn tags_round_trip() {
    let (_handle, client) = start("ready-role.json", fast_options()).await;

    client.tag_resource().resource_arn(TRAIN).tags("team", "vision").send().await.unwrap();
    let tags = client.list_tags_for_resource().resource_arn(TRAIN).send().await.unwrap();
    assert_eq!(tags.tags().and_then(|tags| tags.get("team")).map(String::as_str), Some("vision"));

    let error = client.list_tags_for_resource().resource_arn(MISSING_TEST).send().await.unwrap_err();
    assert_eq!(error.code(), Some("ResourceNotFoundException"));
}

/// Sends one Rekognition request over a plain TCP connection and returns the raw response.
async fn raw_post(port: u16, target: &str, body: &str) -> String {
    raw_request(port, &format!("X-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1"), body).await
}

/// Sends `POST /` with the given header lines and body, and returns the raw response.
async fn raw_request(port: u16, headers: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn unknown_operation_is_rejected() {
    let (handle, _client) = start("ready-role.json", fast_options()).await;
    let response = raw_post(handle.port(), "RekognitionService.DeleteEverything", "{}").await;

    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("x-amzn-errortype: UnknownOperationException"), "{response}");
    assert!(response.contains("x-amzn-requestid: "), "{response}");
    assert!(response.contains("content-type: application/x-amz-json-1.1"), "{response}");
    assert!(response.contains(r#""__type":"UnknownOperationException""#), "{response}");
}

#[tokio::test]
async fn malformed_requests_are_rejected() {
    let (handle, _client) = start("ready-role.json", fast_options()).await;
    let distribute = "RekognitionService.DistributeDatasetEntries";
    let cases = [
        ("one dataset", distribute, format!(r#"{{"Datasets":[{{"Arn":"{TRAIN}"}}]}}"#), "Datasets must contain exactly 2 items, found 1"),
        ("missing arn", distribute, format!(r#"{{"Datasets":[{{"Arn":"{TRAIN}"}},{{}}]}}"#), "Datasets[1].Arn is required"),
        ("no datasets", distribute, "{}".to_string(), "Datasets is required"),
        ("not json", "RekognitionService.DescribeDataset", "{".to_string(), "The request body is not valid JSON"),
        ("wrong type", "RekognitionService.DescribeDataset", r#"{"DatasetArn": 5}"#.to_string(), "DatasetArn must be a string"),
    ];
    for (name, target, body, message) in cases {
        let response = raw_post(handle.port(), target, &body).await;
        assert!(response.starts_with("HTTP/1.1 400"), "{name}: {response}");
        assert!(response.contains(message), "{name}: {response}");
    }
}

#[test]
fn background_emulator_serves_sync_callers() {
    let emulator = emulator::start_background(load_world("ready-role.json"), fast_options()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = runtime.block_on(async {
        let client = client_for(&emulator.endpoint()).await;
        dataset_status(&client, TEST).await
    });
    assert_eq!(status, DatasetStatus::CreateComplete);
    assert_eq!(emulator.calls().len(), 1);
}

fn render(finding: &rekognition_preflight::finding::Finding) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, finding)
        .unwrap();
    out
}

/// Every file in tests/fixtures/emulator/invalid is a broken world file.
/// Its rendered diagnostic is snapshotted under the file's name.
#[test]
fn invalid_worlds_give_located_diagnostics() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator/invalid");
    let mut paths: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 8, "expected the invalid world fixtures in {}", folder.display());

    for path in paths {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let finding = World::from_json(&text, &format!("{name}.json")).unwrap_err();
        assert!(finding.position().is_some(), "{name}: the diagnostic points nowhere");
        assert!(finding.help.is_some(), "{name}: the diagnostic has no help");
        insta::assert_snapshot!(format!("invalid_world_{name}"), render(&finding));
    }
}

#[test]
fn syntax_error_position_is_exact() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator/invalid/trailing-comma.json")).unwrap();
    let finding = World::from_json(&text, "trailing-comma.json").unwrap_err();
    assert_eq!(finding.position(), Some(("trailing-comma.json".to_string(), 3, 26)));
}

const BINARY: &str = env!("CARGO_BIN_EXE_rekognition-preflight");

#[test]
fn emulate_command_rejects_bad_input() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator");
    let broken = fixtures.join("invalid/trailing-comma.json");
    let ready = fixtures.join("ready-role.json");
    let cases: [(&str, Vec<&std::ffi::OsStr>, &[&str]); 4] = [
        ("broken world", vec![broken.as_os_str()], &["trailing comma", "trailing-comma.json:3:26"]),
        ("missing world", vec!["/nonexistent/world.json".as_ref()], &["could not read the world file /nonexistent/world.json"]),
        ("bad fault rule", vec![ready.as_os_str(), "--fault".as_ref(), "DescribeDataset:404".as_ref()], &["invalid --fault rule: unknown fault `404`"]),
        ("negative delay", vec![ready.as_os_str(), "--update-delay=-1".as_ref()], &["--update-delay must be a non-negative number of seconds"]),
    ];
    for (name, args, expected) in cases {
        let output = std::process::Command::new(BINARY).args(["emulate", "--world"]).args(args).env("NO_COLOR", "1").output().unwrap();

        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}: stdout {}", String::from_utf8_lossy(&output.stdout));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for part in expected {
            assert!(stderr.contains(part), "{name}: {stderr}");
        }
    }
}

#[tokio::test]
async fn emulate_command_serves_until_sigterm() {
    use tokio::io::AsyncBufReadExt;

    let log_path = std::env::temp_dir().join(format!("emulate-command-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log_path);
    let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emulator/ready-role.json");
    let mut child = tokio::process::Command::new(BINARY)
        .args(["emulate", "--port", "0", "--throttle-first", "1", "--fault", "DescribeProjects:500:1", "--world"])
        .arg(&world)
        .arg("--call-log")
        .arg(&log_path)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let stdout = child.stdout.take().unwrap();
    let mut first_line = String::new();
    let mut reader = tokio::io::BufReader::new(stdout);
    tokio::time::timeout(Duration::from_secs(20), reader.read_line(&mut first_line)).await.unwrap().unwrap();
    let endpoint = first_line.trim().strip_prefix("listening on ").unwrap().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");

    let client = client_for(&endpoint).await;
    client.describe_projects().send().await.unwrap();

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0));

    let log = std::fs::read_to_string(&log_path).unwrap();
    let errors: Vec<serde_json::Value> = log.lines().map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["error_type"].clone()).collect();
    let expected = vec![serde_json::json!("InternalServerError"), serde_json::json!("ThrottlingException"), serde_json::Value::Null];
    assert_eq!(errors, expected);
    let _ = std::fs::remove_file(&log_path);
}

/// Starts the emulator on a world file given relative to the repository.
async fn start_repo_world(relative: &str) -> (EmulatorHandle, aws_config::SdkConfig) {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).unwrap();
    let handle = emulator::start(World::from_json(&text, relative).unwrap(), fast_options()).await.unwrap();
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(handle.endpoint())
        .credentials_provider(aws_sdk_rekognition::config::SharedCredentialsProvider::new(Credentials::new("AKIDTEST", "secret", None, None, "test")))
        .build();
    (handle, config)
}

/// Sends one form-encoded request, as STS and IAM clients do, and returns the raw response.
async fn raw_query(port: u16, body: &str) -> String {
    raw_request(port, "Content-Type: application/x-www-form-urlencoded; charset=utf-8", body).await
}

#[tokio::test]
async fn caller_identity_comes_from_world() {
    let (_handle, config) = start_repo_world("examples/world.json").await;
    let output = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await.unwrap();

    assert_eq!(output.arn(), Some("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run"));
    assert_eq!(output.account(), Some("111122223333"));
    assert_eq!(output.user_id(), Some("AROAMLPIPELINEZZZZZZZ:ci-run"));
}

#[tokio::test]
async fn role_reads_come_from_world() {
    let (handle, config) = start_repo_world("examples/world.json").await;
    let iam = aws_sdk_iam::Client::new(&config);
    let policy_arn = "arn:aws:iam::aws:policy/AmazonRekognitionCustomLabelsFullAccess";

    let role = iam.get_role().role_name("ml-pipeline").send().await.unwrap();
    let attached = iam.list_attached_role_policies().role_name("ml-pipeline").send().await.unwrap();
    let inline = iam.list_role_policies().role_name("ml-pipeline").send().await.unwrap();
    let policy = iam.get_policy().policy_arn(policy_arn).send().await.unwrap();
    let version = iam.get_policy_version().policy_arn(policy_arn).version_id("v4").send().await.unwrap();

    assert_eq!(role.role().map(|role| role.arn()), Some("arn:aws:iam::111122223333:role/ml-pipeline"));
    assert_eq!(attached.attached_policies().iter().filter_map(|policy| policy.policy_arn()).collect::<Vec<_>>(), [policy_arn]);
    assert!(inline.policy_names().is_empty());
    assert_eq!(policy.policy().and_then(|policy| policy.default_version_id()), Some("v4"));
    let document = version.policy_version().and_then(|version| version.document()).unwrap();
    assert!(!document.contains('{'), "the document is not URL-encoded: {document}");
    let decoded: serde_json::Value = serde_json::from_str(&percent_encoding::percent_decode_str(document).decode_utf8_lossy()).unwrap();
    assert_eq!(decoded["Statement"][1]["Action"][17], "rekognition:DistributeDatasetEntries");
    let operations: Vec<String> = handle.calls().into_iter().map(|call| call.operation).collect();
    assert_eq!(operations, ["GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetPolicy", "GetPolicyVersion"]);
}

#[tokio::test]
async fn user_reads_come_from_world() {
    let (_handle, config) = start_repo_world("tests/fixtures/scenarios/user-via-group/world.json").await;
    let iam = aws_sdk_iam::Client::new(&config);

    let user = iam.get_user().user_name("dana").send().await.unwrap();
    let groups = iam.list_groups_for_user().user_name("dana").send().await.unwrap();
    let group_policies = iam.list_group_policies().group_name("ml-engineers").send().await.unwrap();
    let group_policy = iam.get_group_policy().group_name("ml-engineers").policy_name("custom-labels-datasets").send().await.unwrap();

    assert_eq!(user.user().map(|user| user.user_id()), Some("AIDADANAXXXXXXXXXXXXX"));
    assert_eq!(groups.groups().iter().map(|group| group.arn()).collect::<Vec<_>>(), ["arn:aws:iam::111122223333:group/ml-engineers"]);
    assert_eq!(group_policies.policy_names(), ["custom-labels-datasets"]);
    let decoded = percent_encoding::percent_decode_str(group_policy.policy_document()).decode_utf8_lossy().into_owned();
    let document: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(document["Statement"][0]["Action"][0], "rekognition:*Dataset*");
}

#[tokio::test]
async fn missing_iam_entity_is_404() {
    let (handle, config) = start_repo_world("examples/world.json").await;
    let iam = aws_sdk_iam::Client::new(&config);

    let role_error = iam.get_role().role_name("nobody").send().await.unwrap_err();
    let policy_error = iam.get_role_policy().role_name("ml-pipeline").policy_name("absent").send().await.unwrap_err();

    assert_eq!(role_error.code(), Some("NoSuchEntity"));
    assert_eq!(role_error.raw_response().map(|response| response.status().as_u16()), Some(404));
    assert_eq!(role_error.message(), Some("The role with name nobody cannot be found."));
    assert_eq!(policy_error.code(), Some("NoSuchEntity"));
    let logged = handle.calls().into_iter().next().unwrap();
    assert_eq!(logged.operation, "GetRole");
    assert_eq!(logged.status, 404);
    assert_eq!(logged.error_type.as_deref(), Some("NoSuchEntity"));
    assert_eq!(logged.request["RoleName"], "nobody");
}

#[tokio::test]
async fn unknown_query_action_is_rejected() {
    let (handle, _config) = start_repo_world("examples/world.json").await;
    let response = raw_query(handle.port(), "Action=ListRoles&Version=2010-05-08").await;

    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("content-type: text/xml"), "{response}");
    assert!(response.contains("<Code>InvalidAction</Code>"), "{response}");
    assert!(response.contains("The action ListRoles is not served by this emulator"), "{response}");
    assert!(response.contains("GetCallerIdentity, GetRole"), "{response}");
    assert_eq!(handle.calls().first().map(|call| call.operation.as_str()), Some("ListRoles"));
}

#[test]
fn identity_sections_must_be_objects() {
    let text = "{\n  \"caller\": [],\n  \"rekognition\": {\"region\": \"us-east-1\"}\n}\n";
    let finding = World::from_json(text, "world.json").unwrap_err();

    assert_eq!(finding.position(), Some(("world.json".to_string(), 2, 13)));
    insta::assert_snapshot!(render(&finding));
}
