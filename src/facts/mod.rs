//! The facts that rules decide on, independent of where they came from: a
//! snapshot file (`snapshot`) or the live service (`aws`).
//!
//! Every fact that may be unknown is an `Option` or a [`Known`], so that a
//! rule whose facts are missing reports "cannot decide" instead of passing.

#[cfg(feature = "aws")]
pub mod aws;
pub mod model;
pub mod principal;
pub mod snapshot;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::arn::{ArnError, DatasetArn};
use crate::iam::{Policy, PolicyLevel};
use crate::source::SourceText;

pub use model::to_model;

/// The flag a dataset ARN was given with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Train,
    Test,
}

impl Role {
    pub fn flag(self) -> &'static str {
        match self {
            Role::Train => "--train",
            Role::Test => "--test",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Role::Train => "train",
            Role::Test => "test",
        }
    }
}

/// A fact that a source looked up: found, confirmed missing, or not looked
/// up at all (the source had no way to tell).
#[derive(Debug, Clone, PartialEq)]
pub enum Known<T> {
    Found(T),
    NotFound,
    Unknown,
}

impl<T> Known<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Known::Found(value) => Some(value),
            _ => None,
        }
    }
}

/// A place in a source text that a diagnostic can underline.
#[derive(Debug, Clone)]
pub struct Location {
    pub source: SourceText,
    pub span: Range<usize>,
}

/// Everything the rules may look at for one train/test pair.
#[derive(Debug, Clone)]
pub struct Facts {
    pub train: DatasetFacts,
    pub test: DatasetFacts,
    /// The Rekognition projects the source listed, when it listed them.
    pub projects: Option<Vec<ProjectFacts>>,
    /// The principal whose permissions `principal-allowed` evaluates, or why
    /// it could not be resolved.
    pub principal: Result<principal::PrincipalFacts, principal::Unresolved>,
    /// Service control policies, root first and account last; empty when the
    /// account is not in an organization or the source does not know.
    pub service_control_policies: Vec<PolicyLevel>,
    /// `--context KEY=VALUE` pairs that add to or override derived keys.
    pub context_overrides: Vec<(String, String)>,
    pub client: ClientFacts,
    /// The origin of each fact, by fact path such as `test.total_entries`.
    pub locations: BTreeMap<String, Location>,
}

/// The way the facts were gathered.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    /// `snapshot`, `aws` or `emulator`.
    pub mode: String,
    /// The Region that API calls go to.
    pub region: Option<String>,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct DatasetFacts {
    pub role: Role,
    /// The ARN exactly as given, named after its flag for diagnostics.
    pub argument: SourceText,
    pub arn: Result<DatasetArn, ArnError>,
    /// The DescribeDataset result.
    pub description: Known<DatasetDescription>,
    /// The ListDatasetLabels result.
    pub labels: Option<Vec<LabelStats>>,
    /// The ListTagsForResource result.
    pub tags: Option<BTreeMap<String, String>>,
    /// The entry of DescribeProjects that lists this dataset, when projects are known.
    pub listing: Option<Known<DatasetListing>>,
}

impl DatasetFacts {
    pub fn new(role: Role, arn_text: &str) -> Self {
        Self {
            role,
            argument: SourceText::new(role.flag(), arn_text),
            arn: DatasetArn::parse(arn_text),
            description: Known::Unknown,
            labels: None,
            tags: None,
            listing: None,
        }
    }

    pub fn arn_text(&self) -> &str {
        self.argument.text()
    }
}

/// The fields of DescribeDataset's DatasetDescription that rules use.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetDescription {
    pub status: String,
    pub status_message: Option<String>,
    pub status_message_code: Option<String>,
    pub total_entries: Option<u64>,
    pub labeled_entries: Option<u64>,
    pub error_entries: Option<u64>,
    pub total_labels: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelStats {
    pub name: String,
    pub entry_count: Option<u64>,
    pub bounding_box_count: Option<u64>,
}

/// One dataset as DescribeProjects lists it under a project.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetListing {
    pub project_arn: String,
    /// `TRAIN` or `TEST`, as the service spells it.
    pub dataset_type: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectFacts {
    pub arn: String,
    pub status: Option<String>,
    pub feature: Option<String>,
    pub datasets: Vec<ListedDataset>,
}

/// A dataset entry of DescribeProjects' `Datasets` list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedDataset {
    pub arn: String,
    pub dataset_type: Option<String>,
    pub status: Option<String>,
}

/// The policies of an IAM identity, ready for evaluation.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicies {
    pub identity: Vec<Policy>,
    pub boundary: Option<Policy>,
}

impl Facts {
    /// Records where a fact came from.
    pub fn locate(&mut self, path: impl Into<String>, source: &SourceText, span: Range<usize>) {
        self.locations.insert(path.into(), Location { source: source.clone(), span });
    }

    pub fn dataset(&self, role: Role) -> &DatasetFacts {
        match role {
            Role::Train => &self.train,
            Role::Test => &self.test,
        }
    }

    /// Fills in the listings of both datasets from the project list.
    pub fn link_listings(&mut self) {
        let Some(projects) = &self.projects else {
            return;
        };
        for dataset in [&mut self.train, &mut self.test] {
            let listing = projects.iter().find_map(|project| {
                let listed = project.datasets.iter().find(|listed| listed.arn == dataset.arn_text())?;
                Some(DatasetListing {
                    project_arn: project.arn.clone(),
                    dataset_type: listed.dataset_type.clone(),
                    status: listed.status.clone(),
                })
            });
            dataset.listing = Some(match listing {
                Some(listing) => Known::Found(listing),
                None => Known::NotFound,
            });
        }
    }
}
