//! PLACEHOLDER: `emulate` is filled in by its own work.

use clap::Args;

use super::Exit;

#[derive(Debug, Args)]
pub struct EmulateArgs {}

pub fn run(args: EmulateArgs) -> Exit {
    let _ = args;
    eprintln!("`emulate` is not available yet");
    Exit::Input
}
