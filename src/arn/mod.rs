//! ARN parsing: the generic `arn:partition:service:region:account:resource`
//! form and the typed Rekognition project and dataset ARNs.
//! PLACEHOLDER: the ARN work fills this in.

pub mod rekognition;

use std::ops::Range;

use crate::finding::Finding;
use crate::source::SourceText;

pub use rekognition::{DatasetArn, DatasetType, ProjectArn};

/// A parsed ARN with the byte range of each part in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
    pub spans: ArnSpans,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArnSpans {
    pub partition: Range<usize>,
    pub service: Range<usize>,
    pub region: Range<usize>,
    pub account: Range<usize>,
    pub resource: Range<usize>,
}

/// Why a text is not a valid ARN, with the byte range to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl Arn {
    pub fn parse(text: &str) -> Result<Arn, ArnError> {
        let _ = text;
        todo!()
    }
}

impl ArnError {
    /// Builds a diagnostic that underlines the offending part of `source`,
    /// whose text is the ARN that failed to parse.
    pub fn to_finding(&self, code: &str, source: &SourceText) -> Finding {
        let mut finding = Finding::error(code, self.message.clone()).with_label_in(source, self.span.clone(), "here");
        if let Some(help) = &self.help {
            finding = finding.with_help(help.clone());
        }
        finding
    }
}
