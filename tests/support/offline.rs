//! Helpers shared by the integration tests: running the built binary from
//! the crate root, so that paths in its output are stable.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const TRAIN: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";
pub const TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858107";

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary with `args` from the crate root, with no colour, a fixed
/// width, and no AWS settings from the environment.
pub fn run(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        .env_remove("AWS_PROFILE")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the test binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join(path)).expect("fixture is readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}
