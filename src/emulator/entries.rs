//! Dataset entries (SageMaker Ground Truth manifest lines) and the statistics
//! that Rekognition derives from them.
//!
//! An entry is labeled when one of its `*-metadata` objects carries either a
//! `class-name` (image classification) or a `class-map` whose attribute contains
//! an `annotations` array (object detection). An entry is an error entry when
//! the line is not a JSON object or has no string `source-ref`.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One manifest line and what the service reads from it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub line: String,
    /// `None` for an error entry.
    pub source_ref: Option<String>,
    /// Label names in the order they first appear in the line.
    pub labels: Vec<String>,
    /// Bounding boxes per label, in the order of `labels`.
    pub bounding_boxes: Vec<u64>,
}

impl Entry {
    pub fn parse(line: impl Into<String>) -> Entry {
        let line = line.into();
        let object = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(object)) => object,
            _ => return Entry { line, source_ref: None, labels: Vec::new(), bounding_boxes: Vec::new() },
        };

        let source_ref = object.get("source-ref").and_then(Value::as_str).map(str::to_string);
        let mut entry = Entry { line, source_ref, labels: Vec::new(), bounding_boxes: Vec::new() };
        if entry.source_ref.is_none() {
            return entry;
        }

        for (key, value) in &object {
            let Some(attribute) = key.strip_suffix("-metadata") else { continue };
            let Some(metadata) = value.as_object() else { continue };
            if let Some(class_name) = metadata.get("class-name").and_then(Value::as_str) {
                entry.add_label(class_name, 0);
            } else if let Some(class_map) = metadata.get("class-map").and_then(Value::as_object) {
                entry.add_detections(&object, attribute, class_map);
            }
        }
        entry
    }

    pub fn has_errors(&self) -> bool {
        self.source_ref.is_none()
    }

    pub fn is_labeled(&self) -> bool {
        !self.labels.is_empty()
    }

    fn add_label(&mut self, name: &str, boxes: u64) {
        match self.labels.iter().position(|label| label == name) {
            Some(index) => {
                if let Some(count) = self.bounding_boxes.get_mut(index) {
                    *count += boxes;
                }
            }
            None => {
                self.labels.push(name.to_string());
                self.bounding_boxes.push(boxes);
            }
        }
    }

    /// Reads the `annotations` of an object detection attribute and maps each
    /// `class_id` through the metadata's `class-map`.
    fn add_detections(&mut self, object: &Map<String, Value>, attribute: &str, class_map: &Map<String, Value>) {
        let Some(annotations) = object.get(attribute).and_then(|value| value.get("annotations")).and_then(Value::as_array) else {
            return;
        };
        for annotation in annotations {
            let class_id = match annotation.get("class_id") {
                Some(Value::Number(number)) => number.to_string(),
                Some(Value::String(text)) => text.clone(),
                _ => continue,
            };
            if let Some(name) = class_map.get(&class_id).and_then(Value::as_str) {
                self.add_label(name, 1);
            }
        }
    }
}

/// `DatasetStats` of a DescribeDataset response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DatasetStats {
    pub labeled_entries: u64,
    pub total_entries: u64,
    pub total_labels: u64,
    pub error_entries: u64,
}

/// One row of a ListDatasetLabels response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelStats {
    pub name: String,
    pub entry_count: u64,
    pub bounding_box_count: u64,
}

pub fn compute_stats(entries: &[Entry]) -> DatasetStats {
    let labels: BTreeSet<&str> = entries.iter().flat_map(|entry| entry.labels.iter().map(String::as_str)).collect();
    DatasetStats {
        labeled_entries: count(entries.iter().filter(|entry| entry.is_labeled())),
        total_entries: count(entries.iter()),
        total_labels: count(labels.iter()),
        error_entries: count(entries.iter().filter(|entry| entry.has_errors())),
    }
}

/// Lists the labels in the order they first appear in the entries.
pub fn compute_labels(entries: &[Entry]) -> Vec<LabelStats> {
    let mut labels: Vec<LabelStats> = Vec::new();
    for entry in entries {
        for (name, boxes) in entry.labels.iter().zip(&entry.bounding_boxes) {
            match labels.iter_mut().find(|label| &label.name == name) {
                Some(label) => {
                    label.entry_count += 1;
                    label.bounding_box_count += boxes;
                }
                None => labels.push(LabelStats { name: name.clone(), entry_count: 1, bounding_box_count: *boxes }),
            }
        }
    }
    labels
}

fn count<T>(items: impl Iterator<Item = T>) -> u64 {
    u64::try_from(items.count()).unwrap_or(u64::MAX)
}

/// Builds placeholder entries for a seeded dataset that lists statistics and
/// labels but no entries.
///
/// The first `error_entries` lines lack `source-ref`. Each label then tags
/// `EntryCount` consecutive labeled entries, continuing round-robin where the
/// previous label stopped, so the result reproduces the seeded numbers when the
/// label counts add up to `labeled_entries`. Labeled entries that no label
/// reaches get the first label (or `placeholder` when no labels are seeded),
/// so `LabeledEntries` still matches. A label's `BoundingBoxCount` is spread
/// evenly over its entries as object detection annotations.
pub fn synthesize(stats: DatasetStats, labels: &[LabelStats], dataset_type: &str) -> Vec<Entry> {
    let errors = stats.error_entries.min(stats.total_entries);
    let labeled = stats.labeled_entries.min(stats.total_entries - errors);
    let mut assigned: Vec<Vec<(String, u64)>> = vec![Vec::new(); usize::try_from(labeled).unwrap_or(0)];

    let mut cursor = 0usize;
    for label in labels {
        let per_entry = label.bounding_box_count / label.entry_count.max(1);
        let remainder = label.bounding_box_count % label.entry_count.max(1);
        for index in 0..label.entry_count.min(labeled) {
            let Some(slot) = assigned.get_mut(cursor) else { break };
            let boxes = per_entry + u64::from(index < remainder);
            slot.push((label.name.clone(), boxes));
            cursor = (cursor + 1) % assigned.len().max(1);
        }
    }
    let fallback = labels.first().map_or("placeholder", |label| label.name.as_str());
    for slot in &mut assigned {
        if slot.is_empty() {
            slot.push((fallback.to_string(), 0));
        }
    }

    let mut entries = Vec::new();
    for index in 0..stats.total_entries {
        let source_ref = format!("s3://rekognition-preflight-emulator/{dataset_type}/{index:05}.jpg");
        let line = if index < errors {
            serde_json::json!({ "source": source_ref }).to_string()
        } else {
            let slot = usize::try_from(index - errors).ok().and_then(|slot| assigned.get(slot));
            placeholder_line(&source_ref, slot.map_or(&[][..], Vec::as_slice))
        };
        entries.push(Entry::parse(line));
    }
    entries
}

fn placeholder_line(source_ref: &str, labels: &[(String, u64)]) -> String {
    let mut object = Map::new();
    object.insert("source-ref".into(), Value::String(source_ref.to_string()));
    for (index, (name, boxes)) in labels.iter().enumerate() {
        let attribute = format!("label-{index}");
        if *boxes == 0 {
            object.insert(attribute.clone(), Value::from(1));
            object.insert(
                format!("{attribute}-metadata"),
                serde_json::json!({ "class-name": name, "confidence": 1, "type": "groundtruth/image-classification", "human-annotated": "yes" }),
            );
        } else {
            let annotations: Vec<Value> =
                (0..*boxes).map(|_| serde_json::json!({ "class_id": 0, "left": 0, "top": 0, "width": 10, "height": 10 })).collect();
            object.insert(attribute.clone(), serde_json::json!({ "annotations": annotations }));
            object.insert(
                format!("{attribute}-metadata"),
                serde_json::json!({ "class-map": { "0": name }, "type": "groundtruth/object-detection", "human-annotated": "yes" }),
            );
        }
    }
    Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_line_is_labeled() {
        let entry = Entry::parse(r#"{"source-ref":"s3://b/a.jpg","x":1,"x-metadata":{"class-name":"dent"}}"#);
        assert_eq!(entry.source_ref.as_deref(), Some("s3://b/a.jpg"));
        assert_eq!(entry.labels, vec!["dent"]);
    }

    #[test]
    fn detection_line_counts_boxes() {
        let line = r#"{"source-ref":"s3://b/a.jpg","bb":{"annotations":[{"class_id":0},{"class_id":1},{"class_id":0}]},"bb-metadata":{"class-map":{"0":"dog","1":"cat"}}}"#;
        let entry = Entry::parse(line);
        assert_eq!(entry.labels, vec!["dog", "cat"]);
        assert_eq!(entry.bounding_boxes, vec![2, 1]);
    }

    #[test]
    fn broken_lines_are_error_entries() {
        for line in ["not json", "[1]", r#"{"x":1}"#, r#"{"source-ref":3}"#] {
            assert!(Entry::parse(line).has_errors(), "{line}");
        }
    }

    #[test]
    fn synthesized_entries_match_stats() {
        let stats = DatasetStats { labeled_entries: 9, total_entries: 12, total_labels: 3, error_entries: 1 };
        let labels: Vec<LabelStats> = ["a", "b", "c"]
            .iter()
            .map(|name| LabelStats { name: name.to_string(), entry_count: 3, bounding_box_count: 0 })
            .collect();
        let entries = synthesize(stats, &labels, "train");
        assert_eq!(compute_stats(&entries), stats);
        assert_eq!(compute_labels(&entries), labels);
    }
}
