//! `rules list` and `rules explain NAME`.

use clap::Subcommand;

use super::{report_input_error, Exit, RuleArgs};
use crate::finding::Finding;
use crate::rules::{Condition, Phase};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule with its severity and summary.
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Show a rule's documentation: why it matters and how to fix a failure.
    Explain {
        /// The rule's name, as `rules list` shows it.
        name: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

pub fn run(command: RulesCommand) -> Exit {
    let args = match &command {
        RulesCommand::List { rules } | RulesCommand::Explain { rules, .. } => rules,
    };
    let set = match super::check::load_rules(args) {
        Ok(set) => set,
        Err(finding) => return report_input_error(finding),
    };

    match command {
        RulesCommand::List { .. } => {
            let width = set.rules.iter().map(|rule| rule.name.len()).max().unwrap_or(0);
            for rule in &set.rules {
                let phase = if rule.phase == Phase::Post { " (after the split)" } else { "" };
                println!("{:<width$}  {:<7}  {}{phase}", rule.name, rule.severity.to_string(), rule.summary);
            }
            Exit::Pass
        }
        RulesCommand::Explain { name, .. } => {
            let Some(rule) = set.get(&name) else {
                let names: Vec<&str> = set.rules.iter().map(|rule| rule.name.as_str()).collect();
                return report_input_error(
                    Finding::error("input::usage", format!("unknown rule `{name}`"))
                        .with_help(format!("known rules: {}", names.join(", "))),
                );
            };
            println!("{} ({}, {})", rule.name, rule.severity, rule.origin);
            println!();
            println!("{}", rule.summary);
            println!();
            println!("{}", rule.docs);
            println!();
            match &rule.condition {
                Condition::Cel { text, .. } => println!("condition: {}", text.trim()),
                Condition::Builtin(_) => println!("condition: built-in check"),
            }
            if let Some(help) = &rule.help {
                println!("help: {help}");
            }
            Exit::Pass
        }
    }
}
