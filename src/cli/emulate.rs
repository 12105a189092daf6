//! `emulate`: serve the Rekognition Custom Labels emulator, with the STS and
//! IAM reads of its world file, on 127.0.0.1
//! until Ctrl-C or SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Exit, report_input_error};
use crate::emulator::{self, EmulatorOptions, FaultRule, Faults, World};
use crate::finding::Finding;
use crate::source::SourceText;

#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// World file to seed the emulator with (the snapshot format).
    #[arg(long, value_name = "FILE")]
    pub world: PathBuf,
    /// TCP port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed for the choice of entries that DistributeDatasetEntries moves.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds a dataset stays *_IN_PROGRESS after a create, update or split.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub update_delay: f64,
    /// Respond to the first N calls with ThrottlingException.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub throttle_first: u32,
    /// Respond to the N calls after the throttled ones with InternalServerError (HTTP 500).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u32,
    /// Milliseconds to wait before every response.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Inject a fault into one operation: OPERATION:throttle|500[:COUNT|always], e.g.
    /// DistributeDatasetEntries:500:always (repeatable; checked before the counters above).
    #[arg(long = "fault", value_name = "RULE")]
    pub faults: Vec<String>,
    /// End every DistributeDatasetEntries with both datasets UPDATE_FAILED.
    #[arg(long)]
    pub fail_distribution: bool,
    /// Keep datasets *_IN_PROGRESS for good after a create, update or split.
    #[arg(long)]
    pub never_complete: bool,
    /// Append every call received as one JSON line to this file.
    #[arg(long, value_name = "FILE")]
    pub call_log: Option<PathBuf>,
}

pub fn run(args: EmulateArgs) -> Exit {
    let name = args.world.display().to_string();
    let text = match std::fs::read_to_string(&args.world) {
        Ok(text) => text,
        Err(error) => {
            let finding = Finding::error("input::world", format!("could not read the world file {name}: {error}"))
                .with_help("pass an existing JSON file with --world");
            return report_input_error(finding);
        }
    };
    let world = match World::from_json(&text, &name) {
        Ok(world) => world,
        Err(finding) => return report_input_error(finding),
    };
    let Some(update_delay) = Duration::try_from_secs_f64(args.update_delay).ok() else {
        let finding = Finding::error("input::usage", format!("--update-delay must be a non-negative number of seconds, found {}", args.update_delay))
            .with_help("pass e.g. --update-delay 0.5");
        return report_input_error(finding);
    };

    let mut rules = Vec::new();
    for text in &args.faults {
        match FaultRule::parse(text) {
            Ok(rule) => rules.push(rule),
            Err(message) => {
                let source = SourceText::new("--fault", text.clone());
                let finding = Finding::error("input::usage", format!("invalid --fault rule: {message}"))
                    .with_label_in(&source, 0..text.len(), "this rule")
                    .with_help("write OPERATION:throttle|500[:COUNT|always], e.g. DescribeDataset:throttle:2");
                return report_input_error(finding);
            }
        }
    }

    let options = EmulatorOptions {
        port: args.port,
        seed: args.seed,
        update_delay,
        faults: Faults {
            throttle_first: args.throttle_first,
            error_500_first: args.fail_first,
            latency: Duration::from_millis(args.latency_ms),
            fail_distribution: args.fail_distribution,
            never_complete: args.never_complete,
            rules,
        },
        call_log: args.call_log,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            crate::status_line!("error: could not start the async runtime: {error}");
            return Exit::Runtime;
        }
    };
    runtime.block_on(serve(world, options))
}

async fn serve(world: World, options: EmulatorOptions) -> Exit {
    let handle = match emulator::start(world, options).await {
        Ok(handle) => handle,
        Err(error) => {
            crate::status_line!("error: {error}");
            return Exit::Runtime;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(stdout, "listening on {}", handle.endpoint()).and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(error) = printed {
        crate::status_line!("error: could not write the endpoint to stdout: {error}");
        return Exit::Runtime;
    }

    wait_for_stop_signal().await;
    tracing::info!("stopping the emulator");
    handle.shutdown();
    Exit::Pass
}

/// Waits for Ctrl-C, or for SIGTERM on Unix.
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
