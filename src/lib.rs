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

/// Writes a line to stderr and ignores a failed write. Unlike `eprintln!`,
/// it cannot panic on a closed or full stderr, which would stop a run that
/// has already called the service before it waits and verifies.
#[macro_export]
macro_rules! status_line {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($argument)*);
    }};
}

/// The version of this tool, as reported in facts and output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
