//! Rekognition facts from the service, written in the snapshot's
//! `rekognition` shape so that the snapshot loader turns them into facts.

use std::collections::BTreeMap;

use aws_sdk_rekognition::primitives::DateTime;
use aws_sdk_rekognition::types::{DatasetDescription, DatasetLabelDescription, ProjectDescription};
use serde_json::{json, Map, Value};

use super::error::{classify, AwsError, Call, Failure};
use super::session::Session;
use crate::arn::DatasetArn;

/// The results of the Rekognition calls, and the facts they could not read.
#[derive(Debug, Clone, Default)]
pub struct RekognitionFacts {
    /// The snapshot's `rekognition` section.
    pub section: Map<String, Value>,
    /// False when DescribeProjects was denied.
    pub projects_known: bool,
    /// Datasets whose DescribeDataset was denied or not made.
    pub undescribed: Vec<String>,
    /// One line per denied call.
    pub denials: Vec<String>,
}

/// The status and entry count of a dataset, as polling needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetStatus {
    pub status: String,
    pub status_message: Option<String>,
    pub total_entries: Option<u64>,
}

/// Describes the projects, both datasets and their labels, concurrently.
/// A dataset whose ARN does not parse is not looked up.
pub async fn gather(session: &Session, train: &str, test: &str) -> Result<RekognitionFacts, AwsError> {
    let arns: Vec<&str> = [train, test].into_iter().filter(|arn| DatasetArn::parse(arn).is_ok()).collect();
    let mut project_names: Vec<String> = arns.iter().filter_map(|arn| DatasetArn::parse(arn).ok()).map(|arn| arn.project).collect();
    project_names.dedup();

    let (projects, train_description, test_description, train_labels, test_labels) = tokio::join!(
        describe_projects(session, &project_names),
        describe_if(session, train, arns.contains(&train)),
        describe_if(session, test, arns.contains(&test) && test != train),
        labels_if(session, train, arns.contains(&train)),
        labels_if(session, test, arns.contains(&test) && test != train),
    );

    let mut facts = RekognitionFacts { projects_known: true, ..RekognitionFacts::default() };
    facts.section.insert("region".into(), json!(session.region.clone().unwrap_or_default()));
    match projects {
        Ok(projects) => {
            facts.section.insert("projects".into(), json!({ "ProjectDescriptions": projects }));
        }
        Err(Failure::Denied(message)) => {
            facts.projects_known = false;
            facts.denials.push(message);
            facts.section.insert("projects".into(), json!({ "ProjectDescriptions": [] }));
        }
        Err(Failure::NotFound) => {
            facts.section.insert("projects".into(), json!({ "ProjectDescriptions": [] }));
        }
        Err(Failure::Stop(error)) => return Err(error),
    }

    let mut datasets = Map::new();
    let mut labels = Map::new();
    for (arn, description, label_list) in [(train, train_description, train_labels), (test, test_description, test_labels)] {
        match description {
            Some(Ok(description)) => {
                datasets.insert(arn.to_string(), description);
            }
            Some(Err(Failure::NotFound)) => {}
            Some(Err(Failure::Denied(message))) => {
                facts.undescribed.push(arn.to_string());
                facts.denials.push(message);
            }
            Some(Err(Failure::Stop(error))) => return Err(error),
            // Not looked up: the ARN does not parse, or it repeats the
            // training ARN, which was described under the same key.
            None if datasets.contains_key(arn) => {}
            None => facts.undescribed.push(arn.to_string()),
        }
        match label_list {
            Some(Ok(list)) => {
                labels.insert(arn.to_string(), json!({ "DatasetLabelDescriptions": list }));
            }
            Some(Err(Failure::Denied(message))) => facts.denials.push(message),
            Some(Err(Failure::Stop(error))) => return Err(error),
            Some(Err(Failure::NotFound)) | None => {}
        }
    }
    facts.section.insert("datasets".into(), Value::Object(datasets));
    facts.section.insert("labels".into(), Value::Object(labels));
    Ok(facts)
}

/// Adds the tags of both datasets to the `tags` section.
pub async fn gather_tags(session: &Session, facts: &mut RekognitionFacts, arns: &[&str]) -> Result<(), AwsError> {
    let described: Vec<&str> = arns
        .iter()
        .copied()
        .filter(|arn| facts.section.get("datasets").and_then(|datasets| datasets.get(*arn)).is_some())
        .collect();
    let (first, second) = tokio::join!(tags_if(session, described.first().copied()), tags_if(session, described.get(1).copied()));

    let mut tags = Map::new();
    for (arn, result) in described.iter().zip([first, second]) {
        match result {
            Some(Ok(map)) => {
                tags.insert(arn.to_string(), json!({ "Tags": map }));
            }
            Some(Err(Failure::Denied(message))) => facts.denials.push(message),
            Some(Err(Failure::Stop(error))) => return Err(error),
            Some(Err(Failure::NotFound)) | None => {}
        }
    }
    facts.section.insert("tags".into(), Value::Object(tags));
    Ok(())
}

/// Calls DescribeDataset once, for `run`'s re-read and polling.
pub async fn dataset_status(session: &Session, arn: &str) -> Result<Option<DatasetStatus>, Failure> {
    let description = match describe_dataset(session, arn).await {
        Ok(description) => description,
        Err(Failure::NotFound) => return Ok(None),
        Err(failure) => return Err(failure),
    };
    let inner = &description["DatasetDescription"];
    Ok(Some(DatasetStatus {
        status: inner["Status"].as_str().unwrap_or_default().to_string(),
        status_message: inner["StatusMessage"].as_str().map(str::to_string),
        total_entries: inner["DatasetStats"]["TotalEntries"].as_u64(),
    }))
}

/// Calls DistributeDatasetEntries with the training dataset first.
pub async fn distribute(session: &Session, train: &str, test: &str) -> Result<(), Failure> {
    use aws_sdk_rekognition::types::DistributeDataset;

    let call = Call { service: "rekognition", operation: "DistributeDatasetEntries", resource: train, purpose: "split the datasets" };
    let endpoint = session.endpoints.describe("rekognition", session.region.as_deref());
    let mut request = session.rekognition.distribute_dataset_entries();
    for arn in [train, test] {
        let dataset = DistributeDataset::builder().arn(arn).build().map_err(|error| {
            Failure::Stop(AwsError { message: format!("cannot build the request for {arn}: {error}"), help: "pass both dataset ARNs".into() })
        })?;
        request = request.datasets(dataset);
    }
    request.send().await.map(|_| ()).map_err(|error| classify(&error, call, &endpoint))
}

async fn describe_projects(session: &Session, names: &[String]) -> Result<Vec<Value>, Failure> {
    let call = Call { service: "rekognition", operation: "DescribeProjects", resource: "", purpose: "confirm that both datasets belong to one project" };
    let endpoint = session.endpoints.describe("rekognition", session.region.as_deref());
    let mut request = session.rekognition.describe_projects();
    for name in names {
        request = request.project_names(name);
    }
    let mut pages = request.into_paginator().send();
    let mut projects = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| classify(&error, call, &endpoint))?;
        projects.extend(page.project_descriptions().iter().map(project_json));
    }
    Ok(projects)
}

async fn describe_if(session: &Session, arn: &str, requested: bool) -> Option<Result<Value, Failure>> {
    if requested { Some(describe_dataset(session, arn).await) } else { None }
}

async fn describe_dataset(session: &Session, arn: &str) -> Result<Value, Failure> {
    let call = Call { service: "rekognition", operation: "DescribeDataset", resource: arn, purpose: "read the dataset's status and entry counts" };
    let endpoint = session.endpoints.describe("rekognition", session.region.as_deref());
    let output = session.rekognition.describe_dataset().dataset_arn(arn).send().await.map_err(|error| classify(&error, call, &endpoint))?;
    Ok(json!({ "DatasetDescription": output.dataset_description().map(description_json).unwrap_or_else(|| json!({})) }))
}

async fn labels_if(session: &Session, arn: &str, requested: bool) -> Option<Result<Vec<Value>, Failure>> {
    if !requested {
        return None;
    }
    let call = Call { service: "rekognition", operation: "ListDatasetLabels", resource: arn, purpose: "compare the labels of both datasets" };
    let endpoint = session.endpoints.describe("rekognition", session.region.as_deref());
    let mut pages = session.rekognition.list_dataset_labels().dataset_arn(arn).into_paginator().send();
    let mut labels = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => labels.extend(page.dataset_label_descriptions().iter().map(label_json)),
            Err(error) => return Some(Err(classify(&error, call, &endpoint))),
        }
    }
    Some(Ok(labels))
}

async fn tags_if(session: &Session, arn: Option<&str>) -> Option<Result<BTreeMap<String, String>, Failure>> {
    let arn = arn?;
    let call = Call { service: "rekognition", operation: "ListTagsForResource", resource: arn, purpose: "evaluate aws:ResourceTag conditions" };
    let endpoint = session.endpoints.describe("rekognition", session.region.as_deref());
    let result = session.rekognition.list_tags_for_resource().resource_arn(arn).send().await;
    Some(match result {
        Ok(output) => Ok(output.tags().map(|tags| tags.iter().map(|(key, value)| (key.clone(), value.clone())).collect()).unwrap_or_default()),
        Err(error) => Err(classify(&error, call, &endpoint)),
    })
}

fn project_json(project: &ProjectDescription) -> Value {
    let datasets: Vec<Value> = project
        .datasets()
        .iter()
        .map(|dataset| {
            let mut fields = Map::new();
            insert(&mut fields, "CreationTimestamp", dataset.creation_timestamp().map(epoch));
            insert(&mut fields, "DatasetType", dataset.dataset_type().map(|kind| json!(kind.as_str())));
            insert(&mut fields, "DatasetArn", dataset.dataset_arn().map(|arn| json!(arn)));
            insert(&mut fields, "Status", dataset.status().map(|status| json!(status.as_str())));
            insert(&mut fields, "StatusMessage", dataset.status_message().map(|text| json!(text)));
            insert(&mut fields, "StatusMessageCode", dataset.status_message_code().map(|code| json!(code.as_str())));
            Value::Object(fields)
        })
        .collect();
    let mut fields = Map::new();
    insert(&mut fields, "ProjectArn", project.project_arn().map(|arn| json!(arn)));
    insert(&mut fields, "CreationTimestamp", project.creation_timestamp().map(epoch));
    insert(&mut fields, "Status", project.status().map(|status| json!(status.as_str())));
    fields.insert("Datasets".into(), Value::Array(datasets));
    insert(&mut fields, "Feature", project.feature().map(|feature| json!(feature.as_str())));
    insert(&mut fields, "AutoUpdate", project.auto_update().map(|update| json!(update.as_str())));
    Value::Object(fields)
}

fn description_json(description: &DatasetDescription) -> Value {
    let mut fields = Map::new();
    insert(&mut fields, "CreationTimestamp", description.creation_timestamp().map(epoch));
    insert(&mut fields, "LastUpdatedTimestamp", description.last_updated_timestamp().map(epoch));
    insert(&mut fields, "Status", description.status().map(|status| json!(status.as_str())));
    insert(&mut fields, "StatusMessage", description.status_message().map(|text| json!(text)));
    insert(&mut fields, "StatusMessageCode", description.status_message_code().map(|code| json!(code.as_str())));
    if let Some(stats) = description.dataset_stats() {
        let mut counts = Map::new();
        insert(&mut counts, "LabeledEntries", stats.labeled_entries().map(|count| json!(count)));
        insert(&mut counts, "TotalEntries", stats.total_entries().map(|count| json!(count)));
        insert(&mut counts, "TotalLabels", stats.total_labels().map(|count| json!(count)));
        insert(&mut counts, "ErrorEntries", stats.error_entries().map(|count| json!(count)));
        fields.insert("DatasetStats".into(), Value::Object(counts));
    }
    Value::Object(fields)
}

fn label_json(label: &DatasetLabelDescription) -> Value {
    let mut fields = Map::new();
    insert(&mut fields, "LabelName", label.label_name().map(|name| json!(name)));
    if let Some(stats) = label.label_stats() {
        let mut counts = Map::new();
        insert(&mut counts, "EntryCount", stats.entry_count().map(|count| json!(count)));
        insert(&mut counts, "BoundingBoxCount", stats.bounding_box_count().map(|count| json!(count)));
        fields.insert("LabelStats".into(), Value::Object(counts));
    }
    Value::Object(fields)
}

/// Converts a timestamp to epoch seconds, as the AWS CLI prints it.
fn epoch(time: &DateTime) -> Value {
    json!(time.as_secs_f64())
}

fn insert(fields: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        fields.insert(key.into(), value);
    }
}
