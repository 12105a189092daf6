//! `rules list` and `rules explain NAME`. PLACEHOLDER.

use clap::Subcommand;

use super::Exit;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule with its severity and summary.
    List,
    /// Show a rule's documentation.
    Explain { name: String },
}

pub fn run(command: RulesCommand) -> Exit {
    let _ = command;
    Exit::Input
}
