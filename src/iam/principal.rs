//! Principals: the parts of a request's principal ARN, and the matching of
//! `Principal` and `NotPrincipal` entries in resource-based policies.

use super::policy::{PrincipalEntry, Principals};

/// The parts of a request principal that policies match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo<'a> {
    pub text: &'a str,
    pub account: Option<&'a str>,
    pub kind: PrincipalKind<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind<'a> {
    Root,
    User,
    /// An IAM role ARN; `name` is the last path element.
    Role { name: &'a str },
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    AssumedRole { role: &'a str },
    /// A service principal such as `rekognition.amazonaws.com`.
    Service,
    Other,
}

impl<'a> PrincipalInfo<'a> {
    pub fn parse(text: &'a str) -> PrincipalInfo<'a> {
        let Some(rest) = text.strip_prefix("arn:") else {
            let kind = if text.contains('.') { PrincipalKind::Service } else { PrincipalKind::Other };
            return PrincipalInfo { text, account: None, kind };
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [_partition, service, _region, account, resource] = parts[..] else {
            return PrincipalInfo { text, account: None, kind: PrincipalKind::Other };
        };
        let account = (!account.is_empty()).then_some(account);
        let kind = match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => PrincipalKind::Root,
            ("iam", Some(("user", _))) => PrincipalKind::User,
            ("iam", Some(("role", path))) => PrincipalKind::Role { name: path.rsplit('/').next().unwrap_or(path) },
            ("sts", Some(("assumed-role", session))) => match session.split_once('/') {
                Some((role, _)) => PrincipalKind::AssumedRole { role },
                None => PrincipalKind::Other,
            },
            _ => PrincipalKind::Other,
        };
        PrincipalInfo { text, account, kind }
    }

    fn role_name(&self) -> Option<&'a str> {
        match self.kind {
            PrincipalKind::Role { name } => Some(name),
            PrincipalKind::AssumedRole { role } => Some(role),
            _ => None,
        }
    }
}

/// Tells whether a `Principal` or `NotPrincipal` element applies to `principal`.
///
/// NOTE: `NotPrincipal` entries exclude only the exact principal they name
/// (and an account id only the account's root user), because IAM documents
/// that a role ARN in `NotPrincipal` does not exclude the role's sessions.
pub fn principals_apply(principals: &Principals, principal: &PrincipalInfo<'_>) -> bool {
    if principals.negated {
        !principals.entries.iter().any(|entry| entry_matches_exactly(entry, principal))
    } else {
        principals.entries.iter().any(|entry| entry_matches(entry, principal))
    }
}

/// `Principal` semantics: an account covers all its principals and a role
/// covers its sessions, whatever the role's path.
fn entry_matches(entry: &PrincipalEntry, principal: &PrincipalInfo<'_>) -> bool {
    match entry {
        PrincipalEntry::Anyone => true,
        PrincipalEntry::Aws(text) => {
            if is_account_id(text) {
                return principal.kind != PrincipalKind::Service && principal.account == Some(text.as_str());
            }
            let named = PrincipalInfo::parse(text);
            match named.kind {
                PrincipalKind::Root => principal.kind != PrincipalKind::Service && named.account.is_some() && named.account == principal.account,
                PrincipalKind::Role { name } => named.account.is_some() && named.account == principal.account && principal.role_name() == Some(name),
                _ => text == principal.text,
            }
        }
        PrincipalEntry::Service(text) => principal.kind == PrincipalKind::Service && text == principal.text,
        PrincipalEntry::Federated(text) | PrincipalEntry::CanonicalUser(text) => text == principal.text,
    }
}

fn entry_matches_exactly(entry: &PrincipalEntry, principal: &PrincipalInfo<'_>) -> bool {
    match entry {
        PrincipalEntry::Anyone => true,
        PrincipalEntry::Aws(text) if is_account_id(text) => principal.kind == PrincipalKind::Root && principal.account == Some(text.as_str()),
        PrincipalEntry::Aws(text) | PrincipalEntry::Service(text) | PrincipalEntry::Federated(text) | PrincipalEntry::CanonicalUser(text) => {
            text == principal.text
        }
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principals(negated: bool, entries: &[&str]) -> Principals {
        Principals {
            negated,
            entries: entries.iter().map(|entry| PrincipalEntry::Aws(entry.to_string())).collect(),
            span: 0..0,
            key_span: 0..0,
        }
    }

    #[test]
    fn parse_principal_kinds() {
        let session = PrincipalInfo::parse("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run");
        assert_eq!(session.account, Some("111122223333"));
        assert_eq!(session.kind, PrincipalKind::AssumedRole { role: "ml-pipeline" });
        assert_eq!(PrincipalInfo::parse("arn:aws:iam::111122223333:role/team/ml-pipeline").kind, PrincipalKind::Role { name: "ml-pipeline" });
        assert_eq!(PrincipalInfo::parse("arn:aws:iam::111122223333:root").kind, PrincipalKind::Root);
        assert_eq!(PrincipalInfo::parse("rekognition.amazonaws.com").kind, PrincipalKind::Service);
    }

    #[test]
    fn role_covers_sessions_any_path() {
        let session = PrincipalInfo::parse("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run");
        assert!(principals_apply(&principals(false, &["arn:aws:iam::111122223333:role/team/ml-pipeline"]), &session));
        assert!(!principals_apply(&principals(false, &["arn:aws:iam::444455556666:role/ml-pipeline"]), &session));
        assert!(principals_apply(&principals(false, &["111122223333"]), &session));
        assert!(principals_apply(&principals(false, &["arn:aws:iam::111122223333:root"]), &session));
    }

    #[test]
    fn not_principal_excludes_exact_only() {
        let session = PrincipalInfo::parse("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run");
        assert!(principals_apply(&principals(true, &["arn:aws:iam::111122223333:role/ml-pipeline"]), &session));
        assert!(!principals_apply(&principals(true, &["arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run"]), &session));
    }
}
