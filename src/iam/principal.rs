//! Principals: the parts of a request's principal ARN, and the matching of
//! `Principal` and `NotPrincipal` entries in resource-based policies.

use super::policy::{Effect, PrincipalEntry, Principals};

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

/// The coverage of a request's principal by a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalMatch {
    No,
    /// The element names the principal, its role, or everyone.
    Direct,
    /// The element names only the principal's account. That delegates to
    /// the account, whose identity-based policies must then allow too.
    Account,
}

/// Decides how a `Principal` or `NotPrincipal` element of a statement with
/// `effect` covers `principal`.
///
/// NOTE: AWS may check a request against the principal's account, then its role,
/// then the role session, so a `NotPrincipal` entry excludes a principal
/// reliably only when the whole chain is listed. Deny statements therefore
/// apply unless every link is listed, and Allow statements apply only when
/// no link is listed: in doubt, the request is denied.
pub fn principal_match(principals: &Principals, principal: &PrincipalInfo<'_>, effect: Effect) -> PrincipalMatch {
    if !principals.negated {
        if principals.entries.iter().any(|entry| entry_matches(entry, principal) && !names_account(entry)) {
            return PrincipalMatch::Direct;
        }
        if principals.entries.iter().any(|entry| entry_matches(entry, principal)) {
            return PrincipalMatch::Account;
        }
        return PrincipalMatch::No;
    }
    let chain = chain(principal);
    let listed = |link: &Link<'_>| principals.entries.iter().any(|entry| entry_lists(entry, link));
    let applies = match effect {
        Effect::Deny => !chain.iter().all(listed),
        Effect::Allow => !chain.iter().any(listed),
    };
    if applies { PrincipalMatch::Direct } else { PrincipalMatch::No }
}

/// Tells whether an entry names a whole account (`111122223333` or its root ARN).
fn names_account(entry: &PrincipalEntry) -> bool {
    match entry {
        PrincipalEntry::Aws(text) => is_account_id(text) || PrincipalInfo::parse(text).kind == PrincipalKind::Root,
        _ => false,
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

/// One identity AWS may check a request against.
enum Link<'a> {
    Exact(&'a str),
    Role { account: &'a str, name: &'a str },
    Account(&'a str),
}

/// Lists the identities behind a principal: a role session, its role and
/// its account; a user and its account; or just the principal itself.
fn chain<'a>(principal: &PrincipalInfo<'a>) -> Vec<Link<'a>> {
    let mut links = Vec::with_capacity(3);
    if principal.kind != PrincipalKind::Root {
        links.push(Link::Exact(principal.text));
    }
    if let (Some(account), PrincipalKind::AssumedRole { role }) = (principal.account, &principal.kind) {
        links.push(Link::Role { account, name: role });
    }
    if let Some(account) = principal.account.filter(|_| principal.kind != PrincipalKind::Service) {
        links.push(Link::Account(account));
    }
    links
}

fn entry_lists(entry: &PrincipalEntry, link: &Link<'_>) -> bool {
    let text = match entry {
        PrincipalEntry::Anyone => return true,
        PrincipalEntry::Aws(text) | PrincipalEntry::Service(text) | PrincipalEntry::Federated(text) | PrincipalEntry::CanonicalUser(text) => text,
    };
    match link {
        Link::Exact(exact) => text == exact,
        Link::Role { account, name } => {
            let named = PrincipalInfo::parse(text);
            matches!(named.kind, PrincipalKind::Role { name: listed } if listed == *name) && named.account == Some(*account)
        }
        Link::Account(account) => {
            text == account || matches!(PrincipalInfo::parse(text), PrincipalInfo { kind: PrincipalKind::Root, account: Some(listed), .. } if listed == *account)
        }
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principals_apply(principals: &Principals, principal: &PrincipalInfo<'_>, effect: Effect) -> bool {
        principal_match(principals, principal, effect) != PrincipalMatch::No
    }

    fn principals(negated: bool, entries: &[&str]) -> Principals {
        Principals {
            negated,
            entries: entries
                .iter()
                .map(|entry| if *entry == "*" { PrincipalEntry::Anyone } else { PrincipalEntry::Aws(entry.to_string()) })
                .collect(),
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
        assert!(principals_apply(&principals(false, &["arn:aws:iam::111122223333:role/team/ml-pipeline"]), &session, Effect::Allow));
        assert!(!principals_apply(&principals(false, &["arn:aws:iam::444455556666:role/ml-pipeline"]), &session, Effect::Allow));
        assert!(principals_apply(&principals(false, &["111122223333"]), &session, Effect::Allow));
        assert!(principals_apply(&principals(false, &["arn:aws:iam::111122223333:root"]), &session, Effect::Allow));
    }

    #[test]
    fn account_entries_only_delegate() {
        let user = PrincipalInfo::parse("arn:aws:iam::111122223333:user/dana");
        assert_eq!(principal_match(&principals(false, &["111122223333"]), &user, Effect::Allow), PrincipalMatch::Account);
        assert_eq!(principal_match(&principals(false, &["arn:aws:iam::111122223333:root"]), &user, Effect::Allow), PrincipalMatch::Account);
        assert_eq!(
            principal_match(&principals(false, &["111122223333", "arn:aws:iam::111122223333:user/dana"]), &user, Effect::Allow),
            PrincipalMatch::Direct
        );
        assert_eq!(principal_match(&principals(false, &["*"]), &user, Effect::Allow), PrincipalMatch::Direct);
    }

    #[test]
    fn not_principal_deny_needs_whole_chain() {
        let session = PrincipalInfo::parse("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run");
        let session_arn = "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run";
        let role_arn = "arn:aws:iam::111122223333:role/team/ml-pipeline";
        let root_arn = "arn:aws:iam::111122223333:root";

        assert!(principals_apply(&principals(true, &[role_arn]), &session, Effect::Deny));
        assert!(principals_apply(&principals(true, &[session_arn, root_arn]), &session, Effect::Deny));
        assert!(!principals_apply(&principals(true, &[session_arn, role_arn, root_arn]), &session, Effect::Deny));
        assert!(!principals_apply(&principals(true, &[session_arn, role_arn, "111122223333"]), &session, Effect::Deny));
    }

    #[test]
    fn not_principal_allow_excludes_any_link() {
        let user = PrincipalInfo::parse("arn:aws:iam::111122223333:user/dana");
        assert!(!principals_apply(&principals(true, &["111122223333"]), &user, Effect::Allow));
        assert!(!principals_apply(&principals(true, &["arn:aws:iam::111122223333:user/dana"]), &user, Effect::Allow));
        assert!(principals_apply(&principals(true, &["arn:aws:iam::444455556666:root"]), &user, Effect::Allow));
    }

    #[test]
    fn not_principal_root_needs_account() {
        let root = PrincipalInfo::parse("arn:aws:iam::111122223333:root");
        assert!(!principals_apply(&principals(true, &["arn:aws:iam::111122223333:root"]), &root, Effect::Deny));
        assert!(principals_apply(&principals(true, &["arn:aws:iam::111122223333:user/dana"]), &root, Effect::Deny));
    }
}
