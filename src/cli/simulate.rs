//! PLACEHOLDER: `simulate` is filled in by its own work.

use clap::Args;

use super::Exit;

#[derive(Debug, Args)]
pub struct SimulateArgs {}

pub fn run(args: SimulateArgs) -> Exit {
    let _ = args;
    eprintln!("`simulate` is not available yet");
    Exit::Input
}
