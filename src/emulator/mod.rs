//! A local emulator of the Rekognition Custom Labels dataset API, served over
//! real HTTP on 127.0.0.1 so that the AWS SDK talks to it as to the service.
//!
//! It serves CreateProject, DescribeProjects, CreateDataset, DescribeDataset,
//! ListDatasetEntries, ListDatasetLabels, UpdateDatasetEntries,
//! DistributeDatasetEntries, ListTagsForResource and TagResource, seeded from
//! a [`World`] file. Dataset statistics and labels are computed from the
//! entries. A seeded dataset without entries gets placeholder entries that
//! reproduce its seeded statistics (see [`entries::synthesize`]).
//!
//! It also serves, from the world's `caller` and `iam` sections, the STS
//! and IAM reads that online fact gathering makes (see [`QUERY_ACTIONS`]), so
//! that `--endpoint-url` can point every client at it.
//!
//! ```no_run
//! # async fn demo(text: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use rekognition_preflight::emulator::{self, EmulatorOptions, World};
//! let world = World::from_json(text, "world.json")?;
//! let handle = emulator::start(world, EmulatorOptions::default()).await?;
//! println!("{}", handle.endpoint());
//! handle.shutdown();
//! # Ok(()) }
//! ```

mod arns;
pub mod entries;
mod faults;
mod identity;
mod operations;
mod query;
mod server;
mod state;
mod world;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use faults::{Fault, FaultRule, Faults, Times};
pub use identity::QUERY_ACTIONS;
pub use operations::{DISTRIBUTE_BUSY_ERROR, OPERATIONS};
pub use state::{CREATE_SUCCEEDED_MESSAGE, DISTRIBUTION_FAILED_MESSAGE, UPDATE_SUCCEEDED_MESSAGE};
pub use world::{DatasetSeed, Project, World};

use entries::Entry;
use faults::FaultPlan;
use identity::Identity;
use server::Shared;
use state::{State, UpdatePolicy};

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seeds the choice of entries that DistributeDatasetEntries moves.
    pub seed: u64,
    /// How long a dataset stays `*_IN_PROGRESS` after a create, update or
    /// distribution.
    pub update_delay: Duration,
    pub faults: Faults,
    /// Appends every call as one JSON line to this file.
    pub call_log: Option<PathBuf>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions { port: 0, seed: 0, update_delay: Duration::from_secs(2), faults: Faults::default(), call_log: None }
    }
}

/// One request the emulator received, in the order received.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Call {
    /// The operation from `X-Amz-Target`, or the raw header for an unknown
    /// one. For an STS or IAM call, its `Action` parameter.
    pub operation: String,
    /// The JSON request body, null when it was not valid JSON. For an STS or
    /// IAM call, the form parameters other than `Action`.
    pub request: serde_json::Value,
    /// The HTTP status of the response.
    pub status: u16,
    /// The `__type` of an error response.
    pub error_type: Option<String>,
    /// Seconds since the Unix epoch when the response was sent.
    pub timestamp: f64,
    pub request_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("could not open the call log {path}: {source}")]
    CallLog { path: PathBuf, source: std::io::Error },
    #[error("could not start the emulator's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the emulator thread stopped before it was listening")]
    ThreadStopped,
    #[error("the emulator has no dataset {0}")]
    UnknownDataset(String),
}

/// A running emulator. Dropping it stops the server.
pub struct EmulatorHandle {
    endpoint: String,
    port: u16,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

/// Binds 127.0.0.1 and serves on the current tokio runtime until
/// [`EmulatorHandle::shutdown`] or until the handle is dropped.
pub async fn start(world: World, options: EmulatorOptions) -> Result<EmulatorHandle, EmulatorError> {
    let (handle, serving) = bind(world, options).await?;
    tokio::spawn(serving);
    Ok(handle)
}

async fn bind(world: World, options: EmulatorOptions) -> Result<(EmulatorHandle, impl Future<Output = ()>), EmulatorError> {
    let listener = TcpListener::bind(("127.0.0.1", options.port)).await.map_err(|source| EmulatorError::Bind { port: options.port, source })?;
    let port = listener.local_addr().map_err(|source| EmulatorError::Bind { port: options.port, source })?.port();

    let call_log = match &options.call_log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| EmulatorError::CallLog { path: path.clone(), source })?,
        ),
        None => None,
    };
    let policy = UpdatePolicy {
        seed: options.seed,
        delay: options.update_delay,
        fail_distribution: options.faults.fail_distribution,
        never_complete: options.faults.never_complete,
    };
    let identity = Identity { caller: world.caller.clone(), iam: world.iam.clone(), account: world.account.clone() };
    let shared = Arc::new(Shared::new(State::new(world, policy), identity, FaultPlan::new(&options.faults), options.faults.latency, call_log));

    let (shutdown, stop) = watch::channel(false);
    let serving = server::serve(listener, Arc::clone(&shared), stop);
    tracing::info!(port, "emulator listening on 127.0.0.1");
    Ok((EmulatorHandle { endpoint: format!("http://127.0.0.1:{port}"), port, shared, shutdown }, serving))
}

impl EmulatorHandle {
    /// Returns the endpoint URL for SDK clients, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Stops accepting connections and closes open ones.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Appends manifest lines to a dataset at once, without a status change,
    /// as another client would have done between two calls.
    pub fn add_entries(&self, dataset_arn: &str, lines: &[&str]) -> Result<(), EmulatorError> {
        let mut state = self.shared.state();
        state.advance(Instant::now());
        let dataset = state.datasets.get_mut(dataset_arn).ok_or_else(|| EmulatorError::UnknownDataset(dataset_arn.into()))?;
        dataset.entries.extend(lines.iter().map(|line| Entry::parse(*line)));
        Ok(())
    }

    /// Deletes a dataset at once, as another client would have done.
    pub fn delete_dataset(&self, dataset_arn: &str) -> Result<(), EmulatorError> {
        let mut state = self.shared.state();
        if state.delete_dataset(dataset_arn) { Ok(()) } else { Err(EmulatorError::UnknownDataset(dataset_arn.into())) }
    }

    /// Returns the manifest lines of a dataset as ListDatasetEntries would list them now.
    pub fn dataset_entries(&self, dataset_arn: &str) -> Result<Vec<String>, EmulatorError> {
        let mut state = self.shared.state();
        state.advance(Instant::now());
        let dataset = state.datasets.get(dataset_arn).ok_or_else(|| EmulatorError::UnknownDataset(dataset_arn.into()))?;
        Ok(dataset.entries.iter().map(|entry| entry.line.clone()).collect())
    }

    /// Returns the `Status` that DescribeDataset would return now.
    pub fn dataset_status(&self, dataset_arn: &str) -> Result<String, EmulatorError> {
        let mut state = self.shared.state();
        state.advance(Instant::now());
        let dataset = state.datasets.get(dataset_arn).ok_or_else(|| EmulatorError::UnknownDataset(dataset_arn.into()))?;
        Ok(dataset.status.clone())
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// An emulator on its own thread and single-threaded runtime, for callers
/// without a tokio runtime such as `check --emulator`. It derefs to its
/// [`EmulatorHandle`]; dropping it stops the server and joins the thread.
pub struct BackgroundEmulator {
    handle: Option<EmulatorHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the emulator on a new thread and returns once it is listening.
pub fn start_background(world: World, options: EmulatorOptions) -> Result<BackgroundEmulator, EmulatorError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(EmulatorError::Runtime)?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("rekognition-emulator".into())
        .spawn(move || {
            runtime.block_on(async move {
                match bind(world, options).await {
                    Ok((handle, serving)) => {
                        if sender.send(Ok(handle)).is_ok() {
                            serving.await;
                        }
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error));
                    }
                }
            });
        })
        .map_err(EmulatorError::Runtime)?;

    let handle = receiver.recv().map_err(|_| EmulatorError::ThreadStopped)??;
    Ok(BackgroundEmulator { handle: Some(handle), thread: Some(thread) })
}

impl std::ops::Deref for BackgroundEmulator {
    type Target = EmulatorHandle;

    fn deref(&self) -> &EmulatorHandle {
        // The handle is only taken out in `drop`.
        self.handle.as_ref().unwrap_or_else(|| unreachable!("the handle is present until drop"))
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
