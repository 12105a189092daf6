//! Facts from a snapshot file: one JSON object assembled from AWS CLI
//! outputs.
//!
//! ```text
//! {
//!   "caller": <aws sts get-caller-identity>,
//!   "iam": <aws iam get-account-authorization-details>,
//!   "organizations": {"serviceControlPolicies": [{"level": ID, "policies": [DOC, ...]}, ...]},
//!   "rekognition": {
//!     "region": "us-east-1",
//!     "projects": <aws rekognition describe-projects>,
//!     "datasets": {ARN: <aws rekognition describe-dataset>},
//!     "labels": {ARN: <aws rekognition list-dataset-labels>},
//!     "entries": {ARN: [JSON line, ...]},
//!     "tags": {ARN: <aws rekognition list-tags-for-resource>}
//!   }
//! }
//! ```
//!
//! `organizations`, `entries` and `tags` are optional, and unknown keys are
//! ignored. Without `caller` and `iam` the permission rule cannot decide.

use std::collections::BTreeMap;
use std::path::Path;

use super::principal::{self, Unresolved};
use super::{
    ClientFacts, DatasetDescription, DatasetFacts, Facts, Known, LabelStats, ListedDataset, ProjectFacts, Role,
};
use crate::finding::Finding;
use crate::iam::{PolicyLevel, PolicyType};
use crate::json::{self, Node};
use crate::source::SourceText;

/// The dataset pair, principal and context keys that a check is about.
#[derive(Debug, Clone, Default)]
pub struct CheckTarget {
    pub train: String,
    pub test: String,
    /// The principal to evaluate. The caller is evaluated when this is `None`.
    pub principal: Option<String>,
    pub context: Vec<(String, String)>,
}

/// A snapshot file, read and parsed.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub source: SourceText,
    pub root: Node,
}

impl Snapshot {
    /// Reads and parses a snapshot. Every failure is an input error that names
    /// the file and, for content errors, the line and column.
    pub fn read(path: &Path) -> Result<Snapshot, Finding> {
        let name = path.display().to_string();
        let bytes = read_file(path, "snapshot")?;
        let text = decode_utf8(&name, bytes)?;
        Snapshot::parse(&name, text)
    }

    pub fn parse(name: &str, text: String) -> Result<Snapshot, Finding> {
        let source = SourceText::new(name, text);
        let root = json::parse(source.text()).map_err(|error| json_error(&source, &error))?;
        if root.as_object().is_none() {
            return Err(Finding::error("input::snapshot", format!("{name} must contain a JSON object, found {}", root.type_name()))
                .with_label_in(&source, root.span.clone(), "expected an object")
                .with_help("a snapshot is one object with `caller`, `iam` and `rekognition` keys; see examples/"));
        }
        Ok(Snapshot { source, root })
    }

    /// Builds the facts for one train/test pair.
    pub fn facts(&self, target: &CheckTarget) -> Result<Facts, Finding> {
        let rekognition = self.required(&self.root, "rekognition", "an object with region, projects, datasets and labels")?;
        let region = self.required(rekognition, "region", "a Region name such as `us-east-1`")?;
        let region = self.string(region, "rekognition.region")?;
        let projects = self.required(rekognition, "projects", "the output of `aws rekognition describe-projects`")?;
        let datasets = self.required(rekognition, "datasets", "an object of {DatasetArn: output of `aws rekognition describe-dataset`}")?;
        let labels = self.required(rekognition, "labels", "an object of {DatasetArn: output of `aws rekognition list-dataset-labels`}")?;
        self.expect_object(datasets, "rekognition.datasets")?;
        self.expect_object(labels, "rekognition.labels")?;

        let mut facts = Facts {
            train: DatasetFacts::new(Role::Train, &target.train),
            test: DatasetFacts::new(Role::Test, &target.test),
            projects: Some(self.projects(projects)?),
            principal: Err(Unresolved::new("no principal")),
            service_control_policies: self.service_control_policies()?,
            context_overrides: target.context.clone(),
            client: ClientFacts { mode: "snapshot".into(), region: Some(region.to_string()), version: crate::VERSION.into() },
            locations: BTreeMap::new(),
        };
        facts.link_listings();

        for role in [Role::Train, Role::Test] {
            self.dataset_facts(&mut facts, role, datasets, labels, rekognition.get("tags"))?;
        }
        facts.principal = self.principal(target)?;
        Ok(facts)
    }

    fn dataset_facts(&self, facts: &mut Facts, role: Role, datasets: &Node, labels: &Node, tags: Option<&Node>) -> Result<(), Finding> {
        let key = role.key();
        let arn = facts.dataset(role).arn_text().to_string();
        let mut description = Known::NotFound;
        if let Some(member) = datasets.member(&arn) {
            let path = format!("rekognition.datasets[\"{arn}\"]");
            let node = self.required_at(&member.value, "DatasetDescription", &path, "the output of `aws rekognition describe-dataset`")?;
            description = Known::Found(self.description(facts, key, node, &path)?);
        }

        let dataset_labels = match labels.get(&arn) {
            Some(node) => Some(self.labels(node, &arn)?),
            None => None,
        };
        let dataset_tags = match tags.and_then(|tags| tags.get(&arn)) {
            Some(node) => Some(self.tags(node, &arn)?),
            None => None,
        };

        let dataset = match role {
            Role::Train => &mut facts.train,
            Role::Test => &mut facts.test,
        };
        dataset.description = description;
        dataset.labels = dataset_labels;
        dataset.tags = dataset_tags;
        Ok(())
    }

    fn description(&self, facts: &mut Facts, key: &str, node: &Node, path: &str) -> Result<DatasetDescription, Finding> {
        self.expect_object(node, &format!("{path}.DatasetDescription"))?;
        facts.locate(format!("{key}.description"), &self.source, node.span.clone());
        let status = self.required_at(node, "Status", path, "a dataset status such as `CREATE_COMPLETE`")?;
        facts.locate(format!("{key}.status"), &self.source, status.span.clone());

        let stats = node.get("DatasetStats");
        let mut count = |field: &str, fact: &str| -> Result<Option<u64>, Finding> {
            let Some(value) = stats.and_then(|stats| stats.get(field)) else {
                return Ok(None);
            };
            facts.locate(format!("{key}.{fact}"), &self.source, value.span.clone());
            self.count(value, &format!("{path}.DatasetStats.{field}")).map(Some)
        };
        let total_entries = count("TotalEntries", "total_entries")?;
        let labeled_entries = count("LabeledEntries", "labeled_entries")?;
        let error_entries = count("ErrorEntries", "error_entries")?;
        let total_labels = count("TotalLabels", "total_labels")?;

        Ok(DatasetDescription {
            status: self.string(status, &format!("{path}.Status"))?.to_string(),
            status_message: node.get("StatusMessage").and_then(Node::as_str).map(str::to_string),
            status_message_code: node.get("StatusMessageCode").and_then(Node::as_str).map(str::to_string),
            total_entries,
            labeled_entries,
            error_entries,
            total_labels,
        })
    }

    fn labels(&self, node: &Node, arn: &str) -> Result<Vec<LabelStats>, Finding> {
        let path = format!("rekognition.labels[\"{arn}\"]");
        let list = self.required_at(node, "DatasetLabelDescriptions", &path, "the output of `aws rekognition list-dataset-labels`")?;
        let Some(items) = list.as_array() else {
            return Err(self.type_error(list, &format!("{path}.DatasetLabelDescriptions"), "an array"));
        };
        items
            .iter()
            .map(|item| {
                let name = self.required_at(item, "LabelName", &path, "the label's name")?;
                let stats = item.get("LabelStats");
                let number = |field: &str| -> Result<Option<u64>, Finding> {
                    match stats.and_then(|stats| stats.get(field)) {
                        Some(value) => self.count(value, &format!("{path}.LabelStats.{field}")).map(Some),
                        None => Ok(None),
                    }
                };
                Ok(LabelStats {
                    name: self.string(name, &format!("{path}.LabelName"))?.to_string(),
                    entry_count: number("EntryCount")?,
                    bounding_box_count: number("BoundingBoxCount")?,
                })
            })
            .collect()
    }

    fn tags(&self, node: &Node, arn: &str) -> Result<BTreeMap<String, String>, Finding> {
        let path = format!("rekognition.tags[\"{arn}\"]");
        let tags = self.required_at(node, "Tags", &path, "the output of `aws rekognition list-tags-for-resource`")?;
        let Some(members) = tags.as_object() else {
            return Err(self.type_error(tags, &format!("{path}.Tags"), "an object of tag keys to values"));
        };
        members
            .iter()
            .map(|member| Ok((member.key.clone(), self.string(&member.value, &format!("{path}.Tags.{}", member.key))?.to_string())))
            .collect()
    }

    fn projects(&self, node: &Node) -> Result<Vec<ProjectFacts>, Finding> {
        let path = "rekognition.projects";
        let list = self.required_at(node, "ProjectDescriptions", path, "the output of `aws rekognition describe-projects`")?;
        let Some(items) = list.as_array() else {
            return Err(self.type_error(list, "rekognition.projects.ProjectDescriptions", "an array"));
        };
        items
            .iter()
            .map(|item| {
                let arn = self.required_at(item, "ProjectArn", path, "the project's ARN")?;
                let datasets = item.get("Datasets").and_then(Node::as_array).unwrap_or_default();
                Ok(ProjectFacts {
                    arn: self.string(arn, "ProjectArn")?.to_string(),
                    status: item.get("Status").and_then(Node::as_str).map(str::to_string),
                    feature: item.get("Feature").and_then(Node::as_str).map(str::to_string),
                    datasets: datasets
                        .iter()
                        .filter_map(|dataset| {
                            Some(ListedDataset {
                                arn: dataset.get("DatasetArn")?.as_str()?.to_string(),
                                dataset_type: dataset.get("DatasetType").and_then(Node::as_str).map(str::to_string),
                                status: dataset.get("Status").and_then(Node::as_str).map(str::to_string),
                            })
                        })
                        .collect(),
                })
            })
            .collect()
    }

    fn service_control_policies(&self) -> Result<Vec<PolicyLevel>, Finding> {
        let Some(organizations) = self.root.get("organizations") else {
            return Ok(Vec::new());
        };
        let Some(levels) = organizations.get("serviceControlPolicies") else {
            return Ok(Vec::new());
        };
        let Some(levels) = levels.as_array() else {
            return Err(self.type_error(levels, "organizations.serviceControlPolicies", "an array of {level, policies}"));
        };
        levels
            .iter()
            .enumerate()
            .map(|(index, level)| {
                let path = format!("organizations.serviceControlPolicies[{index}]");
                let name = self.required_at(level, "level", &path, "the root, OU or account id of this level")?;
                let name = self.string(name, &format!("{path}.level"))?.to_string();
                let documents = self.required_at(level, "policies", &path, "an array of policy documents")?;
                let Some(documents) = documents.as_array() else {
                    return Err(self.type_error(documents, &format!("{path}.policies"), "an array of policy documents"));
                };
                let policies = documents
                    .iter()
                    .enumerate()
                    .map(|(number, document)| {
                        let policy_name = format!("SCP {} at {name}", number + 1);
                        principal::parse_document(&policy_name, document, &self.source, PolicyType::ServiceControlPolicy)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(PolicyLevel { name, policies })
            })
            .collect()
    }

    fn principal(&self, target: &CheckTarget) -> Result<Result<principal::PrincipalFacts, Unresolved>, Finding> {
        let caller_arn = self.root.get("caller").and_then(|caller| caller.get("Arn")).and_then(Node::as_str);
        let principal_arn = match (&target.principal, caller_arn) {
            (Some(principal), _) => principal.as_str(),
            (None, Some(caller)) => caller,
            (None, None) => {
                return Ok(Err(Unresolved::new(
                    "the snapshot has no caller.Arn and no --principal was given; add the output of \
                     `aws sts get-caller-identity` as `caller`",
                )));
            }
        };
        let Some(details) = self.root.get("iam") else {
            return Ok(Err(Unresolved::new(
                "the snapshot has no `iam` section; add the output of `aws iam get-account-authorization-details`",
            )));
        };
        let mut resolved = principal::resolve(details, &self.source, principal_arn)?;
        if let (Ok(principal), Some(caller)) = (&mut resolved, self.root.get("caller")) {
            if target.principal.is_none() {
                principal.user_id = caller.get("UserId").and_then(Node::as_str).map(str::to_string).or(principal.user_id.take());
            }
        }
        Ok(resolved)
    }

    fn required<'n>(&self, parent: &'n Node, key: &str, expected: &str) -> Result<&'n Node, Finding> {
        let path = if parent.span == self.root.span { String::new() } else { "rekognition".to_string() };
        self.required_at(parent, key, &path, expected)
    }

    fn required_at<'n>(&self, parent: &'n Node, key: &str, path: &str, expected: &str) -> Result<&'n Node, Finding> {
        let full = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        if parent.as_object().is_none() {
            return Err(self.type_error(parent, path, "an object"));
        }
        parent.get(key).ok_or_else(|| {
            let (line, column) = self.source.line_column(parent.span.start);
            Finding::error("input::snapshot", format!("{}: `{full}` is missing (object at line {line}, column {column})", self.source.name()))
                .with_label_in(&self.source, opening_brace(&parent.span), format!("`{key}` is missing in this object"))
                .with_help(format!("add `{key}`: {expected}"))
        })
    }

    fn expect_object(&self, node: &Node, path: &str) -> Result<(), Finding> {
        match node.as_object() {
            Some(_) => Ok(()),
            None => Err(self.type_error(node, path, "an object")),
        }
    }

    fn string<'n>(&self, node: &'n Node, path: &str) -> Result<&'n str, Finding> {
        node.as_str().ok_or_else(|| self.type_error(node, path, "a string"))
    }

    fn count(&self, node: &Node, path: &str) -> Result<u64, Finding> {
        match &node.value {
            json::Value::Number(raw) => raw.parse::<u64>().map_err(|_| self.type_error(node, path, "a whole number of at least 0")),
            _ => Err(self.type_error(node, path, "a whole number")),
        }
    }

    fn type_error(&self, node: &Node, path: &str, expected: &str) -> Finding {
        let (line, column) = self.source.line_column(node.span.start);
        Finding::error(
            "input::snapshot",
            format!("{}:{line}:{column}: `{path}` must be {expected}, found {}", self.source.name(), node.type_name()),
        )
        .with_label_in(&self.source, node.span.clone(), format!("expected {expected}"))
        .with_help("copy the AWS CLI output into the snapshot unchanged; see examples/ for the layout")
    }
}

/// Reads a whole file, turning the usual failures into input errors.
pub fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Finding> {
    let name = path.display();
    if path.is_dir() {
        return Err(Finding::error("input::file", format!("{what} `{name}` is a directory, not a file"))
            .with_help(format!("give the path of the {what} JSON file inside it")));
    }
    std::fs::read(path).map_err(|error| {
        let help = match error.kind() {
            std::io::ErrorKind::NotFound => "check the path; it is relative to the current directory",
            std::io::ErrorKind::PermissionDenied => "make the file readable by this user",
            _ => "check that the path names a readable file",
        };
        Finding::error("input::file", format!("cannot read {what} `{name}`: {error}")).with_help(help)
    })
}

/// Decodes UTF-8, reporting the position of the first invalid byte.
pub fn decode_utf8(name: &str, bytes: Vec<u8>) -> Result<String, Finding> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&error.as_bytes()[..valid]).into_owned();
        let (line, column) = json::line_column(&prefix, valid);
        let last = prefix.char_indices().next_back().map_or(0, |(index, _)| index);
        let source = SourceText::new(name, prefix);
        Finding::error("input::encoding", format!("{name}:{line}:{column}: invalid UTF-8 at byte {valid}"))
            .with_label_in(&source, last..valid, "the invalid byte follows this character")
            .with_help("save the file as UTF-8; the AWS CLI writes UTF-8 JSON")
    })
}

/// Turns a JSON syntax error into an input error located in `source`.
pub fn json_error(source: &SourceText, error: &json::JsonError) -> Finding {
    let (line, column) = source.line_column(error.span.start);
    let mut finding = Finding::error("input::json", format!("{}:{line}:{column}: {}", source.name(), error.message))
        .with_label_in(source, error.span.clone(), error.message.clone());
    if let Some(previous) = &error.previous {
        finding = finding.with_label_in(source, previous.clone(), "first defined here");
    }
    finding.with_help(error.help.clone().unwrap_or_else(|| "fix the JSON syntax at this position".into()))
}

fn opening_brace(span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    span.start..span.start + 1
}
