//! PLACEHOLDER: `collect` is filled in by its own work.

use clap::Args;

use super::Exit;

#[derive(Debug, Args)]
pub struct CollectArgs {}

pub fn run(args: CollectArgs) -> Exit {
    let _ = args;
    eprintln!("`collect` is not available yet");
    Exit::Input
}
