//! Facts from the live service, or from the emulator for Rekognition.
//!
//! The calls' results are written in the snapshot format, the same JSON that
//! `collect` saves. The snapshot loader turns them into [`Facts`], so a check
//! gives the same outcomes online and on a collected snapshot. Facts that a
//! snapshot cannot express, such as a denied call, are set afterwards.

pub mod error;
pub mod iam;
pub mod rekognition;
pub mod session;

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use self::error::AwsError;
use self::iam::IamSection;
use self::rekognition::RekognitionFacts;
use self::session::Session;
use super::principal::Unresolved;
use super::snapshot::{CheckTarget, Snapshot};
use super::{Facts, Known};
use crate::finding::Finding;
use crate::iam::PolicyLevel;
use crate::json;
use crate::source::SourceText;

/// The source of the caller and the IAM policies.
#[derive(Debug, Clone)]
pub enum IdentitySource {
    /// STS and IAM of the session.
    Live,
    /// The `caller`, `iam` and `organizations` sections of a world file, for
    /// `--emulator`, whose Rekognition calls go to the emulator.
    World(Snapshot),
    /// No identity facts, for re-reading the datasets after a split.
    None,
}

/// The reason facts could not be gathered.
#[derive(Debug)]
pub enum GatherError {
    /// The service could not be used; `run` exits 3.
    Aws(AwsError),
    /// A file or a response could not be read, as a located diagnostic.
    Input(Finding),
}

impl From<AwsError> for GatherError {
    fn from(error: AwsError) -> Self {
        GatherError::Aws(error)
    }
}

impl From<Finding> for GatherError {
    fn from(finding: Finding) -> Self {
        GatherError::Input(finding)
    }
}

/// Facts gathered from the service, and the snapshot they were built from.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub facts: Facts,
    /// The facts in the snapshot format, for `collect`.
    pub snapshot: Value,
    /// One line per call that was denied, naming the permission.
    pub denials: Vec<String>,
}

/// A `--scp FILE`: one level of service control policies.
#[derive(Debug, Clone)]
pub struct ScpFile {
    pub level: PolicyLevel,
    /// The documents as JSON, for the snapshot.
    pub documents: Vec<Value>,
}

/// Reads a `--scp` file: one policy document, or an array of documents.
pub fn read_scp_file(path: &Path) -> Result<ScpFile, Finding> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| {
        Finding::error("input::scp", format!("cannot read the SCP file {name}: {error}"))
            .with_help("pass a readable file with one policy document or an array of documents")
    })?;
    let source = SourceText::new(&name, text);
    let root = json::parse(source.text()).map_err(|error| {
        Finding::error("input::scp", format!("{name} is not valid JSON: {}", error.message))
            .with_label_in(&source, error.span.clone(), "here")
            .with_help(error.help.clone().unwrap_or_else(|| "fix the JSON syntax at the marked place".into()))
    })?;
    let nodes: Vec<&json::Node> = match root.as_array() {
        Some(items) => items.iter().collect(),
        None => vec![&root],
    };
    let mut policies = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let policy_name = format!("SCP {} of {name}", index + 1);
        policies.push(super::principal::parse_document(&policy_name, node, &source, crate::iam::PolicyType::ServiceControlPolicy)?);
    }
    let documents = match serde_json::from_str::<Value>(source.text()) {
        Ok(Value::Array(items)) => items,
        Ok(document) => vec![document],
        Err(_) => Vec::new(),
    };
    Ok(ScpFile { level: PolicyLevel { name, policies }, documents })
}

/// Gathers every fact for `target`: the identity facts and the Rekognition
/// calls run concurrently, and ListTagsForResource follows only when some
/// policy reads `aws:ResourceTag`.
pub async fn gather(session: &Session, target: &CheckTarget, identity: &IdentitySource, scps: &[ScpFile]) -> Result<Gathered, GatherError> {
    let (identity_facts, rekognition) = tokio::join!(
        identity_sections(session, target, identity),
        rekognition::gather(session, &target.train, &target.test),
    );
    let (caller, iam_section) = identity_facts?;
    let mut rekognition = rekognition?;

    let mut policy_text = String::new();
    if let Some(IamSection::Found(section)) = &iam_section {
        policy_text.push_str(&section.to_string());
    }
    if let IdentitySource::World(world) = identity {
        policy_text.push_str(world.source.text());
    }
    for scp in scps {
        policy_text.push_str(&Value::Array(scp.documents.clone()).to_string());
    }
    if policy_text.to_ascii_lowercase().contains("aws:resourcetag") {
        rekognition::gather_tags(session, &mut rekognition, &[&target.train, &target.test]).await?;
    }

    let snapshot = snapshot_value(caller, &iam_section, scps, &rekognition);
    let text = serde_json::to_string_pretty(&snapshot).unwrap_or_default();
    // The facts are the service's responses, assembled in the snapshot
    // format; this name shows in diagnostics that point into them.
    let name = if session.mode == "emulator" { "emulator responses" } else { "AWS responses" };
    let mut facts = Snapshot::parse(name, text)?.facts(target)?;

    mark_unknown(&mut facts, &rekognition);
    match (&iam_section, identity) {
        (Some(IamSection::Unresolved(message)), _) => facts.principal = Err(Unresolved::new(message.clone())),
        (_, IdentitySource::World(world)) => {
            let from_world = world.facts(target)?;
            facts.principal = from_world.principal;
            facts.service_control_policies = from_world.service_control_policies;
        }
        _ => {}
    }
    if !scps.is_empty() {
        facts.service_control_policies = scps.iter().map(|scp| scp.level.clone()).collect();
    }
    facts.client.mode = session.mode.to_string();
    facts.client.region = session.region.clone();

    Ok(Gathered { facts, snapshot, denials: rekognition.denials })
}

async fn identity_sections(session: &Session, target: &CheckTarget, identity: &IdentitySource) -> Result<(Option<Value>, Option<IamSection>), AwsError> {
    match identity {
        // A given principal does not depend on the caller, so both run at once.
        IdentitySource::Live => match &target.principal {
            Some(principal) => {
                let (caller, section) = tokio::join!(iam::caller(session), iam::principal_section(session, principal));
                Ok((Some(caller?), Some(section?)))
            }
            None => {
                let caller = iam::caller(session).await?;
                let caller_arn = caller["Arn"].as_str().unwrap_or_default().to_string();
                let section = iam::principal_section(session, &caller_arn).await?;
                Ok((Some(caller), Some(section)))
            }
        },
        IdentitySource::World(_) | IdentitySource::None => Ok((None, None)),
    }
}

fn snapshot_value(caller: Option<Value>, iam: &Option<IamSection>, scps: &[ScpFile], rekognition: &RekognitionFacts) -> Value {
    let mut root = Map::new();
    if let Some(caller) = caller {
        root.insert("caller".into(), caller);
    }
    if let Some(IamSection::Found(section)) = iam {
        root.insert("iam".into(), section.clone());
    }
    if !scps.is_empty() {
        let levels: Vec<Value> = scps.iter().map(|scp| json!({ "level": scp.level.name, "policies": scp.documents })).collect();
        root.insert("organizations".into(), json!({ "serviceControlPolicies": levels }));
    }
    root.insert("rekognition".into(), Value::Object(rekognition.section.clone()));
    Value::Object(root)
}

/// Sets the facts that denied calls left open to unknown, where the
/// snapshot loader would have read "missing" as "does not exist".
fn mark_unknown(facts: &mut Facts, rekognition: &RekognitionFacts) {
    for dataset in [&mut facts.train, &mut facts.test] {
        if rekognition.undescribed.iter().any(|arn| arn == dataset.arn_text()) {
            dataset.description = Known::Unknown;
        }
    }
    if !rekognition.projects_known {
        facts.projects = None;
        facts.train.listing = None;
        facts.test.listing = None;
    }
}

/// Writes a snapshot to `path` through a temporary file in the same folder
/// and a rename, so a failure never leaves a partial file.
pub fn write_snapshot(path: &Path, snapshot: &Value) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "snapshot.json".into());
    let temporary = folder.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let mut text = serde_json::to_string_pretty(snapshot).map_err(std::io::Error::other)?;
    text.push('\n');
    let written = std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
