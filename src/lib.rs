//! Pre-flight checks for Amazon Rekognition Custom Labels'
//! `DistributeDatasetEntries`: decide before the call whether it will succeed,
//! explain why not, and run the split only when every check passes.

#![forbid(unsafe_code)]

pub mod arn;
pub mod cli;
pub mod emulator;
pub mod facts;
pub mod finding;
pub mod iam;
pub mod json;
pub mod report;
pub mod rules;
pub mod source;
pub mod suggest;

/// The version of this tool, as reported in facts and output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
