//! `run`: check, confirm, re-read both datasets, call
//! DistributeDatasetEntries, wait for both datasets to settle, and verify
//! the result with the `post` rules.
//!
//! Exit codes:
//! - 0: the split is done and verified.
//! - 1: nothing was executed, because a check blocked it, the datasets
//!   changed before the call or the prompt was declined. Also 1, with
//!   `executed` true, when a post-split check failed after UPDATE_COMPLETE.
//! - 2: input error.
//! - 3: AWS or runtime error before the split was executed.
//! - 4: the split ended in UPDATE_FAILED, or a dataset was deleted while
//!   it ran.
//! - 5: waiting timed out or was interrupted, and the split may still run.

use std::time::Duration;

use clap::Args;

use super::check::CheckArgs;
use super::Exit;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Split without asking for confirmation; required unless stdin and stderr are both a terminal.
    #[arg(long)]
    pub yes: bool,
    /// How long to wait for the split to finish, e.g. 90s, 30m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Time between two status reads while waiting, e.g. 5s; it backs off up to 30s.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
}

/// Parses a duration such as `500ms`, `90s`, `30m`, `1h`, or a plain number
/// of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|character: char| !character.is_ascii_digit() && character != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration; write e.g. 90s, 30m or 1h"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit `{unit}` in `{text}`; use ms, s, m or h")),
    };
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!("`{text}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(feature = "aws")]
pub use online::{execute, Hooks, RunOutcome};

#[cfg(feature = "aws")]
pub fn run(args: RunArgs) -> Exit {
    online::run(args)
}

#[cfg(not(feature = "aws"))]
pub fn run(args: RunArgs) -> Exit {
    let _ = args;
    crate::status_line!("error: `run` needs the AWS SDK, and this build was made without the `aws` feature");
    Exit::Input
}

#[cfg(feature = "aws")]
mod online;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_units_parse() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn duration_rejects_bad_text() {
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
