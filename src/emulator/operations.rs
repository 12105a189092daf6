//! One function per emulated Rekognition operation. Each takes the request
//! body and returns the response body or the error the service would send.
//! Field names and limits follow the Rekognition service model
//! (API version 2016-06-27).

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::arns::{self, DatasetType};
use super::entries::Entry;
use super::state::{Dataset, State, UpdateOutcome};
use super::world::Project;

/// The error for a dataset that is being created or updated when
/// DistributeDatasetEntries is called.
///
/// NOTE: Rekognition rejects changes to a busy dataset with
/// `ResourceInUseException`, which is what the emulator sends. The published
/// service model lists `ResourceNotReadyException` for this operation
/// instead. Which one the live service sends for a split is unverified. The
/// SDK surfaces either as a service error with that code.
pub const DISTRIBUTE_BUSY_ERROR: &str = "ResourceInUseException";

/// The page size limit of every paginated operation emulated here.
const MAX_PAGE_SIZE: usize = 100;

/// An error response: the `__type` code, its message and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub error_type: String,
    pub message: String,
    pub status: u16,
}

impl ApiError {
    pub fn client(error_type: &str, message: impl Into<String>) -> ApiError {
        ApiError { error_type: error_type.into(), message: message.into(), status: 400 }
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::client("InvalidParameterException", message)
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::client("ResourceNotFoundException", message)
    }
}

/// The operations this emulator serves, by their `X-Amz-Target` name.
pub const OPERATIONS: &[&str] = &[
    "CreateProject",
    "DescribeProjects",
    "CreateDataset",
    "DescribeDataset",
    "ListDatasetEntries",
    "ListDatasetLabels",
    "UpdateDatasetEntries",
    "DistributeDatasetEntries",
    "ListTagsForResource",
    "TagResource",
];

/// Runs one operation. The caller has checked that `operation` is in [`OPERATIONS`].
pub fn dispatch(state: &mut State, operation: &str, request: &Value, now: Instant) -> Result<Value, ApiError> {
    state.advance(now);
    match operation {
        "CreateProject" => create_project(state, request),
        "DescribeProjects" => describe_projects(state, request),
        "CreateDataset" => create_dataset(state, request, now),
        "DescribeDataset" => describe_dataset(state, request),
        "ListDatasetEntries" => list_dataset_entries(state, request),
        "ListDatasetLabels" => list_dataset_labels(state, request),
        "UpdateDatasetEntries" => update_dataset_entries(state, request, now),
        "DistributeDatasetEntries" => distribute_dataset_entries(state, request, now),
        "ListTagsForResource" => list_tags_for_resource(state, request),
        "TagResource" => tag_resource(state, request),
        _ => Err(ApiError::client("UnknownOperationException", format!("Unknown operation {operation}"))),
    }
}

fn create_project(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let name = required_string(request, "ProjectName")?;
    if !arns::is_project_name(name) {
        return Err(ApiError::invalid(format!("ProjectName `{name}` must be 1 to 255 characters of a-z, A-Z, 0-9, '_', '.' and '-'")));
    }
    if state.projects.iter().any(|project| project.name == name) {
        return Err(ApiError::client("ResourceInUseException", format!("A project named {name} already exists")));
    }
    let feature = optional_string(request, "Feature")?.unwrap_or("CUSTOM_LABELS");
    if !["CUSTOM_LABELS", "CONTENT_MODERATION"].contains(&feature) {
        return Err(ApiError::invalid(format!("Feature `{feature}` must be CUSTOM_LABELS or CONTENT_MODERATION")));
    }

    let millis = state.next_creation_millis();
    let arn = format!("arn:aws:rekognition:{}:{}:project/{name}/{millis}", state.region, state.account);
    state.projects.push(Project {
        arn: arn.clone(),
        name: name.to_string(),
        creation_timestamp: millis as f64 / 1000.0,
        status: "CREATED".into(),
        feature: feature.to_string(),
        auto_update: optional_string(request, "AutoUpdate")?.map(str::to_string),
        datasets: Vec::new(),
    });
    if let Some(tags) = optional_tags(request)? {
        state.tags.insert(arn.clone(), tags);
    }
    Ok(json!({ "ProjectArn": arn }))
}

fn describe_projects(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let names = optional_string_list(request, "ProjectNames", 10)?;
    let features = optional_string_list(request, "Features", 2)?.unwrap_or_else(|| vec!["CUSTOM_LABELS".into()]);
    let matching: Vec<&Project> = state
        .projects
        .iter()
        .filter(|project| names.as_ref().is_none_or(|names| names.contains(&project.name)))
        .filter(|project| features.contains(&project.feature))
        .collect();

    let (page, next_token) = paginate(&matching, request)?;
    let descriptions: Vec<Value> = page.iter().map(|project| project_description(state, project)).collect();
    Ok(with_next_token(json!({ "ProjectDescriptions": descriptions }), next_token))
}

fn project_description(state: &State, project: &Project) -> Value {
    let datasets: Vec<Value> = project
        .datasets
        .iter()
        .filter_map(|arn| state.datasets.get(arn))
        .map(|dataset| {
            json!({
                "CreationTimestamp": dataset.creation_timestamp,
                "DatasetType": dataset.dataset_type.as_wire(),
                "DatasetArn": dataset.arn,
                "Status": dataset.status,
                "StatusMessage": dataset.status_message,
                "StatusMessageCode": dataset.status_message_code,
            })
        })
        .collect();
    let mut description = json!({
        "ProjectArn": project.arn,
        "CreationTimestamp": project.creation_timestamp,
        "Status": project.status,
        "Datasets": datasets,
        "Feature": project.feature,
    });
    if let (Some(auto_update), Some(object)) = (&project.auto_update, description.as_object_mut()) {
        object.insert("AutoUpdate".into(), Value::String(auto_update.clone()));
    }
    description
}

fn create_dataset(state: &mut State, request: &Value, now: Instant) -> Result<Value, ApiError> {
    let project_arn = required_string(request, "ProjectArn")?;
    let Some(project_name) = arns::parse_project_arn(project_arn) else {
        return Err(ApiError::invalid(format!("ProjectArn `{project_arn}` is not a valid project ARN")));
    };
    let type_text = required_string(request, "DatasetType")?;
    let Some(dataset_type) = DatasetType::from_wire(type_text) else {
        return Err(ApiError::invalid(format!("DatasetType `{type_text}` must be TRAIN or TEST")));
    };
    let Some(project) = state.projects.iter().find(|project| project.arn == project_arn) else {
        return Err(ApiError::not_found(format!("The project {project_arn} does not exist")));
    };
    let taken = project.datasets.iter().filter_map(|arn| state.datasets.get(arn)).any(|dataset| dataset.dataset_type == dataset_type);
    if taken {
        return Err(ApiError::client("ResourceAlreadyExistsException", format!("The project already has a {} dataset", dataset_type.as_wire())));
    }

    let entries = match request.get("DatasetSource") {
        None | Some(Value::Null) => Vec::new(),
        Some(source) => dataset_source_entries(state, source)?,
    };

    let millis = state.next_creation_millis();
    let arn = format!("arn:aws:rekognition:{}:{}:project/{project_name}/dataset/{}/{millis}", state.region, state.account, dataset_type.as_path());
    let timestamp = millis as f64 / 1000.0;
    let dataset = Dataset {
        arn: arn.clone(),
        project_arn: project_arn.to_string(),
        dataset_type,
        creation_timestamp: timestamp,
        last_updated_timestamp: timestamp,
        status: String::new(),
        status_message: String::new(),
        status_message_code: String::new(),
        entries: Vec::new(),
        pending: None,
    };
    state.begin_create(dataset, entries, now);
    if let Some(tags) = optional_tags(request)? {
        state.tags.insert(arn.clone(), tags);
    }
    Ok(json!({ "DatasetArn": arn }))
}

/// Reads the entries a new dataset starts with: a copy of another dataset's.
fn dataset_source_entries(state: &State, source: &Value) -> Result<Vec<Entry>, ApiError> {
    if source.get("GroundTruthManifest").is_some() {
        return Err(ApiError::invalid("The emulator cannot read manifests from Amazon S3; use DatasetSource.DatasetArn or UpdateDatasetEntries"));
    }
    let Some(arn) = optional_string(source, "DatasetArn")? else {
        return Err(ApiError::invalid("DatasetSource must contain DatasetArn or GroundTruthManifest"));
    };
    Ok(find_dataset(state, arn)?.entries.clone())
}

fn describe_dataset(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let dataset = find_dataset(state, required_string(request, "DatasetArn")?)?;
    let stats = dataset.stats();
    Ok(json!({
        "DatasetDescription": {
            "CreationTimestamp": dataset.creation_timestamp,
            "LastUpdatedTimestamp": dataset.last_updated_timestamp,
            "Status": dataset.status,
            "StatusMessage": dataset.status_message,
            "StatusMessageCode": dataset.status_message_code,
            "DatasetStats": {
                "LabeledEntries": stats.labeled_entries,
                "TotalEntries": stats.total_entries,
                "TotalLabels": stats.total_labels,
                "ErrorEntries": stats.error_entries,
            },
        }
    }))
}

// NOTE: listing is allowed while a dataset is being updated, and it shows the
// entries from before the update. The service model lists
// ResourceInUseException for this operation, so the live service may reject it.
fn list_dataset_entries(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let dataset = find_dataset(state, required_string(request, "DatasetArn")?)?;
    let contains_labels = optional_string_list(request, "ContainsLabels", 10)?;
    let labeled = optional_bool(request, "Labeled")?;
    let source_ref_contains = optional_string(request, "SourceRefContains")?;
    let has_errors = optional_bool(request, "HasErrors")?;

    let matching: Vec<&Entry> = dataset
        .entries
        .iter()
        .filter(|entry| contains_labels.as_ref().is_none_or(|labels| entry.labels.iter().any(|label| labels.contains(label))))
        .filter(|entry| labeled.is_none_or(|labeled| entry.is_labeled() == labeled))
        .filter(|entry| source_ref_contains.is_none_or(|part| entry.source_ref.as_deref().is_some_and(|source_ref| source_ref.contains(part))))
        .filter(|entry| has_errors.is_none_or(|has_errors| entry.has_errors() == has_errors))
        .collect();

    let (page, next_token) = paginate(&matching, request)?;
    let lines: Vec<&str> = page.iter().map(|entry| entry.line.as_str()).collect();
    Ok(with_next_token(json!({ "DatasetEntries": lines }), next_token))
}

fn list_dataset_labels(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let dataset = find_dataset(state, required_string(request, "DatasetArn")?)?;
    let labels = dataset.labels();
    let (page, next_token) = paginate(&labels, request)?;
    let descriptions: Vec<Value> = page
        .iter()
        .map(|label| {
            json!({
                "LabelName": label.name,
                "LabelStats": { "EntryCount": label.entry_count, "BoundingBoxCount": label.bounding_box_count },
            })
        })
        .collect();
    Ok(with_next_token(json!({ "DatasetLabelDescriptions": descriptions }), next_token))
}

/// Adds the manifest lines in `Changes.GroundTruth` (base64 on the wire),
/// replacing entries with the same `source-ref`.
fn update_dataset_entries(state: &mut State, request: &Value, now: Instant) -> Result<Value, ApiError> {
    let arn = required_string(request, "DatasetArn")?;
    let Some(changes) = request.get("Changes") else {
        return Err(ApiError::invalid("Changes is required"));
    };
    let encoded = required_string(changes, "GroundTruth")?;
    let Some(bytes) = decode_base64(encoded) else {
        return Err(ApiError::client("SerializationException", "Changes.GroundTruth is not valid base64"));
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(ApiError::invalid("Changes.GroundTruth is not UTF-8 text"));
    };

    let dataset = find_dataset(state, arn)?;
    if dataset.is_busy() {
        return Err(ApiError::client("ResourceInUseException", format!("The dataset {arn} is {}", dataset.status)));
    }
    let mut entries = dataset.entries.clone();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let entry = Entry::parse(line.trim());
        let Some(source_ref) = entry.source_ref.clone() else {
            return Err(ApiError::invalid(format!("Line {} of Changes.GroundTruth is not a JSON object with a source-ref", number + 1)));
        };
        match entries.iter_mut().find(|known| known.source_ref.as_deref() == Some(source_ref.as_str())) {
            Some(known) => *known = entry,
            None => entries.push(entry),
        }
    }

    state.begin_update(arn, UpdateOutcome::Complete(entries), now);
    Ok(json!({}))
}

fn distribute_dataset_entries(state: &mut State, request: &Value, now: Instant) -> Result<Value, ApiError> {
    let Some(list) = request.get("Datasets").and_then(Value::as_array) else {
        return Err(ApiError::invalid("Datasets is required and must list two datasets"));
    };
    let [first, second] = list.as_slice() else {
        return Err(ApiError::invalid(format!("Datasets must contain exactly 2 items, found {}", list.len())));
    };
    let arn_of = |item: &'_ Value, index: usize| -> Result<String, ApiError> {
        let arn = optional_string(item, "Arn")?;
        arn.map(str::to_string).ok_or_else(|| ApiError::invalid(format!("Datasets[{index}].Arn is required")))
    };
    let (first, second) = (arn_of(first, 0)?, arn_of(second, 1)?);
    for arn in [&first, &second] {
        if arns::parse_dataset_arn(arn).is_none() {
            return Err(ApiError::invalid(format!("{arn} is not a valid dataset ARN")));
        }
    }
    let first = find_dataset(state, &first)?;
    let second = find_dataset(state, &second)?;

    if first.project_arn != second.project_arn {
        return Err(ApiError::invalid("The datasets must belong to the same project"));
    }
    let (train, test) = match (first.dataset_type, second.dataset_type) {
        (DatasetType::Train, DatasetType::Test) => (first, second),
        (DatasetType::Test, DatasetType::Train) => (second, first),
        _ => return Err(ApiError::invalid("Datasets must contain one TRAIN and one TEST dataset")),
    };
    for dataset in [train, test] {
        if dataset.is_busy() {
            return Err(ApiError::client(DISTRIBUTE_BUSY_ERROR, format!("The dataset {} is {}", dataset.arn, dataset.status)));
        }
    }
    if !test.entries.is_empty() {
        return Err(ApiError::invalid("The test dataset must be empty"));
    }
    // NOTE: the service documents that the training dataset must contain the
    // entries to split; the error it sends for an empty one is unverified.
    if train.entries.is_empty() {
        return Err(ApiError::invalid("The training dataset has no entries to distribute"));
    }

    let (train, test) = (train.arn.clone(), test.arn.clone());
    state.begin_distribution(&train, &test, now);
    Ok(json!({}))
}

fn list_tags_for_resource(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let arn = required_string(request, "ResourceArn")?;
    ensure_resource_exists(state, arn)?;
    let tags = state.tags.get(arn).cloned().unwrap_or_default();
    Ok(json!({ "Tags": tags }))
}

fn tag_resource(state: &mut State, request: &Value) -> Result<Value, ApiError> {
    let arn = required_string(request, "ResourceArn")?;
    let Some(tags) = optional_tags(request)? else {
        return Err(ApiError::invalid("Tags is required"));
    };
    ensure_resource_exists(state, arn)?;
    state.tags.entry(arn.to_string()).or_default().extend(tags);
    Ok(json!({}))
}

fn ensure_resource_exists(state: &State, arn: &str) -> Result<(), ApiError> {
    let exists = state.datasets.contains_key(arn) || state.projects.iter().any(|project| project.arn == arn);
    if exists { Ok(()) } else { Err(ApiError::not_found(format!("The resource {arn} does not exist"))) }
}

fn find_dataset<'a>(state: &'a State, arn: &str) -> Result<&'a Dataset, ApiError> {
    if arns::parse_dataset_arn(arn).is_none() {
        return Err(ApiError::invalid(format!("{arn} is not a valid dataset ARN")));
    }
    state.datasets.get(arn).ok_or_else(|| ApiError::not_found(format!("The dataset {arn} does not exist")))
}

fn required_string<'a>(request: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    optional_string(request, key)?.ok_or_else(|| ApiError::invalid(format!("{key} is required")))
}

fn optional_string<'a>(request: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match request.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::client("SerializationException", format!("{key} must be a string"))),
    }
}

fn optional_bool(request: &Value, key: &str) -> Result<Option<bool>, ApiError> {
    match request.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(_) => Err(ApiError::client("SerializationException", format!("{key} must be a boolean"))),
    }
}

fn optional_string_list(request: &Value, key: &str, max: usize) -> Result<Option<Vec<String>>, ApiError> {
    let items = match request.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::client("SerializationException", format!("{key} must be a list"))),
    };
    if items.is_empty() || items.len() > max {
        return Err(ApiError::invalid(format!("{key} must contain 1 to {max} items, found {}", items.len())));
    }
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(|| ApiError::client("SerializationException", format!("{key} must contain strings"))))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn optional_tags(request: &Value) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let object: &Map<String, Value> = match request.get("Tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(ApiError::client("SerializationException", "Tags must be a map")),
    };
    let mut tags = BTreeMap::new();
    for (key, value) in object {
        let Some(value) = value.as_str() else {
            return Err(ApiError::client("SerializationException", format!("The value of tag {key} must be a string")));
        };
        tags.insert(key.clone(), value.to_string());
    }
    Ok(Some(tags))
}

/// Cuts one page out of `items` by `MaxResults` (1 to 100, default 100) and
/// the `NextToken` of the previous page, which is the offset as text.
fn paginate<'a, T>(items: &'a [T], request: &Value) -> Result<(&'a [T], Option<String>), ApiError> {
    let page_size = match request.get("MaxResults") {
        None | Some(Value::Null) => MAX_PAGE_SIZE,
        Some(value) => match value.as_u64().and_then(|size| usize::try_from(size).ok()) {
            Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
            _ => return Err(ApiError::invalid(format!("MaxResults must be from 1 to {MAX_PAGE_SIZE}, found {value}"))),
        },
    };
    let start = match optional_string(request, "NextToken")? {
        None => 0,
        Some(token) => match token.strip_prefix("emulator-offset-").and_then(|offset| offset.parse::<usize>().ok()) {
            Some(offset) if offset <= items.len() => offset,
            _ => return Err(ApiError::client("InvalidPaginationTokenException", format!("Invalid pagination token {token}"))),
        },
    };

    let end = start.saturating_add(page_size).min(items.len());
    let page = items.get(start..end).unwrap_or_default();
    let next_token = (end < items.len()).then(|| format!("emulator-offset-{end}"));
    Ok((page, next_token))
}

fn with_next_token(mut response: Value, next_token: Option<String>) -> Value {
    if let (Some(token), Some(object)) = (next_token, response.as_object_mut()) {
        object.insert("NextToken".into(), Value::String(token));
    }
    response
}

/// Decodes standard base64 with padding, as the SDKs send blobs.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(4) {
        return None;
    }
    let value = |byte: u8| -> Option<u32> {
        match byte {
            b'A'..=b'Z' => Some(u32::from(byte - b'A')),
            b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };

    let mut bytes = Vec::with_capacity(digits.len() / 4 * 3);
    let chunk_count = digits.len() / 4;
    for (index, chunk) in digits.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|&&byte| byte == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != chunk_count) {
            return None;
        }
        let mut group = 0u32;
        for &byte in chunk.iter().take(4 - padding) {
            group = (group << 6) | value(byte)?;
        }
        group <<= 6 * padding as u32;
        let decoded = [(group >> 16) as u8, (group >> 8) as u8, group as u8];
        bytes.extend(decoded.iter().take(3 - padding));
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_padding_forms() {
        for (text, expected) in [("", ""), ("YQ==", "a"), ("YWI=", "ab"), ("YWJj", "abc"), ("eyJhIjoxfQo=", "{\"a\":1}\n")] {
            assert_eq!(decode_base64(text).as_deref(), Some(expected.as_bytes()), "{text}");
        }
    }

    #[test]
    fn base64_rejects_malformed_text() {
        for text in ["Y", "YQ=a", "Y===", "YQ==YQ==", "Y!Q="] {
            assert_eq!(decode_base64(text), None, "{text}");
        }
    }
}
