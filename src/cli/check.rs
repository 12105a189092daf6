//! `check`. PLACEHOLDER.

use clap::Args;

use super::Exit;

#[derive(Debug, Args)]
pub struct CheckArgs {}

pub fn run(args: CheckArgs) -> Exit {
    let _ = args;
    Exit::Input
}
