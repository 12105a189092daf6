//! The `rekognition-preflight` command. All work happens in the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    rekognition_preflight::cli::main()
}
