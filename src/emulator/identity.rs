//! The STS and IAM reads that online fact gathering makes, served from the
//! world file's `caller` and `iam` sections.
//!
//! The `iam` section has the shape of `aws iam get-account-authorization-details`.
//! Lists are returned in one page. Policy documents may be written as JSON
//! objects, as JSON text, or URL-encoded as the IAM API returns them; they are
//! always sent URL-encoded.

use serde_json::Value;

use super::query::{QueryError, Xml, encode_document};

/// The awsQuery actions the emulator serves.
pub const QUERY_ACTIONS: &[&str] = &[
    "GetCallerIdentity",
    "GetRole",
    "ListRolePolicies",
    "GetRolePolicy",
    "ListAttachedRolePolicies",
    "GetPolicy",
    "GetPolicyVersion",
    "GetUser",
    "ListUserPolicies",
    "GetUserPolicy",
    "ListAttachedUserPolicies",
    "ListGroupsForUser",
    "ListGroupPolicies",
    "GetGroupPolicy",
    "ListAttachedGroupPolicies",
];

/// Written for entities whose `CreateDate` the world file leaves out,
/// because the SDK requires one.
const DEFAULT_DATE: &str = "1970-01-01T00:00:00Z";

/// The caller and IAM entities of a world file.
#[derive(Debug, Clone)]
pub struct Identity {
    pub caller: Option<Value>,
    pub iam: Option<Value>,
    /// The world's account, for a caller that the world file leaves out.
    pub account: String,
}

/// The request parameters of one awsQuery call.
pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }

    fn required(&self, key: &str) -> Result<&str, QueryError> {
        self.get(key).ok_or_else(|| QueryError::invalid("ValidationError", format!("The request is missing the required parameter {key}")))
    }
}

/// Runs one action and returns the elements of its `<{Action}Result>`.
pub fn dispatch(identity: &Identity, action: &str, params: &Params<'_>) -> Result<String, QueryError> {
    let mut xml = Xml::default();
    match action {
        "GetCallerIdentity" => caller_identity(identity, &mut xml),
        "GetRole" => {
            let role = identity.entity("RoleDetailList", "RoleName", params.required("RoleName")?, "role")?;
            xml.open("Role");
            principal_fields(&mut xml, role, "RoleName", "RoleId");
            if let Some(document) = role.get("AssumeRolePolicyDocument") {
                xml.leaf("AssumeRolePolicyDocument", &encode_document(&document_text(document)));
            }
            xml.close("Role");
        }
        "GetUser" => {
            let user = identity.entity("UserDetailList", "UserName", params.required("UserName")?, "user")?;
            xml.open("User");
            principal_fields(&mut xml, user, "UserName", "UserId");
            xml.close("User");
        }
        "ListRolePolicies" => policy_names(&mut xml, identity.entity("RoleDetailList", "RoleName", params.required("RoleName")?, "role")?, "RolePolicyList"),
        "ListUserPolicies" => policy_names(&mut xml, identity.entity("UserDetailList", "UserName", params.required("UserName")?, "user")?, "UserPolicyList"),
        "ListGroupPolicies" => policy_names(&mut xml, identity.entity("GroupDetailList", "GroupName", params.required("GroupName")?, "group")?, "GroupPolicyList"),
        "GetRolePolicy" => inline_policy(&mut xml, identity, params, ("RoleDetailList", "RoleName", "role", "RolePolicyList"))?,
        "GetUserPolicy" => inline_policy(&mut xml, identity, params, ("UserDetailList", "UserName", "user", "UserPolicyList"))?,
        "GetGroupPolicy" => inline_policy(&mut xml, identity, params, ("GroupDetailList", "GroupName", "group", "GroupPolicyList"))?,
        "ListAttachedRolePolicies" => attached_policies(&mut xml, identity.entity("RoleDetailList", "RoleName", params.required("RoleName")?, "role")?),
        "ListAttachedUserPolicies" => attached_policies(&mut xml, identity.entity("UserDetailList", "UserName", params.required("UserName")?, "user")?),
        "ListAttachedGroupPolicies" => attached_policies(&mut xml, identity.entity("GroupDetailList", "GroupName", params.required("GroupName")?, "group")?),
        "ListGroupsForUser" => groups_for_user(&mut xml, identity, params.required("UserName")?)?,
        "GetPolicy" => {
            let policy = identity.policy(params.required("PolicyArn")?)?;
            xml.open("Policy");
            for key in ["PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "AttachmentCount", "PermissionsBoundaryUsageCount", "IsAttachable", "Description"] {
                optional_leaf(&mut xml, policy, key);
            }
            xml.leaf("CreateDate", &date(policy, "CreateDate"));
            xml.leaf("UpdateDate", &date(policy, "UpdateDate"));
            xml.close("Policy");
        }
        "GetPolicyVersion" => policy_version(&mut xml, identity, params)?,
        other => return Err(unknown_action(other)),
    }
    Ok(xml.text)
}

/// Builds the error for an action the emulator does not serve.
pub fn unknown_action(action: &str) -> QueryError {
    let named_action = if action.is_empty() { "(no Action parameter)" } else { action };
    QueryError::invalid(
        "InvalidAction",
        format!(
            "The action {named_action} is not served by this emulator, which serves the Rekognition dataset API plus these STS and IAM reads: {}",
            QUERY_ACTIONS.join(", ")
        ),
    )
}

impl Identity {
    /// Finds the entry of `list` whose `key` is `name`.
    fn entity(&self, list: &str, key: &str, name: &str, kind: &str) -> Result<&Value, QueryError> {
        self.list(list)
            .iter()
            .find(|entry| entry.get(key).and_then(Value::as_str) == Some(name))
            .ok_or_else(|| QueryError::not_found(format!("The {kind} with name {name} cannot be found.")))
    }

    fn policy(&self, arn: &str) -> Result<&Value, QueryError> {
        self.list("Policies")
            .iter()
            .find(|entry| entry.get("Arn").and_then(Value::as_str) == Some(arn))
            .ok_or_else(|| QueryError::not_found(format!("Policy {arn} was not found.")))
    }

    fn list(&self, list: &str) -> &[Value] {
        self.iam.as_ref().and_then(|iam| iam.get(list)).and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }
}

/// Writes the caller. A world file without `caller` makes the account's
/// root user the caller.
fn caller_identity(identity: &Identity, xml: &mut Xml) {
    let account = &identity.account;
    let caller = identity.caller.as_ref();
    let field = |key: &str| caller.and_then(|caller| caller.get(key)).and_then(Value::as_str).map(str::to_string);
    xml.leaf("Arn", &field("Arn").unwrap_or_else(|| format!("arn:aws:iam::{account}:root")));
    xml.leaf("UserId", &field("UserId").unwrap_or_else(|| account.clone()));
    xml.leaf("Account", &field("Account").unwrap_or_else(|| account.clone()));
}

/// Writes the fields that a Role and a User share.
fn principal_fields(xml: &mut Xml, entity: &Value, name_key: &str, id_key: &str) {
    xml.leaf("Path", &text(entity, "Path").unwrap_or_else(|| "/".into()));
    xml.leaf(name_key, &text(entity, name_key).unwrap_or_default());
    xml.leaf(id_key, &text(entity, id_key).unwrap_or_default());
    xml.leaf("Arn", &text(entity, "Arn").unwrap_or_default());
    xml.leaf("CreateDate", &date(entity, "CreateDate"));
    if let Some(arn) = entity.get("PermissionsBoundary").and_then(|boundary| text(boundary, "PermissionsBoundaryArn")) {
        xml.open("PermissionsBoundary");
        xml.leaf("PermissionsBoundaryType", "Policy");
        xml.leaf("PermissionsBoundaryArn", &arn);
        xml.close("PermissionsBoundary");
    }
    let tags = entity.get("Tags").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    xml.open("Tags");
    for tag in tags {
        xml.open("member");
        xml.leaf("Key", &text(tag, "Key").unwrap_or_default());
        xml.leaf("Value", &text(tag, "Value").unwrap_or_default());
        xml.close("member");
    }
    xml.close("Tags");
}

fn policy_names(xml: &mut Xml, entity: &Value, list: &str) {
    xml.open("PolicyNames");
    for policy in entity.get(list).and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        xml.leaf("member", &text(policy, "PolicyName").unwrap_or_default());
    }
    xml.close("PolicyNames");
    xml.leaf("IsTruncated", "false");
}

/// Writes GetRolePolicy, GetUserPolicy or GetGroupPolicy. `kind` is the
/// owner's list, name key, noun and inline policy list.
fn inline_policy(xml: &mut Xml, identity: &Identity, params: &Params<'_>, kind: (&str, &str, &str, &str)) -> Result<(), QueryError> {
    let (list, name_key, noun, policy_list) = kind;
    let owner_name = params.required(name_key)?;
    let policy_name = params.required("PolicyName")?;
    let owner = identity.entity(list, name_key, owner_name, noun)?;
    let policy = owner
        .get(policy_list)
        .and_then(Value::as_array)
        .and_then(|policies| policies.iter().find(|policy| policy.get("PolicyName").and_then(Value::as_str) == Some(policy_name)))
        .ok_or_else(|| QueryError::not_found(format!("The {noun} policy with name {policy_name} cannot be found.")))?;

    xml.leaf(name_key, owner_name);
    xml.leaf("PolicyName", policy_name);
    xml.leaf("PolicyDocument", &encode_document(&document_text(policy.get("PolicyDocument").unwrap_or(&Value::Null))));
    Ok(())
}

fn attached_policies(xml: &mut Xml, entity: &Value) {
    xml.open("AttachedPolicies");
    for policy in entity.get("AttachedManagedPolicies").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        xml.open("member");
        xml.leaf("PolicyName", &text(policy, "PolicyName").unwrap_or_default());
        xml.leaf("PolicyArn", &text(policy, "PolicyArn").unwrap_or_default());
        xml.close("member");
    }
    xml.close("AttachedPolicies");
    xml.leaf("IsTruncated", "false");
}

/// Lists the groups named in the user's `GroupList`. A group without an
/// entry in `GroupDetailList` is listed with an ARN built from its name, so
/// that the later reads of its policies fail with NoSuchEntity.
fn groups_for_user(xml: &mut Xml, identity: &Identity, user_name: &str) -> Result<(), QueryError> {
    let user = identity.entity("UserDetailList", "UserName", user_name, "user")?;
    xml.open("Groups");
    for group_name in user.get("GroupList").and_then(Value::as_array).map_or(&[][..], Vec::as_slice).iter().filter_map(Value::as_str) {
        let group = identity.entity("GroupDetailList", "GroupName", group_name, "group").ok();
        let field = |key: &str| group.and_then(|group| text(group, key));
        xml.open("member");
        xml.leaf("Path", &field("Path").unwrap_or_else(|| "/".into()));
        xml.leaf("GroupName", group_name);
        xml.leaf("GroupId", &field("GroupId").unwrap_or_default());
        xml.leaf("Arn", &field("Arn").unwrap_or_else(|| format!("arn:aws:iam::{}:group/{group_name}", identity.account)));
        xml.leaf("CreateDate", &group.map_or_else(|| DEFAULT_DATE.to_string(), |group| date(group, "CreateDate")));
        xml.close("member");
    }
    xml.close("Groups");
    xml.leaf("IsTruncated", "false");
    Ok(())
}

fn policy_version(xml: &mut Xml, identity: &Identity, params: &Params<'_>) -> Result<(), QueryError> {
    let arn = params.required("PolicyArn")?;
    let version_id = params.required("VersionId")?;
    let policy = identity.policy(arn)?;
    let version = policy
        .get("PolicyVersionList")
        .and_then(Value::as_array)
        .and_then(|versions| versions.iter().find(|version| version.get("VersionId").and_then(Value::as_str) == Some(version_id)))
        .ok_or_else(|| QueryError::not_found(format!("Policy {arn} version {version_id} does not exist.")))?;

    xml.open("PolicyVersion");
    xml.leaf("Document", &encode_document(&document_text(version.get("Document").unwrap_or(&Value::Null))));
    xml.leaf("VersionId", version_id);
    let is_default = version.get("IsDefaultVersion").and_then(Value::as_bool).unwrap_or(text(policy, "DefaultVersionId").as_deref() == Some(version_id));
    xml.leaf("IsDefaultVersion", if is_default { "true" } else { "false" });
    xml.leaf("CreateDate", &date(version, "CreateDate"));
    xml.close("PolicyVersion");
    Ok(())
}

/// Returns a policy document as JSON text. A string that is not JSON is
/// taken to be URL-encoded already and is decoded, so it is not encoded twice.
fn document_text(document: &Value) -> String {
    match document {
        Value::String(text) if text.trim_start().starts_with('{') => text.clone(),
        Value::String(text) => percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned(),
        other => other.to_string(),
    }
}

/// Returns a string, number or boolean field as text.
fn text(entity: &Value, key: &str) -> Option<String> {
    match entity.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn optional_leaf(xml: &mut Xml, entity: &Value, key: &str) {
    if let Some(value) = text(entity, key) {
        xml.leaf(key, &value);
    }
}

/// Returns a date in the `Z` form. The AWS CLI prints `+00:00`.
fn date(entity: &Value, key: &str) -> String {
    match text(entity, key) {
        Some(date) => match date.strip_suffix("+00:00") {
            Some(stem) => format!("{stem}Z"),
            None => date,
        },
        None => DEFAULT_DATE.to_string(),
    }
}
