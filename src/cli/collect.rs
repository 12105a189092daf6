//! `collect`: write the live facts for one train/test pair as a snapshot
//! file, so that a reviewer can run `check --snapshot` on them offline.

use std::path::PathBuf;

use clap::Args;

use super::{AwsArgs, Exit};

#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// ARN of the training dataset.
    #[arg(long, value_name = "ARN")]
    pub train: String,
    /// ARN of the test dataset.
    #[arg(long, value_name = "ARN")]
    pub test: String,
    /// The principal whose policies are collected (default: the caller).
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
    /// The snapshot file to write; it is replaced only when collecting succeeded.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// A service control policy file to include (repeatable, root first).
    #[arg(long = "scp", value_name = "FILE")]
    pub scp: Vec<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[cfg(feature = "aws")]
pub fn run(args: CollectArgs) -> Exit {
    use super::check::online::{report_aws_error, report_gather_error, runtime, print_denials};
    use super::report_input_error;
    use crate::facts::aws::{self as aws_facts, session, IdentitySource};
    use crate::facts::snapshot::CheckTarget;
    use crate::finding::Finding;

    let scps = match args.scp.iter().map(|path| aws_facts::read_scp_file(path)).collect::<Result<Vec<_>, Finding>>() {
        Ok(scps) => scps,
        Err(finding) => return report_input_error(finding),
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(error) => return report_aws_error(&error),
    };
    let target = CheckTarget { train: args.train.clone(), test: args.test.clone(), principal: args.principal.clone(), context: Vec::new() };
    let gathered = runtime.block_on(async {
        let session = session::live(&args.aws).await;
        aws_facts::gather(&session, &target, &IdentitySource::Live, &scps).await
    });
    let gathered = match gathered {
        Ok(gathered) => gathered,
        Err(error) => return report_gather_error(error),
    };
    print_denials(&gathered.denials);

    if let Err(error) = aws_facts::write_snapshot(&args.output, &gathered.snapshot) {
        crate::status_line!("error: cannot write the snapshot {}: {error}", args.output.display());
        crate::status_line!("  help: check that the folder exists and is writable");
        return Exit::Input;
    }
    crate::status_line!(
        "wrote {}; check it offline with `rekognition-preflight check --snapshot {} --train {} --test {}`",
        args.output.display(),
        args.output.display(),
        args.train,
        args.test
    );
    Exit::Pass
}

#[cfg(not(feature = "aws"))]
pub fn run(args: CollectArgs) -> Exit {
    let _ = args;
    crate::status_line!("error: `collect` needs the AWS SDK, and this build was made without the `aws` feature");
    Exit::Input
}
