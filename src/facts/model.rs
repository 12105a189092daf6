//! The facts model that rule conditions and messages see: a JSON tree with
//! the top-level variables `train`, `test`, `project`, `principal`,
//! `permissions` and `client`. A fact that is not known is left out, so a
//! condition that reads it fails with "no such key" and the rule cannot
//! decide, instead of passing on a default.

use serde_json::{json, Map, Value};

use super::{DatasetFacts, Facts, Known};

/// Builds the facts model. `permissions` is filled in by the rule engine.
pub fn to_model(facts: &Facts) -> Map<String, Value> {
    let mut model = Map::new();
    model.insert("train".into(), dataset(&facts.train));
    model.insert("test".into(), dataset(&facts.test));
    model.insert("project".into(), project(facts));
    model.insert("principal".into(), principal(facts));
    model.insert("permissions".into(), Value::Object(Map::new()));
    model.insert(
        "client".into(),
        json!({
            "mode": facts.client.mode,
            "region": facts.client.region,
            "version": facts.client.version,
        }),
    );
    model
}

fn dataset(dataset: &DatasetFacts) -> Value {
    let mut fields = Map::new();
    fields.insert("arn".into(), json!(dataset.arn_text()));
    fields.insert("flag".into(), json!(dataset.role.flag()));
    fields.insert("valid".into(), json!(dataset.arn.is_ok()));
    if let Ok(arn) = &dataset.arn {
        fields.insert("partition".into(), json!(arn.arn.partition));
        fields.insert("region".into(), json!(arn.arn.region));
        fields.insert("account".into(), json!(arn.arn.account));
        fields.insert("project".into(), json!(arn.project));
        fields.insert("type".into(), json!(arn.dataset_type.to_string()));
        fields.insert("creation_time".into(), json!(arn.creation_time));
    }

    match &dataset.description {
        Known::Found(description) => {
            fields.insert("exists".into(), json!(true));
            fields.insert("status".into(), json!(description.status));
            insert_some(&mut fields, "status_message", description.status_message.as_ref().map(|text| json!(text)));
            insert_some(&mut fields, "status_message_code", description.status_message_code.as_ref().map(|text| json!(text)));
            insert_some(&mut fields, "total_entries", description.total_entries.map(|count| json!(count)));
            insert_some(&mut fields, "labeled_entries", description.labeled_entries.map(|count| json!(count)));
            insert_some(&mut fields, "error_entries", description.error_entries.map(|count| json!(count)));
            insert_some(&mut fields, "total_labels", description.total_labels.map(|count| json!(count)));
        }
        Known::NotFound => {
            fields.insert("exists".into(), json!(false));
        }
        Known::Unknown => {}
    }

    if let Some(labels) = &dataset.labels {
        let labels: Vec<Value> = labels
            .iter()
            .map(|label| {
                let mut entry = Map::new();
                entry.insert("name".into(), json!(label.name));
                insert_some(&mut entry, "entry_count", label.entry_count.map(|count| json!(count)));
                insert_some(&mut entry, "bounding_box_count", label.bounding_box_count.map(|count| json!(count)));
                Value::Object(entry)
            })
            .collect();
        fields.insert("labels".into(), Value::Array(labels));
    }
    if let Some(tags) = &dataset.tags {
        fields.insert("tags".into(), json!(tags));
    }
    match &dataset.listing {
        Some(Known::Found(listing)) => {
            fields.insert("listed".into(), json!(true));
            fields.insert("project_arn".into(), json!(listing.project_arn));
            insert_some(&mut fields, "listed_type", listing.dataset_type.as_ref().map(|text| json!(text)));
        }
        Some(Known::NotFound) => {
            fields.insert("listed".into(), json!(false));
        }
        Some(Known::Unknown) | None => {}
    }
    Value::Object(fields)
}

/// Describes the project that lists the training dataset, when projects are known.
fn project(facts: &Facts) -> Value {
    let mut fields = Map::new();
    let listed_under = facts.train.listing.as_ref().and_then(Known::found).map(|listing| listing.project_arn.as_str());
    let project = facts
        .projects
        .as_ref()
        .and_then(|projects| projects.iter().find(|project| Some(project.arn.as_str()) == listed_under));
    if let Some(project) = project {
        fields.insert("arn".into(), json!(project.arn));
        insert_some(&mut fields, "status", project.status.as_ref().map(|text| json!(text)));
        insert_some(&mut fields, "feature", project.feature.as_ref().map(|text| json!(text)));
        fields.insert("dataset_count".into(), json!(project.datasets.len()));
    }
    Value::Object(fields)
}

fn principal(facts: &Facts) -> Value {
    let Ok(principal) = &facts.principal else {
        return Value::Object(Map::new());
    };
    json!({
        "arn": principal.caller_arn,
        "identity_arn": principal.identity_arn,
        "account": principal.account,
        "type": principal.kind.context_value(),
        "name": principal.name,
        "tags": principal.tags,
    })
}

fn insert_some(fields: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        fields.insert(key.into(), value);
    }
}

/// Fields that `train` and `test` may have.
const DATASET_FIELDS: &[&str] = &[
    "arn", "flag", "valid", "partition", "region", "account", "project", "type", "creation_time", "exists", "status",
    "status_message", "status_message_code", "total_entries", "labeled_entries", "error_entries", "total_labels", "labels",
    "tags", "listed", "project_arn", "listed_type",
];

/// Returns the fields a top-level variable of the model may have, or `None`
/// for a name that is not a variable.
fn fields_of(root: &str) -> Option<&'static [&'static str]> {
    match root {
        "train" | "test" => Some(DATASET_FIELDS),
        "project" => Some(&["arn", "status", "feature", "dataset_count"]),
        "principal" => Some(&["arn", "identity_arn", "account", "type", "name", "tags"]),
        "permissions" => Some(&["action", "train", "test"]),
        "client" => Some(&["mode", "region", "version"]),
        "pre" | "post" => Some(&["train", "test", "project", "principal", "permissions", "client"]),
        _ => None,
    }
}

/// Checks that a dotted fact path names fields the model can have, such as
/// `test.total_entries` or `pre.train.total_entries`. Deeper parts (a tag
/// key, a list index) are not checked. Returns a message with a suggestion
/// for a misspelled field.
pub fn check_path(path: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut fields = fields_of(parts[0]).ok_or_else(|| format!("unknown fact `{path}`: `{}` is not a variable of the facts model", parts[0]))?;
    for (depth, part) in parts.iter().enumerate().skip(1) {
        if !fields.contains(part) {
            let prefix = parts[..depth].join(".");
            let suggestion = crate::suggest::closest(part, fields.iter().copied())
                .map_or_else(String::new, |closest| format!("; did you mean `{prefix}.{closest}`?"));
            return Err(format!("unknown fact `{path}`: `{prefix}` has no field `{part}`{suggestion}"));
        }
        // Only `pre` and `post` nest another variable of the model.
        match fields_of(part) {
            Some(nested) if matches!(parts[0], "pre" | "post") && depth == 1 => fields = nested,
            _ => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_pass_the_check() {
        for path in ["test.total_entries", "train.tags.team", "pre.train.total_entries", "permissions.test.decision", "client.region"] {
            assert_eq!(check_path(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn misspelled_field_gets_suggestion() {
        let message = check_path("train.total_entreis").unwrap_err();
        assert!(message.contains("did you mean `train.total_entries`?"), "{message}");
        assert!(check_path("post.train.stauts").unwrap_err().contains("`post.train.status`"));
        assert!(check_path("dataset.arn").is_err());
    }
}
