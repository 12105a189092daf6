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

    let written = match command {
        RulesCommand::List { .. } => {
            let width = set.rules.iter().map(|rule| rule.name.len()).max().unwrap_or(0);
            let mut text = String::new();
            for rule in &set.rules {
                let phase = if rule.phase == Phase::Post { " (after the split)" } else { "" };
                text.push_str(&format!("{:<width$}  {:<7}  {}{phase}\n", rule.name, rule.severity.to_string(), rule.summary));
            }
            super::write_stdout(|out| out.write_all(text.as_bytes()))
        }
        RulesCommand::Explain { name, .. } => {
            let Some(rule) = set.get(&name) else {
                let names: Vec<&str> = set.rules.iter().map(|rule| rule.name.as_str()).collect();
                return report_input_error(
                    Finding::error("input::usage", format!("unknown rule `{name}`"))
                        .with_help(format!("known rules: {}", names.join(", "))),
                );
            };
            let condition = match &rule.condition {
                Condition::Cel { text, .. } => text.trim().to_string(),
                Condition::Builtin(_) => "built-in check".to_string(),
            };
            let mut text = format!("{} ({}, {})\n\n{}\n\n{}\n\ncondition: {condition}\n", rule.name, rule.severity, rule.origin, rule.summary, rule.docs);
            if let Some(help) = &rule.help {
                text.push_str(&format!("help: {help}\n"));
            }
            super::write_stdout(|out| out.write_all(text.as_bytes()))
        }
    };
    match written {
        Ok(()) => Exit::Pass,
        Err(exit) => exit,
    }
}
