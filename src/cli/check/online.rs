//! The live and `--emulator` fact sources of `check` and `run`.

use std::time::Duration;

use super::{print_report, target, CheckArgs, Permissions};
use crate::cli::Format;
use crate::cli::{report_input_error, Exit};
use crate::emulator::{self, BackgroundEmulator, EmulatorOptions, World};
use crate::facts::aws::error::AwsError;
use crate::facts::aws::session::{self, Session};
use crate::facts::aws::{self as aws_facts, GatherError, Gathered, IdentitySource, ScpFile};
use crate::facts::snapshot::{decode_utf8, read_file, Snapshot};
use crate::finding::Finding;
use crate::report::Report;
use crate::rules::{self, Phase, RuleSet, Verdict};

/// How long the bundled emulator keeps a dataset `*_IN_PROGRESS`, long
/// enough that `run --emulator` shows its progress display.
pub const EMULATOR_UPDATE_DELAY: Duration = Duration::from_secs(3);

/// A session and where its identity facts come from. With `--emulator` it
/// owns the emulator, which stops when this is dropped.
pub struct Online {
    pub session: Session,
    pub identity: IdentitySource,
    pub scps: Vec<ScpFile>,
    pub emulator: Option<BackgroundEmulator>,
}

/// Builds a current-thread tokio runtime for the online commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, AwsError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| AwsError {
        message: format!("cannot start the async runtime: {error}"),
        help: "check the process limits (threads, file descriptors)".into(),
    })
}

/// Reads the `--scp` files, starts the emulator for `--emulator`, and
/// builds the session.
pub async fn connect(args: &CheckArgs) -> Result<Online, GatherError> {
    let scps = args.scp.iter().map(|path| aws_facts::read_scp_file(path)).collect::<Result<Vec<_>, Finding>>()?;
    let Some(path) = &args.emulator else {
        return Ok(Online { session: session::live(&args.aws).await, identity: IdentitySource::Live, scps, emulator: None });
    };

    let name = path.display().to_string();
    let text = decode_utf8(&name, read_file(path, "emulator world file")?)?;
    let world = World::from_json(&text, &name)?;
    let snapshot = Snapshot::parse(&name, text)?;
    let region = world.region.clone();
    let options = EmulatorOptions { update_delay: EMULATOR_UPDATE_DELAY, ..EmulatorOptions::default() };
    let emulator = emulator::start_background(world, options).map_err(|error| AwsError {
        message: format!("cannot start the emulator: {error}"),
        help: "check that 127.0.0.1 accepts listening sockets".into(),
    })?;
    let session = session::emulator(&emulator.endpoint(), &region).await;
    Ok(Online { session, identity: IdentitySource::World(snapshot), scps, emulator: Some(emulator) })
}

/// `check` without `--snapshot`.
pub fn check(args: &CheckArgs, rules: &RuleSet) -> Exit {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return report_aws_error(&error),
    };
    runtime.block_on(async {
        let online = match connect(args).await {
            Ok(online) => online,
            Err(error) => return report_gather_error_as(error, args.format),
        };
        let (gathered, verdict) = match check_with(args, rules, &online).await {
            Ok(checked) => checked,
            Err(error) => return report_gather_error_as(error, args.format),
        };
        let _ = gathered;
        let report = Report { train: &args.train, test: &args.test, verdict: &verdict, post: None, run: None };
        if let Err(exit) = print_report(&report, "check", args.format) {
            return exit;
        }
        super::exit_for(&verdict)
    })
}

/// Gathers the facts over `online` and evaluates the pre-split rules.
pub async fn check_with(args: &CheckArgs, rules: &RuleSet, online: &Online) -> Result<(Gathered, Verdict), GatherError> {
    let target = target(args)?;
    let gathered = aws_facts::gather(&online.session, &target, &online.identity, &online.scps).await?;
    print_denials(&gathered.denials);
    let mut verdict = rules::evaluate(rules, &gathered.facts, Phase::Pre, None);
    if args.permissions != Permissions::Local {
        super::permissions::apply(args.permissions, &online.session, &gathered.facts, &mut verdict).await?;
    }
    Ok((gathered, verdict))
}

/// Warns about each call that was denied, so an undecided rule can be
/// traced to the permission the tool lacked.
pub fn print_denials(denials: &[String]) {
    for denial in denials {
        crate::status_line!("warning: {denial}");
    }
}

/// Prints an AWS or runtime error as one line plus help; exit 3.
pub fn report_aws_error(error: &AwsError) -> Exit {
    crate::status_line!("error: {}", error.message);
    crate::status_line!("  help: {}", error.help);
    Exit::Runtime
}

pub fn report_gather_error(error: GatherError) -> Exit {
    match error {
        GatherError::Aws(error) => report_aws_error(&error),
        GatherError::Input(finding) => report_input_error(finding),
    }
}

/// Reports a gathering error on stderr and, for the machine formats, on
/// stdout too, as `check` does for an unreadable snapshot.
pub fn report_gather_error_as(error: GatherError, format: Format) -> Exit {
    let finding = match &error {
        GatherError::Aws(error) => error.to_finding(),
        GatherError::Input(finding) => finding.clone(),
    };
    let written = match format {
        Format::Human => Ok(()),
        Format::Json => crate::cli::write_stdout(|out| crate::report::json::write_error(&finding, out)),
        Format::Github => crate::cli::write_stdout(|out| crate::report::github::write_error(&finding, out)),
    };
    let exit = report_gather_error(error);
    written.err().unwrap_or(exit)
}
