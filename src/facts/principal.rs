//! The principal whose permissions are checked, resolved from the caller
//! identity and the account's IAM authorization details.

use std::collections::BTreeMap;

use super::{IdentityPolicies, Location};
use crate::finding::Finding;
use crate::iam::{self, Policy, PolicyType};
use crate::json::Node;
use crate::source::SourceText;

/// The kinds of principal that `aws:PrincipalType` distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A role session (`arn:aws:sts::…:assumed-role/NAME/SESSION`).
    AssumedRole,
    User,
    /// The account root user.
    Account,
}

impl PrincipalKind {
    /// Returns the value of `aws:PrincipalType`.
    pub fn context_value(self) -> &'static str {
        match self {
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::User => "User",
            PrincipalKind::Account => "Account",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrincipalFacts {
    /// The ARN requests are made as: the session ARN for a role.
    pub caller_arn: String,
    /// The IAM role or user ARN (`aws:PrincipalArn`).
    pub identity_arn: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// The role or user name.
    pub name: String,
    /// `aws:userid`: `ROLEID:SESSION` for a session, the user id for a user.
    pub user_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub policies: IdentityPolicies,
    /// The role or user entry in the source, for diagnostics.
    pub location: Option<Location>,
}

/// The reason the principal's policies are not known.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub message: String,
    pub location: Option<Location>,
}

impl Unresolved {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), location: None }
    }
}

/// A principal ARN split into what resolution needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalName {
    pub account: String,
    pub kind: PrincipalKind,
    /// Role or user name, without the path.
    pub name: String,
    pub session: Option<String>,
}

/// Reads `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`,
/// `arn:aws:iam::ACCOUNT:role/PATH/NAME`, `arn:aws:iam::ACCOUNT:user/PATH/NAME`
/// and `arn:aws:iam::ACCOUNT:root`. A role ARN is taken as a session of that
/// role, because only sessions make calls.
pub fn parse_principal_arn(arn: &str) -> Result<PrincipalName, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, _region, account, resource] = parts[..] else {
        return Err(format!("`{arn}` is not an ARN; expected arn:aws:iam::ACCOUNT:role/NAME or an assumed-role ARN"));
    };
    if prefix != "arn" || account.len() != 12 || !account.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("`{arn}` is not a principal ARN with a 12-digit account"));
    }
    let account = account.to_string();
    let segments: Vec<&str> = resource.split('/').collect();
    let name = |kind, name: &str, session: Option<&str>| PrincipalName {
        account: account.clone(),
        kind,
        name: name.to_string(),
        session: session.map(str::to_string),
    };
    match (service, segments.as_slice()) {
        ("sts", ["assumed-role", role, session]) => Ok(name(PrincipalKind::AssumedRole, role, Some(session))),
        ("iam", ["role", .., role]) if segments.len() >= 2 => Ok(name(PrincipalKind::AssumedRole, role, None)),
        ("iam", ["user", .., user]) if segments.len() >= 2 => Ok(name(PrincipalKind::User, user, None)),
        ("iam", ["root"]) => Ok(name(PrincipalKind::Account, "root", None)),
        _ => Err(format!(
            "`{arn}` is not a role, assumed-role, user or root ARN; other principal types are not supported"
        )),
    }
}

/// Resolves a principal against the output of
/// `aws iam get-account-authorization-details`, which `details` holds.
/// Policies embedded as JSON objects keep their spans in `source`; policies
/// given as URL-encoded strings get their own source text.
pub fn resolve(details: &Node, source: &SourceText, principal_arn: &str) -> Result<Result<PrincipalFacts, Unresolved>, Finding> {
    let principal = match parse_principal_arn(principal_arn) {
        Ok(principal) => principal,
        Err(message) => return Ok(Err(Unresolved::new(message))),
    };
    let managed = ManagedPolicies { details, source };

    match principal.kind {
        PrincipalKind::AssumedRole => resolve_role(details, source, &managed, &principal, principal_arn),
        PrincipalKind::User => resolve_user(details, source, &managed, &principal, principal_arn),
        PrincipalKind::Account => Ok(Err(Unresolved::new(
            "the account root user is not limited by IAM policies, only by service control policies; \
             run the check as a role or user",
        ))),
    }
}

fn resolve_role(
    details: &Node,
    source: &SourceText,
    managed: &ManagedPolicies<'_>,
    principal: &PrincipalName,
    principal_arn: &str,
) -> Result<Result<PrincipalFacts, Unresolved>, Finding> {
    let role = match find_entity(details, "RoleDetailList", "RoleName", "role", &principal.name) {
        Ok(role) => role,
        Err(unresolved) => return Ok(Err(unresolved)),
    };
    let identity_arn = role.get("Arn").and_then(Node::as_str).unwrap_or_default().to_string();
    if !identity_arn.is_empty() && account_of(&identity_arn) != Some(principal.account.as_str()) {
        return Ok(Err(Unresolved::new(format!(
            "role `{}` in the snapshot belongs to another account than `{principal_arn}`",
            principal.name
        ))));
    }

    let policies = match own_policies(role, "RolePolicyList", source, managed, &format!("role {}", principal.name))? {
        Ok(policies) => policies,
        Err(unresolved) => return Ok(Err(unresolved)),
    };

    let role_id = role.get("RoleId").and_then(Node::as_str);
    let user_id = match (role_id, &principal.session) {
        (Some(id), Some(session)) => Some(format!("{id}:{session}")),
        _ => None,
    };
    let caller_arn = if principal_arn.contains(":assumed-role/") { principal_arn.to_string() } else { identity_arn.clone() };
    Ok(Ok(PrincipalFacts {
        caller_arn,
        identity_arn,
        account: principal.account.clone(),
        kind: PrincipalKind::AssumedRole,
        name: principal.name.clone(),
        user_id,
        tags: read_tags(role),
        policies,
        location: Some(Location { source: source.clone(), span: role.span.clone() }),
    }))
}

fn resolve_user(
    details: &Node,
    source: &SourceText,
    managed: &ManagedPolicies<'_>,
    principal: &PrincipalName,
    principal_arn: &str,
) -> Result<Result<PrincipalFacts, Unresolved>, Finding> {
    let user = match find_entity(details, "UserDetailList", "UserName", "user", &principal.name) {
        Ok(user) => user,
        Err(unresolved) => return Ok(Err(unresolved)),
    };

    let name = &principal.name;
    let mut policies = match own_policies(user, "UserPolicyList", source, managed, &format!("user {name}"))? {
        Ok(policies) => policies,
        Err(unresolved) => return Ok(Err(unresolved)),
    };

    let groups = details.get("GroupDetailList").and_then(Node::as_array).unwrap_or_default();
    for group_name in user.get("GroupList").and_then(Node::as_array).unwrap_or_default() {
        let Some(group_name) = group_name.as_str() else { continue };
        let Some(group) = groups.iter().find(|group| group.get("GroupName").and_then(Node::as_str) == Some(group_name)) else {
            return Ok(Err(Unresolved::new(format!(
                "user `{name}` is in group `{group_name}`, which is not in the snapshot's iam.GroupDetailList"
            ))));
        };
        let owner = format!("group {group_name}");
        if let Err(unresolved) = collect_entity_policies(group, "GroupPolicyList", source, managed, &owner, &mut policies)? {
            return Ok(Err(unresolved));
        }
    }

    let identity_arn = user.get("Arn").and_then(Node::as_str).unwrap_or(principal_arn).to_string();
    Ok(Ok(PrincipalFacts {
        caller_arn: identity_arn.clone(),
        identity_arn,
        account: principal.account.clone(),
        kind: PrincipalKind::User,
        name: principal.name.clone(),
        user_id: user.get("UserId").and_then(Node::as_str).map(str::to_string),
        tags: read_tags(user),
        policies,
        location: Some(Location { source: source.clone(), span: user.span.clone() }),
    }))
}

/// Finds a role or user by name in one list of the authorization details.
fn find_entity<'d>(details: &'d Node, list: &str, name_key: &str, kind: &str, name: &str) -> Result<&'d Node, Unresolved> {
    let entities = details.get(list).and_then(Node::as_array).unwrap_or_default();
    entities.iter().find(|entity| entity.get(name_key).and_then(Node::as_str) == Some(name)).ok_or_else(|| {
        Unresolved::new(format!(
            "{kind} `{name}` is not in the snapshot's iam.{list}; collect it with `aws iam get-account-authorization-details`"
        ))
    })
}

/// Collects a role's or user's own policies: inline, attached managed, and
/// the permissions boundary.
fn own_policies(
    entity: &Node,
    inline_key: &str,
    source: &SourceText,
    managed: &ManagedPolicies<'_>,
    owner: &str,
) -> Result<Result<IdentityPolicies, Unresolved>, Finding> {
    let mut policies = IdentityPolicies::default();
    if let Err(unresolved) = collect_entity_policies(entity, inline_key, source, managed, owner, &mut policies)? {
        return Ok(Err(unresolved));
    }
    if let Err(unresolved) = collect_boundary(entity, managed, &mut policies)? {
        return Ok(Err(unresolved));
    }
    Ok(Ok(policies))
}

/// Adds an entity's inline policies (`inline_key`) and attached managed policies.
fn collect_entity_policies(
    entity: &Node,
    inline_key: &str,
    source: &SourceText,
    managed: &ManagedPolicies<'_>,
    owner: &str,
    policies: &mut IdentityPolicies,
) -> Result<Result<(), Unresolved>, Finding> {
    for inline in entity.get(inline_key).and_then(Node::as_array).unwrap_or_default() {
        let policy_name = inline.get("PolicyName").and_then(Node::as_str).unwrap_or("inline policy");
        let Some(document) = inline.get("PolicyDocument") else {
            return Err(Finding::error("input::snapshot", format!("inline policy `{policy_name}` of {owner} has no PolicyDocument"))
                .with_label_in(source, inline.span.clone(), "this policy")
                .with_help("copy the entity from `aws iam get-account-authorization-details` unchanged"));
        };
        let name = format!("{owner} inline policy {policy_name}");
        policies.identity.push(parse_document(&name, document, source, PolicyType::Identity)?);
    }
    for attached in entity.get("AttachedManagedPolicies").and_then(Node::as_array).unwrap_or_default() {
        let Some(arn) = attached.get("PolicyArn").and_then(Node::as_str) else { continue };
        match managed.default_version(arn, PolicyType::Identity)? {
            Some(policy) => policies.identity.push(policy),
            None => return Ok(Err(missing_managed_policy(arn, owner))),
        }
    }
    Ok(Ok(()))
}

fn collect_boundary(
    entity: &Node,
    managed: &ManagedPolicies<'_>,
    policies: &mut IdentityPolicies,
) -> Result<Result<(), Unresolved>, Finding> {
    let Some(arn) = entity.get("PermissionsBoundary").and_then(|boundary| boundary.get("PermissionsBoundaryArn")).and_then(Node::as_str) else {
        return Ok(Ok(()));
    };
    match managed.default_version(arn, PolicyType::PermissionsBoundary)? {
        Some(policy) => {
            policies.boundary = Some(policy);
            Ok(Ok(()))
        }
        None => Ok(Err(missing_managed_policy(arn, "the permissions boundary"))),
    }
}

fn missing_managed_policy(arn: &str, owner: &str) -> Unresolved {
    Unresolved::new(format!(
        "managed policy `{arn}` of {owner} is not in the snapshot's iam.Policies; collect it with \
         `aws iam get-account-authorization-details` without a --filter, which includes attached AWS managed policies"
    ))
}

/// The `Policies` list of the authorization details.
struct ManagedPolicies<'a> {
    details: &'a Node,
    source: &'a SourceText,
}

impl ManagedPolicies<'_> {
    /// Parses the default version of a managed policy, or returns `None`
    /// when the snapshot does not hold it.
    fn default_version(&self, arn: &str, policy_type: PolicyType) -> Result<Option<Policy>, Finding> {
        let policies = self.details.get("Policies").and_then(Node::as_array).unwrap_or_default();
        let Some(policy) = policies.iter().find(|policy| policy.get("Arn").and_then(Node::as_str) == Some(arn)) else {
            return Ok(None);
        };
        let name = policy.get("PolicyName").and_then(Node::as_str).unwrap_or(arn);
        let default_id = policy.get("DefaultVersionId").and_then(Node::as_str);
        let versions = policy.get("PolicyVersionList").and_then(Node::as_array).unwrap_or_default();
        let version = versions.iter().find(|version| {
            version.get("IsDefaultVersion").and_then(Node::as_bool) == Some(true)
                || (default_id.is_some() && version.get("VersionId").and_then(Node::as_str) == default_id)
        });
        let Some(document) = version.and_then(|version| version.get("Document")) else {
            return Ok(None);
        };
        parse_document(&format!("managed policy {name}"), document, self.source, policy_type).map(Some)
    }
}

/// Parses a policy document that is either embedded JSON or a string of
/// (URL-encoded) JSON, as the IAM API returns it, and checks the elements
/// that depend on the policy type (such as `Principal`).
pub fn parse_document(name: &str, document: &Node, source: &SourceText, policy_type: PolicyType) -> Result<Policy, Finding> {
    let policy = match document.as_str() {
        Some(text) => iam::parse_policy_text(name, text, &format!("{} ({name})", source.name()))?,
        None => iam::parse_policy(name, document, source)?,
    };
    policy.check_for(policy_type)?;
    Ok(policy)
}

fn read_tags(entity: &Node) -> BTreeMap<String, String> {
    let tags = entity.get("Tags").and_then(Node::as_array).unwrap_or_default();
    tags.iter()
        .filter_map(|tag| Some((tag.get("Key")?.as_str()?.to_string(), tag.get("Value")?.as_str()?.to_string())))
        .collect()
}

fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_arn_names_its_role() {
        let name = parse_principal_arn("arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run").unwrap();
        assert_eq!(name.kind, PrincipalKind::AssumedRole);
        assert_eq!(name.name, "ml-pipeline");
        assert_eq!(name.session.as_deref(), Some("ci-run"));
    }

    #[test]
    fn role_path_is_ignored() {
        let name = parse_principal_arn("arn:aws:iam::111122223333:role/teams/vision/ml-pipeline").unwrap();
        assert_eq!(name.name, "ml-pipeline");
    }

    #[test]
    fn other_principals_are_rejected() {
        assert!(parse_principal_arn("arn:aws:iam::111122223333:group/admins").is_err());
        assert!(parse_principal_arn("not an arn").is_err());
        assert!(parse_principal_arn("arn:aws:iam::1111:user/dana").is_err());
    }
}
