//! The emulated account: projects, datasets with their entries, tags, and the
//! time-driven status of dataset updates.
//!
//! Updates do not run on a timer. Each request first calls
//! [`State::advance`], which finishes every update whose delay has passed, so
//! a client that polls DescribeDataset gets `UPDATE_IN_PROGRESS` until the
//! delay is over and the final status after it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::arns::DatasetType;
use super::entries::{self, DatasetStats, Entry, LabelStats};
use super::world::{Project, World};

pub const UPDATE_SUCCEEDED_MESSAGE: &str = "The dataset was successfully updated.";
pub const CREATE_SUCCEEDED_MESSAGE: &str = "The dataset was successfully created.";
pub const DISTRIBUTION_FAILED_MESSAGE: &str = "The dataset split failed: the emulator was started with fail_distribution.";

#[derive(Debug, Clone)]
pub struct Dataset {
    pub arn: String,
    pub project_arn: String,
    pub dataset_type: DatasetType,
    pub creation_timestamp: f64,
    pub last_updated_timestamp: f64,
    pub status: String,
    pub status_message: String,
    pub status_message_code: String,
    pub entries: Vec<Entry>,
    pub pending: Option<PendingUpdate>,
}

/// An update that a request started and that ends at `due`.
#[derive(Debug, Clone)]
pub struct PendingUpdate {
    /// `None` never finishes.
    pub due: Option<Instant>,
    /// A create ends in `CREATE_*` statuses, anything else in `UPDATE_*`.
    pub create: bool,
    pub outcome: UpdateOutcome,
}

#[derive(Debug, Clone)]
pub enum UpdateOutcome {
    /// The dataset gets these entries and becomes `UPDATE_COMPLETE`.
    Complete(Vec<Entry>),
    /// The entries stay and the dataset becomes `UPDATE_FAILED`.
    Failed { message: String },
}

/// Settings for how updates end, from [`super::EmulatorOptions`] and [`super::Faults`].
#[derive(Debug, Clone, Copy)]
pub struct UpdatePolicy {
    pub seed: u64,
    pub delay: Duration,
    pub fail_distribution: bool,
    pub never_complete: bool,
}

#[derive(Debug)]
pub struct State {
    pub region: String,
    pub account: String,
    pub projects: Vec<Project>,
    pub datasets: BTreeMap<String, Dataset>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    pub policy: UpdatePolicy,
    last_creation_millis: u128,
}

impl Dataset {
    pub fn stats(&self) -> DatasetStats {
        entries::compute_stats(&self.entries)
    }

    pub fn labels(&self) -> Vec<LabelStats> {
        entries::compute_labels(&self.entries)
    }

    /// Tells whether a create or update is still running, seeded ones included.
    pub fn is_busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }
}

impl State {
    pub fn new(world: World, policy: UpdatePolicy) -> State {
        let projects = world.projects;

        let mut datasets = BTreeMap::new();
        for seed in world.datasets {
            let mut dataset = seed.dataset;
            dataset.entries = match seed.entries {
                Some(lines) => lines.into_iter().map(Entry::parse).collect(),
                None => entries::synthesize(seed.stats, &seed.labels, dataset.dataset_type.as_path()),
            };
            datasets.insert(dataset.arn.clone(), dataset);
        }

        State { region: world.region, account: world.account, projects, datasets, tags: world.tags, policy, last_creation_millis: 0 }
    }

    /// Finishes every pending update whose time has come.
    pub fn advance(&mut self, now: Instant) {
        for dataset in self.datasets.values_mut() {
            let due = dataset.pending.as_ref().and_then(|pending| pending.due).is_some_and(|due| due <= now);
            if !due {
                continue;
            }
            let Some(pending) = dataset.pending.take() else { continue };
            dataset.last_updated_timestamp = epoch_seconds(SystemTime::now());
            let (complete, failed, succeeded_message) = if pending.create {
                ("CREATE_COMPLETE", "CREATE_FAILED", CREATE_SUCCEEDED_MESSAGE)
            } else {
                ("UPDATE_COMPLETE", "UPDATE_FAILED", UPDATE_SUCCEEDED_MESSAGE)
            };
            match pending.outcome {
                UpdateOutcome::Complete(entries) => {
                    dataset.entries = entries;
                    dataset.status = complete.into();
                    dataset.status_message = succeeded_message.into();
                    dataset.status_message_code = "SUCCESS".into();
                }
                UpdateOutcome::Failed { message } => {
                    dataset.status = failed.into();
                    dataset.status_message = message;
                    dataset.status_message_code = "CLIENT_ERROR".into();
                }
            }
        }
    }

    /// Puts a dataset into `UPDATE_IN_PROGRESS` until the configured delay
    /// has passed, or for good with `never_complete`.
    pub fn begin_update(&mut self, arn: &str, outcome: UpdateOutcome, now: Instant) {
        let due = if self.policy.never_complete { None } else { Some(now + self.policy.delay) };
        if let Some(dataset) = self.datasets.get_mut(arn) {
            dataset.status = "UPDATE_IN_PROGRESS".into();
            dataset.status_message = "The dataset is being updated.".into();
            dataset.status_message_code = "SUCCESS".into();
            dataset.last_updated_timestamp = epoch_seconds(SystemTime::now());
            dataset.pending = Some(PendingUpdate { due, create: false, outcome });
        }
    }

    /// Adds a dataset in `CREATE_IN_PROGRESS` that gets `entries` when the
    /// delay has passed.
    pub fn begin_create(&mut self, dataset: Dataset, entries: Vec<Entry>, now: Instant) {
        let due = if self.policy.never_complete { None } else { Some(now + self.policy.delay) };
        let mut dataset = dataset;
        dataset.status = "CREATE_IN_PROGRESS".into();
        dataset.status_message = "The dataset is being created.".into();
        dataset.status_message_code = "SUCCESS".into();
        dataset.pending = Some(PendingUpdate { due, create: true, outcome: UpdateOutcome::Complete(entries) });
        if let Some(project) = self.project_mut(&dataset.project_arn) {
            project.datasets.push(dataset.arn.clone());
        }
        self.datasets.insert(dataset.arn.clone(), dataset);
    }

    /// Starts the split of `train` into `train` and the empty `test`.
    /// The caller has checked both datasets.
    pub fn begin_distribution(&mut self, train: &str, test: &str, now: Instant) {
        let (train_outcome, test_outcome) = if self.policy.fail_distribution {
            let failed = || UpdateOutcome::Failed { message: DISTRIBUTION_FAILED_MESSAGE.into() };
            (failed(), failed())
        } else {
            let entries = self.datasets.get(train).map(|dataset| dataset.entries.clone()).unwrap_or_default();
            let (kept, moved) = split_entries(entries, self.policy.seed);
            (UpdateOutcome::Complete(kept), UpdateOutcome::Complete(moved))
        };
        self.begin_update(train, train_outcome, now);
        self.begin_update(test, test_outcome, now);
    }

    /// Returns a creation time in milliseconds that no earlier call returned,
    /// because dataset and project ARNs end with it.
    pub fn next_creation_millis(&mut self) -> u128 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis());
        self.last_creation_millis = now.max(self.last_creation_millis + 1);
        self.last_creation_millis
    }

    pub fn project_mut(&mut self, arn: &str) -> Option<&mut Project> {
        self.projects.iter_mut().find(|project| project.arn == arn)
    }

    /// Removes a dataset and its reference from its project.
    pub fn delete_dataset(&mut self, arn: &str) -> bool {
        let Some(dataset) = self.datasets.remove(arn) else { return false };
        if let Some(project) = self.project_mut(&dataset.project_arn) {
            project.datasets.retain(|known| known != arn);
        }
        self.tags.remove(arn);
        true
    }
}

/// Moves 20% of the entries, rounded half up (`(n + 2) / 5`, so 120 entries
/// give 24), chosen by a seeded Fisher-Yates shuffle. Both halves keep the
/// original order of the entries.
///
/// NOTE: Rekognition does not document how it rounds or picks entries; this
/// matches its "20%" for counts divisible by five.
pub fn split_entries(entries: Vec<Entry>, seed: u64) -> (Vec<Entry>, Vec<Entry>) {
    let count = entries.len();
    let moved_count = (count + 2) / 5;

    let mut order: Vec<usize> = (0..count).collect();
    let mut random = SplitMix64(seed);
    for index in (1..count).rev() {
        let pick = usize::try_from(random.next() % (index as u64 + 1)).unwrap_or(0);
        order.swap(index, pick);
    }
    let mut is_moved = vec![false; count];
    for &index in order.iter().take(moved_count) {
        if let Some(flag) = is_moved.get_mut(index) {
            *flag = true;
        }
    }

    let mut kept = Vec::new();
    let mut moved = Vec::new();
    for (entry, moved_flag) in entries.into_iter().zip(is_moved) {
        if moved_flag { moved.push(entry) } else { kept.push(entry) }
    }
    (kept, moved)
}

/// The splitmix64 generator: small, fast, and the same on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

pub fn epoch_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(count: usize) -> Vec<Entry> {
        (0..count).map(|index| Entry::parse(format!(r#"{{"source-ref":"s3://b/{index}.jpg"}}"#))).collect()
    }

    #[test]
    fn split_moves_rounded_fifth() {
        for (count, moved) in [(0, 0), (1, 0), (3, 1), (5, 1), (7, 1), (8, 2), (120, 24)] {
            let (kept, taken) = split_entries(numbered(count), 7);
            assert_eq!(taken.len(), moved, "{count} entries");
            assert_eq!(kept.len() + taken.len(), count);
        }
    }

    #[test]
    fn split_depends_only_on_seed() {
        let refs = |entries: Vec<Entry>| entries.into_iter().map(|entry| entry.line).collect::<Vec<_>>();
        let first = refs(split_entries(numbered(120), 42).1);
        assert_eq!(first, refs(split_entries(numbered(120), 42).1));
        assert_ne!(first, refs(split_entries(numbered(120), 43).1));
    }
}
