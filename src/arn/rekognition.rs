//! Typed Rekognition Custom Labels ARNs. PLACEHOLDER: the ARN work fills this in.

use std::fmt;
use std::ops::Range;

use super::{Arn, ArnError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetType {
    Train,
    Test,
}

impl fmt::Display for DatasetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatasetType::Train => "train",
            DatasetType::Test => "test",
        })
    }
}

/// `arn:{partition}:rekognition:{region}:{account}:project/{name}/dataset/{train|test}/{creation-time}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetArn {
    pub arn: Arn,
    pub project: String,
    pub dataset_type: DatasetType,
    /// Milliseconds since the Unix epoch, as written in the ARN.
    pub creation_time: String,
    pub project_span: Range<usize>,
    pub dataset_type_span: Range<usize>,
}

/// `arn:{partition}:rekognition:{region}:{account}:project/{name}/{creation-time}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectArn {
    pub arn: Arn,
    pub name: String,
    pub creation_time: String,
}

impl DatasetArn {
    pub fn parse(text: &str) -> Result<DatasetArn, ArnError> {
        let _ = text;
        todo!()
    }
}

impl ProjectArn {
    pub fn parse(text: &str) -> Result<ProjectArn, ArnError> {
        let _ = text;
        todo!()
    }
}
