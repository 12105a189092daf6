//! The caller and the principal's IAM policies from STS and IAM, written in
//! the snapshot's shape: `caller` as `aws sts get-caller-identity` prints it
//! and `iam` as `aws iam get-account-authorization-details` does, limited to
//! the principal's role or user, its groups and their managed policies.

use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::error::{classify, AwsError, Call, Failure};
use super::session::Session;
use crate::facts::principal::{parse_principal_arn, PrincipalKind};

/// The IAM facts of the principal.
#[derive(Debug, Clone)]
pub enum IamSection {
    /// The snapshot's `iam` section.
    Found(Value),
    /// The reason the principal's policies are not known.
    Unresolved(String),
}

/// The reason the IAM section could not be completed.
enum Gap {
    Unresolved(String),
    Stop(AwsError),
}

impl From<AwsError> for Gap {
    fn from(error: AwsError) -> Self {
        Gap::Stop(error)
    }
}

/// Calls GetCallerIdentity and returns it as the snapshot's `caller`.
pub async fn caller(session: &Session) -> Result<Value, AwsError> {
    let call = Call { service: "sts", operation: "GetCallerIdentity", resource: "", purpose: "learn which principal makes the calls" };
    let endpoint = session.endpoints.describe("sts", session.region.as_deref());
    match session.sts.get_caller_identity().send().await {
        Ok(output) => Ok(json!({
            "UserId": output.user_id(),
            "Account": output.account(),
            "Arn": output.arn(),
        })),
        Err(error) => Err(match classify(&error, call, &endpoint) {
            Failure::Stop(error) => error,
            Failure::Denied(message) => AwsError { message, help: "check the credentials and the STS endpoint".into() },
            Failure::NotFound => AwsError { message: format!("sts:GetCallerIdentity at {endpoint} returned not found"), help: "check the STS endpoint".into() },
        }),
    }
}

/// Reads the policies of the role or user behind `principal_arn`.
pub async fn principal_section(session: &Session, principal_arn: &str) -> Result<IamSection, AwsError> {
    let name = match parse_principal_arn(principal_arn) {
        Ok(name) => name,
        Err(message) => return Ok(IamSection::Unresolved(message)),
    };
    let result = match name.kind {
        PrincipalKind::AssumedRole => role_section(session, &name.name).await,
        PrincipalKind::User => user_section(session, &name.name).await,
        PrincipalKind::Account => Ok(json!({ "RoleDetailList": [], "UserDetailList": [], "GroupDetailList": [], "Policies": [] })),
    };
    match result {
        Ok(section) => Ok(IamSection::Found(section)),
        Err(Gap::Unresolved(message)) => Ok(IamSection::Unresolved(message)),
        Err(Gap::Stop(error)) => Err(error),
    }
}

/// Runs `$request` through its paginator and collects `$field` of every page.
macro_rules! paginate {
    ($request:expr, $field:ident, $call:expr, $endpoint:expr) => {{
        let mut pages = $request.into_paginator().send();
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => items.extend(page.$field().iter().cloned()),
                Err(error) => return Err(classify(&error, $call, $endpoint)),
            }
        }
        Ok::<_, Failure>(items)
    }};
}

async fn role_section(session: &Session, role_name: &str) -> Result<Value, Gap> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let resource = format!("role {role_name}");
    let get_call = Call { service: "iam", operation: "GetRole", resource: &resource, purpose: "read the role's tags and permissions boundary" };
    let list_call = Call { service: "iam", operation: "ListRolePolicies", resource: &resource, purpose: "read the role's inline policies" };
    let attached_call = Call { service: "iam", operation: "ListAttachedRolePolicies", resource: &resource, purpose: "read the role's managed policies" };

    let (role, inline_names, attached) = tokio::join!(
        async { session.iam.get_role().role_name(role_name).send().await.map_err(|error| classify(&error, get_call, &endpoint)) },
        async { paginate!(session.iam.list_role_policies().role_name(role_name), policy_names, list_call, &endpoint) },
        async { paginate!(session.iam.list_attached_role_policies().role_name(role_name), attached_policies, attached_call, &endpoint) },
    );
    let missing = format!("role `{role_name}` does not exist");
    let role = role.map_err(|failure| gap(failure, &missing))?;
    let Some(role) = role.role() else {
        return Err(Gap::Unresolved(format!("iam:GetRole returned no role for `{role_name}`")));
    };
    let inline_names = inline_names.map_err(|failure| gap(failure, &missing))?;
    let attached = attached.map_err(|failure| gap(failure, &missing))?;

    let boundary = role.permissions_boundary().and_then(|boundary| boundary.permissions_boundary_arn()).map(str::to_string);
    let attached_list = attached_json(&attached);
    let mut managed_arns = policy_arns(&attached);
    managed_arns.extend(boundary.clone());
    let (inline, policies) = tokio::join!(inline_policies(session, Owner::Role, role_name, inline_names), managed_policies(session, managed_arns));
    let (inline, policies) = (inline?, policies?);

    let mut entry = json!({
        "Path": role.path(),
        "RoleName": role.role_name(),
        "RoleId": role.role_id(),
        "Arn": role.arn(),
        "RolePolicyList": inline,
        "AttachedManagedPolicies": attached_list,
        "Tags": tags_json(role.tags()),
    });
    if let Some(arn) = boundary {
        entry["PermissionsBoundary"] = json!({ "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn });
    }
    Ok(json!({ "RoleDetailList": [entry], "UserDetailList": [], "GroupDetailList": [], "Policies": policies }))
}

async fn user_section(session: &Session, user_name: &str) -> Result<Value, Gap> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let resource = format!("user {user_name}");
    let get_call = Call { service: "iam", operation: "GetUser", resource: &resource, purpose: "read the user's tags and permissions boundary" };
    let list_call = Call { service: "iam", operation: "ListUserPolicies", resource: &resource, purpose: "read the user's inline policies" };
    let attached_call = Call { service: "iam", operation: "ListAttachedUserPolicies", resource: &resource, purpose: "read the user's managed policies" };
    let groups_call = Call { service: "iam", operation: "ListGroupsForUser", resource: &resource, purpose: "read the policies of the user's groups" };

    let (user, inline_names, attached, groups) = tokio::join!(
        async { session.iam.get_user().user_name(user_name).send().await.map_err(|error| classify(&error, get_call, &endpoint)) },
        async { paginate!(session.iam.list_user_policies().user_name(user_name), policy_names, list_call, &endpoint) },
        async { paginate!(session.iam.list_attached_user_policies().user_name(user_name), attached_policies, attached_call, &endpoint) },
        async { paginate!(session.iam.list_groups_for_user().user_name(user_name), groups, groups_call, &endpoint) },
    );
    let missing = format!("user `{user_name}` does not exist");
    let user = user.map_err(|failure| gap(failure, &missing))?;
    let Some(user) = user.user() else {
        return Err(Gap::Unresolved(format!("iam:GetUser returned no user for `{user_name}`")));
    };
    let inline_names = inline_names.map_err(|failure| gap(failure, &missing))?;
    let attached = attached.map_err(|failure| gap(failure, &missing))?;
    let groups = groups.map_err(|failure| gap(failure, &missing))?;

    let inline = inline_policies(session, Owner::User, user_name, inline_names).await?;
    let boundary = user.permissions_boundary().and_then(|boundary| boundary.permissions_boundary_arn()).map(str::to_string);
    let mut managed_arns = policy_arns(&attached);
    managed_arns.extend(boundary.clone());

    let mut tasks = JoinSet::new();
    for (index, group) in groups.iter().enumerate() {
        let session = session.clone();
        let group = group.clone();
        tasks.spawn(async move { (index, group_entry(&session, group.group_name(), group.group_id(), group.arn(), group.path()).await) });
    }
    let mut group_entries = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.map_err(|error| Gap::Stop(task_error(&error)))?;
        let (entry, arns) = result?;
        group_entries.push((index, entry));
        managed_arns.extend(arns);
    }
    group_entries.sort_by_key(|(index, _)| *index);
    let group_entries: Vec<Value> = group_entries.into_iter().map(|(_, entry)| entry).collect();
    let policies = managed_policies(session, managed_arns).await?;

    let mut entry = json!({
        "Path": user.path(),
        "UserName": user.user_name(),
        "UserId": user.user_id(),
        "Arn": user.arn(),
        "UserPolicyList": inline,
        "GroupList": groups.iter().map(|group| group.group_name()).collect::<Vec<_>>(),
        "AttachedManagedPolicies": attached_json(&attached),
        "Tags": tags_json(user.tags()),
    });
    if let Some(arn) = boundary {
        entry["PermissionsBoundary"] = json!({ "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn });
    }
    Ok(json!({ "RoleDetailList": [], "UserDetailList": [entry], "GroupDetailList": group_entries, "Policies": policies }))
}

/// Reads one group's inline and attached policies; returns its entry and
/// the ARNs of its managed policies.
async fn group_entry(session: &Session, name: &str, id: &str, arn: &str, path: &str) -> Result<(Value, Vec<String>), Gap> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let resource = format!("group {name}");
    let list_call = Call { service: "iam", operation: "ListGroupPolicies", resource: &resource, purpose: "read the group's inline policies" };
    let attached_call = Call { service: "iam", operation: "ListAttachedGroupPolicies", resource: &resource, purpose: "read the group's managed policies" };
    let (inline_names, attached) = tokio::join!(
        async { paginate!(session.iam.list_group_policies().group_name(name), policy_names, list_call, &endpoint) },
        async { paginate!(session.iam.list_attached_group_policies().group_name(name), attached_policies, attached_call, &endpoint) },
    );
    let missing = format!("group `{name}` does not exist");
    let inline_names = inline_names.map_err(|failure| gap(failure, &missing))?;
    let attached = attached.map_err(|failure| gap(failure, &missing))?;
    let inline = inline_policies(session, Owner::Group, name, inline_names).await?;
    let arns = policy_arns(&attached);
    let entry = json!({
        "Path": path,
        "GroupName": name,
        "GroupId": id,
        "Arn": arn,
        "GroupPolicyList": inline,
        "AttachedManagedPolicies": attached_json(&attached),
    });
    Ok((entry, arns))
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Role,
    User,
    Group,
}

/// Reads inline policy documents concurrently, in the listed order.
async fn inline_policies(session: &Session, owner: Owner, owner_name: &str, names: Vec<String>) -> Result<Vec<Value>, Gap> {
    let mut tasks = JoinSet::new();
    for (index, policy_name) in names.into_iter().enumerate() {
        let session = session.clone();
        let owner_name = owner_name.to_string();
        tasks.spawn(async move {
            let result = inline_document(&session, owner, &owner_name, &policy_name).await;
            (index, policy_name, result)
        });
    }
    let mut documents = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, policy_name, result) = joined.map_err(|error| Gap::Stop(task_error(&error)))?;
        let document = result?;
        documents.push((index, json!({ "PolicyName": policy_name, "PolicyDocument": document })));
    }
    documents.sort_by_key(|(index, _)| *index);
    Ok(documents.into_iter().map(|(_, document)| document).collect())
}

async fn inline_document(session: &Session, owner: Owner, owner_name: &str, policy_name: &str) -> Result<String, Gap> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let resource = format!("inline policy {policy_name} of {owner_name}");
    let purpose = "read the policy document";
    let missing = format!("inline policy `{policy_name}` of `{owner_name}` does not exist");
    let document = match owner {
        Owner::Role => {
            let call = Call { service: "iam", operation: "GetRolePolicy", resource: &resource, purpose };
            let request = session.iam.get_role_policy().role_name(owner_name).policy_name(policy_name);
            request.send().await.map(|output| output.policy_document().to_string()).map_err(|error| classify(&error, call, &endpoint))
        }
        Owner::User => {
            let call = Call { service: "iam", operation: "GetUserPolicy", resource: &resource, purpose };
            let request = session.iam.get_user_policy().user_name(owner_name).policy_name(policy_name);
            request.send().await.map(|output| output.policy_document().to_string()).map_err(|error| classify(&error, call, &endpoint))
        }
        Owner::Group => {
            let call = Call { service: "iam", operation: "GetGroupPolicy", resource: &resource, purpose };
            let request = session.iam.get_group_policy().group_name(owner_name).policy_name(policy_name);
            request.send().await.map(|output| output.policy_document().to_string()).map_err(|error| classify(&error, call, &endpoint))
        }
    };
    document.map(|text| url_decode(&text)).map_err(|failure| gap(failure, &missing))
}

/// Reads the default version of each managed policy concurrently, as
/// entries of the authorization details' `Policies` list.
async fn managed_policies(session: &Session, mut arns: Vec<String>) -> Result<Vec<Value>, Gap> {
    arns.sort();
    arns.dedup();
    let mut tasks = JoinSet::new();
    for (index, arn) in arns.into_iter().enumerate() {
        let session = session.clone();
        tasks.spawn(async move { (index, managed_policy(&session, &arn).await) });
    }
    let mut policies = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.map_err(|error| Gap::Stop(task_error(&error)))?;
        policies.push((index, result?));
    }
    policies.sort_by_key(|(index, _)| *index);
    Ok(policies.into_iter().map(|(_, policy)| policy).collect())
}

/// Calls GetPolicy for the default version id, then GetPolicyVersion.
async fn managed_policy(session: &Session, arn: &str) -> Result<Value, Gap> {
    let endpoint = session.endpoints.describe("iam", session.region.as_deref());
    let missing = format!("managed policy `{arn}` does not exist");
    let call = Call { service: "iam", operation: "GetPolicy", resource: arn, purpose: "find the managed policy's default version" };
    let output = session.iam.get_policy().policy_arn(arn).send().await.map_err(|error| gap(classify(&error, call, &endpoint), &missing))?;
    let Some(policy) = output.policy() else {
        return Err(Gap::Unresolved(missing));
    };
    let Some(version_id) = policy.default_version_id() else {
        return Err(Gap::Unresolved(format!("managed policy `{arn}` has no default version")));
    };

    let call = Call { service: "iam", operation: "GetPolicyVersion", resource: arn, purpose: "read the managed policy's document" };
    let request = session.iam.get_policy_version().policy_arn(arn).version_id(version_id);
    let output = request.send().await.map_err(|error| gap(classify(&error, call, &endpoint), &missing))?;
    let document = output.policy_version().and_then(|version| version.document()).map(url_decode);
    let Some(document) = document else {
        return Err(Gap::Unresolved(format!("version {version_id} of managed policy `{arn}` has no document")));
    };
    Ok(json!({
        "PolicyName": policy.policy_name(),
        "PolicyId": policy.policy_id(),
        "Arn": arn,
        "Path": policy.path(),
        "DefaultVersionId": version_id,
        "PolicyVersionList": [{ "Document": document, "VersionId": version_id, "IsDefaultVersion": true }],
    }))
}

/// Decodes the URL-encoded document text that IAM returns. Text that is
/// already JSON, as some IAM emulators return it, stays as it is.
fn url_decode(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    match percent_encoding::percent_decode_str(text).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => text.to_string(),
    }
}

fn task_error(error: &tokio::task::JoinError) -> AwsError {
    AwsError { message: format!("an IAM lookup stopped unexpectedly: {error}"), help: "run the command again".into() }
}

fn policy_arns(attached: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    attached.iter().filter_map(|policy| policy.policy_arn().map(str::to_string)).collect()
}

fn tags_json(tags: &[aws_sdk_iam::types::Tag]) -> Vec<Value> {
    tags.iter().map(|tag| json!({ "Key": tag.key(), "Value": tag.value() })).collect()
}

fn attached_json(attached: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<Value> {
    attached.iter().map(|policy| json!({ "PolicyName": policy.policy_name(), "PolicyArn": policy.policy_arn() })).collect()
}

/// Maps a failed IAM call: a denial or a missing entity leaves the
/// principal unresolved, anything else stops the command.
fn gap(failure: Failure, missing: &str) -> Gap {
    match failure {
        Failure::Denied(message) => Gap::Unresolved(message),
        Failure::NotFound => Gap::Unresolved(missing.to_string()),
        Failure::Stop(error) => Gap::Stop(error),
    }
}
