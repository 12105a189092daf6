//! PLACEHOLDER: `run` is filled in by its own work.

use clap::Args;

use super::Exit;

#[derive(Debug, Args)]
pub struct RunArgs {}

pub fn run(args: RunArgs) -> Exit {
    let _ = args;
    eprintln!("`run` is not available yet");
    Exit::Input
}
