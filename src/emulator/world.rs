//! The world file that seeds the emulator: the product's snapshot format.
//!
//! The `rekognition` section seeds the Rekognition API: `region`, `projects` (the output
//! of `aws rekognition describe-projects`), `datasets` ({ARN: output of
//! `describe-dataset`}), `labels` ({ARN: output of `list-dataset-labels`}),
//! and the optional `entries` ({ARN: [manifest lines]}) and `tags`
//! ({ARN: {"Tags": {...}}}). `caller.Account` names the account for projects
//! created later when no seeded project ARN does. The `caller` section (as
//! `aws sts get-caller-identity` prints it) and the `iam` section (as
//! `aws iam get-account-authorization-details` prints it) are the source of
//! the STS and IAM reads. They are kept as JSON and only checked to be objects.
//!
//! A dataset is seeded when its ARN is a key of `datasets`, `labels` or
//! `entries`, or is listed in a project's `Datasets`, and every seeded dataset
//! must belong to a seeded project. A dataset seeded as `CREATE_IN_PROGRESS`
//! or `UPDATE_IN_PROGRESS` stays so, because no request of the emulator
//! started that work.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::finding::Finding;
use crate::json::{self, Member, Node};
use crate::source::SourceText;

use super::arns::{self, DatasetType};
use super::entries::{DatasetStats, LabelStats};
use super::state::{CREATE_SUCCEEDED_MESSAGE, Dataset};

const CODE: &str = "input::world";

/// A parsed world file.
#[derive(Debug, Clone)]
pub struct World {
    pub region: String,
    pub account: String,
    pub projects: Vec<Project>,
    pub datasets: Vec<DatasetSeed>,
    /// Tags by resource ARN.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The `caller` section, returned by GetCallerIdentity.
    pub caller: Option<serde_json::Value>,
    /// The `iam` section, the source of the IAM reads.
    pub iam: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub arn: String,
    pub name: String,
    pub creation_timestamp: f64,
    pub status: String,
    pub feature: String,
    pub auto_update: Option<String>,
    /// Dataset ARNs in the order `describe-projects` listed them.
    pub datasets: Vec<String>,
}

/// A seeded dataset: its description, and what its entries are built from.
#[derive(Debug, Clone)]
pub struct DatasetSeed {
    /// The dataset as described, with no entries yet.
    pub dataset: Dataset,
    /// The seeded `DatasetStats`, used only to synthesize entries.
    pub stats: DatasetStats,
    pub labels: Vec<LabelStats>,
    /// `None` when the world gives no entries for this dataset.
    pub entries: Option<Vec<String>>,
}

impl World {
    /// Parses a world file. Errors point at the offending place in `text`.
    pub fn from_json(text: &str, source_name: &str) -> Result<World, Finding> {
        let source = SourceText::new(source_name, text);
        let root = json::parse(text).map_err(|error| {
            let mut finding = Finding::error(CODE, format!("the world file is not valid JSON: {}", error.message))
                .with_label_in(&source, error.span.clone(), "here");
            if let Some(previous) = error.previous.clone() {
                finding = finding.with_label_in(&source, previous, "first defined here");
            }
            finding.with_help(error.help.unwrap_or_else(|| "fix the JSON syntax at the marked place".into()))
        })?;
        Reader { source }.world(&root)
    }
}

struct Reader {
    source: SourceText,
}

impl Reader {
    fn error(&self, span: Range<usize>, message: impl Into<String>, label: &str, help: impl Into<String>) -> Finding {
        Finding::error(CODE, message).with_label_in(&self.source, span, label).with_help(help)
    }

    fn object<'a>(&self, node: &'a Node, what: &str) -> Result<&'a [Member], Finding> {
        node.as_object().ok_or_else(|| {
            self.error(node.span.clone(), format!("{what} must be an object, found {}", node.type_name()), "expected an object", format!("write {what} as a JSON object"))
        })
    }

    fn array<'a>(&self, node: &'a Node, what: &str) -> Result<&'a [Node], Finding> {
        node.as_array().ok_or_else(|| {
            self.error(node.span.clone(), format!("{what} must be an array, found {}", node.type_name()), "expected an array", format!("write {what} as a JSON array"))
        })
    }

    fn string<'a>(&self, node: &'a Node, what: &str) -> Result<&'a str, Finding> {
        node.as_str().ok_or_else(|| {
            self.error(node.span.clone(), format!("{what} must be a string, found {}", node.type_name()), "expected a string", format!("write {what} as a JSON string"))
        })
    }

    fn optional_string(&self, parent: &Node, key: &str, default: &str) -> Result<String, Finding> {
        match parent.get(key) {
            Some(node) => Ok(self.string(node, key)?.to_string()),
            None => Ok(default.to_string()),
        }
    }

    /// Reads a timestamp written as epoch seconds, the AWS CLI's JSON output.
    fn optional_timestamp(&self, parent: &Node, key: &str) -> Result<f64, Finding> {
        match parent.get(key) {
            Some(node) => node.as_f64().ok_or_else(|| {
                self.error(node.span.clone(), format!("{key} must be a number of seconds since the Unix epoch"), "expected a number", "write the timestamp as epoch seconds, e.g. 1690564858.106")
            }),
            None => Ok(0.0),
        }
    }

    fn optional_count(&self, parent: &Node, key: &str) -> Result<u64, Finding> {
        let Some(node) = parent.get(key) else { return Ok(0) };
        match node.as_f64() {
            Some(value) if value >= 0.0 && value.fract() == 0.0 && value <= 1e9 => Ok(value as u64),
            _ => Err(self.error(node.span.clone(), format!("{key} must be a whole number from 0 to 1000000000"), "expected a count", "write a non-negative integer")),
        }
    }

    fn world(&self, root: &Node) -> Result<World, Finding> {
        self.object(root, "the world file")?;
        let Some(section) = root.get("rekognition") else {
            return Err(self.error(
                0..root.span.start.saturating_add(1).min(root.span.end),
                "the world file has no `rekognition` section",
                "this object has no `rekognition` key",
                "add a `rekognition` object with `region`, `projects` and `datasets`, as `collect` writes it",
            ));
        };
        self.object(section, "`rekognition`")?;

        let mut projects = self.projects(section)?;
        let region = match section.get("region") {
            Some(node) => self.string(node, "`rekognition.region`")?.to_string(),
            None => projects.first().and_then(|project| project.arn.split(':').nth(3)).unwrap_or("us-east-1").to_string(),
        };
        let caller_account = root.get("caller").and_then(|caller| caller.get("Account")).and_then(Node::as_str);
        let seeded_account = projects.first().and_then(|project| project.arn.split(':').nth(4));
        let account = caller_account.or(seeded_account).unwrap_or("111122223333").to_string();

        let datasets = self.datasets(section, &mut projects)?;
        let tags = self.tags(section)?;
        let caller = self.optional_object(root, "caller")?;
        let iam = self.optional_object(root, "iam")?;
        Ok(World { region, account, projects, datasets, tags, caller, iam })
    }

    fn optional_object(&self, root: &Node, key: &str) -> Result<Option<serde_json::Value>, Finding> {
        let Some(node) = root.get(key) else { return Ok(None) };
        self.object(node, &format!("`{key}`"))?;
        Ok(Some(node.to_serde()))
    }

    fn projects(&self, section: &Node) -> Result<Vec<Project>, Finding> {
        let Some(node) = section.get("projects") else { return Ok(Vec::new()) };
        self.object(node, "`rekognition.projects`")?;
        let Some(list) = node.get("ProjectDescriptions") else {
            return Err(self.error(node.span.clone(), "`rekognition.projects` has no `ProjectDescriptions`", "missing `ProjectDescriptions`", "paste the output of `aws rekognition describe-projects` here"));
        };

        let mut projects = Vec::new();
        for item in self.array(list, "`ProjectDescriptions`")? {
            self.object(item, "a project description")?;
            let arn_node = item.get("ProjectArn").ok_or_else(|| {
                self.error(item.span.clone(), "a project description has no `ProjectArn`", "missing `ProjectArn`", "add the project's ARN")
            })?;
            let arn = self.string(arn_node, "`ProjectArn`")?;
            let name = arns::parse_project_arn(arn).ok_or_else(|| {
                self.error(arn_node.span.clone(), format!("`{arn}` is not a Rekognition project ARN"), "invalid project ARN", "use the form arn:aws:rekognition:REGION:ACCOUNT:project/NAME/MILLISECONDS")
            })?;

            let mut datasets = Vec::new();
            if let Some(list) = item.get("Datasets") {
                for metadata in self.array(list, "`Datasets`")? {
                    self.object(metadata, "a dataset metadata entry")?;
                    if let Some(arn) = metadata.get("DatasetArn") {
                        datasets.push(self.string(arn, "`DatasetArn`")?.to_string());
                    }
                }
            }
            projects.push(Project {
                arn: arn.to_string(),
                name,
                creation_timestamp: self.optional_timestamp(item, "CreationTimestamp")?,
                status: self.optional_string(item, "Status", "CREATED")?,
                feature: self.optional_string(item, "Feature", "CUSTOM_LABELS")?,
                auto_update: item.get("AutoUpdate").map(|node| self.string(node, "AutoUpdate").map(str::to_string)).transpose()?,
                datasets,
            });
        }
        Ok(projects)
    }

    /// Collects the datasets named in `datasets` or in a project's `Datasets`
    /// list, with their labels and entries.
    fn datasets(&self, section: &Node, projects: &mut [Project]) -> Result<Vec<DatasetSeed>, Finding> {
        let descriptions = match section.get("datasets") {
            Some(node) => self.object(node, "`rekognition.datasets`")?,
            None => &[],
        };
        let labels = match section.get("labels") {
            Some(node) => self.object(node, "`rekognition.labels`")?,
            None => &[],
        };
        let entries = match section.get("entries") {
            Some(node) => self.object(node, "`rekognition.entries`")?,
            None => &[],
        };

        // A dataset is named by a key of `datasets`, `labels` or `entries`, or
        // by a project's `Datasets` list.
        let mut arns: Vec<(String, Range<usize>)> = Vec::new();
        for member in descriptions.iter().chain(labels).chain(entries) {
            if !arns.iter().any(|(known, _)| known == &member.key) {
                arns.push((member.key.clone(), member.key_span.clone()));
            }
        }
        for (arn, span) in listed_dataset_arns(section) {
            if !arns.iter().any(|(known, _)| known == &arn) {
                arns.push((arn, span));
            }
        }

        let mut datasets = Vec::new();
        for (arn, span) in arns {
            let parts = arns::parse_dataset_arn(&arn).ok_or_else(|| {
                self.error(span.clone(), format!("`{arn}` is not a Rekognition dataset ARN"), "invalid dataset ARN", "use the form arn:aws:rekognition:REGION:ACCOUNT:project/NAME/dataset/train|test/MILLISECONDS")
            })?;
            let project = projects.iter().find(|project| project.datasets.contains(&arn)).map(|project| project.arn.clone());
            let project_arn = match project {
                Some(project_arn) => project_arn,
                None => {
                    let owner = projects.iter_mut().find(|project| {
                        project.name == parts.project && project.arn.split(':').nth(3) == Some(parts.region.as_str()) && project.arn.split(':').nth(4) == Some(parts.account.as_str())
                    });
                    let Some(owner) = owner else {
                        return Err(self.error(span, format!("dataset `{arn}` belongs to no project in `rekognition.projects`"), "no project for this dataset", format!("add project `{}` to `rekognition.projects`", parts.project)));
                    };
                    owner.datasets.push(arn.clone());
                    owner.arn.clone()
                }
            };

            let description = descriptions.iter().find(|member| member.key == arn).map(|member| &member.value);
            let mut seed = self.dataset(&arn, project_arn, parts.dataset_type, description)?;
            if let Some(member) = labels.iter().find(|member| member.key == arn) {
                seed.labels = self.labels(&member.value)?;
            }
            if let Some(member) = entries.iter().find(|member| member.key == arn) {
                let lines = self.array(&member.value, "an entries list")?;
                seed.entries = Some(lines.iter().map(|line| self.string(line, "a dataset entry").map(str::to_string)).collect::<Result<_, _>>()?);
            }
            datasets.push(seed);
        }
        Ok(datasets)
    }

    fn dataset(&self, arn: &str, project_arn: String, dataset_type: DatasetType, output: Option<&Node>) -> Result<DatasetSeed, Finding> {
        let dataset = Dataset {
            arn: arn.to_string(),
            project_arn,
            dataset_type,
            creation_timestamp: 0.0,
            last_updated_timestamp: 0.0,
            status: "CREATE_COMPLETE".into(),
            status_message: CREATE_SUCCEEDED_MESSAGE.into(),
            status_message_code: "SUCCESS".into(),
            entries: Vec::new(),
            pending: None,
        };
        let mut seed = DatasetSeed { dataset, stats: DatasetStats::default(), labels: Vec::new(), entries: None };
        let Some(output) = output else { return Ok(seed) };
        self.object(output, "a describe-dataset output")?;
        let Some(description) = output.get("DatasetDescription") else {
            return Err(self.error(output.span.clone(), format!("the description of `{arn}` has no `DatasetDescription`"), "missing `DatasetDescription`", "paste the output of `aws rekognition describe-dataset` here"));
        };
        self.object(description, "`DatasetDescription`")?;

        seed.dataset.creation_timestamp = self.optional_timestamp(description, "CreationTimestamp")?;
        seed.dataset.last_updated_timestamp = self.optional_timestamp(description, "LastUpdatedTimestamp")?;
        seed.dataset.status = self.optional_string(description, "Status", &seed.dataset.status)?;
        seed.dataset.status_message = self.optional_string(description, "StatusMessage", &seed.dataset.status_message)?;
        seed.dataset.status_message_code = self.optional_string(description, "StatusMessageCode", &seed.dataset.status_message_code)?;
        if let Some(stats) = description.get("DatasetStats") {
            self.object(stats, "`DatasetStats`")?;
            seed.stats = DatasetStats {
                labeled_entries: self.optional_count(stats, "LabeledEntries")?,
                total_entries: self.optional_count(stats, "TotalEntries")?,
                total_labels: self.optional_count(stats, "TotalLabels")?,
                error_entries: self.optional_count(stats, "ErrorEntries")?,
            };
        }
        Ok(seed)
    }

    fn labels(&self, output: &Node) -> Result<Vec<LabelStats>, Finding> {
        self.object(output, "a list-dataset-labels output")?;
        let Some(list) = output.get("DatasetLabelDescriptions") else { return Ok(Vec::new()) };
        let mut labels = Vec::new();
        for item in self.array(list, "`DatasetLabelDescriptions`")? {
            self.object(item, "a label description")?;
            let name = item.get("LabelName").ok_or_else(|| {
                self.error(item.span.clone(), "a label description has no `LabelName`", "missing `LabelName`", "add the label's name")
            })?;
            let stats = item.get("LabelStats");
            let (entry_count, bounding_box_count) = match stats {
                Some(stats) => (self.optional_count(stats, "EntryCount")?, self.optional_count(stats, "BoundingBoxCount")?),
                None => (0, 0),
            };
            labels.push(LabelStats { name: self.string(name, "`LabelName`")?.to_string(), entry_count, bounding_box_count });
        }
        Ok(labels)
    }

    fn tags(&self, section: &Node) -> Result<BTreeMap<String, BTreeMap<String, String>>, Finding> {
        let mut tags = BTreeMap::new();
        let Some(node) = section.get("tags") else { return Ok(tags) };
        for member in self.object(node, "`rekognition.tags`")? {
            self.object(&member.value, "a list-tags-for-resource output")?;
            let mut resource_tags = BTreeMap::new();
            if let Some(map) = member.value.get("Tags") {
                for tag in self.object(map, "`Tags`")? {
                    resource_tags.insert(tag.key.clone(), self.string(&tag.value, "a tag value")?.to_string());
                }
            }
            tags.insert(member.key.clone(), resource_tags);
        }
        Ok(tags)
    }
}

/// Lists the `DatasetArn` values in `projects.ProjectDescriptions[].Datasets`
/// with their spans. `Reader::projects` has checked the types already.
fn listed_dataset_arns(section: &Node) -> Vec<(String, Range<usize>)> {
    let projects = section.get("projects").and_then(|projects| projects.get("ProjectDescriptions")).and_then(Node::as_array).unwrap_or_default();
    projects
        .iter()
        .filter_map(|project| project.get("Datasets").and_then(Node::as_array))
        .flatten()
        .filter_map(|metadata| metadata.get("DatasetArn"))
        .filter_map(|arn| Some((arn.as_str()?.to_string(), arn.span.clone())))
        .collect()
}
