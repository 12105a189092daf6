//! Snapshots of explanations for typical decisions, and the evaluation of
//! context keys that the tool cannot know.

use std::path::Path;

use rekognition_preflight::iam::simulate::{load_cases, Case};
use rekognition_preflight::iam::{evaluate, explain, parse_policy_text, Context, Decision, PolicySet, Request, UnknownKeys};
use rekognition_preflight::source::SourceText;


/// Loads the case named `case` from tests/fixtures/iam/`file`.
fn case(file: &str, case: &str) -> Case {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam").join(file);
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    let source = SourceText::new(file, text);
    let cases = load_cases(&source).expect("fixture parses").cases;
    cases.into_iter().find(|candidate| candidate.name == case).unwrap_or_else(|| panic!("{file} has no case `{case}`"))
}

fn explained(file: &str, name: &str, expected: Decision) -> String {
    let case = case(file, name);
    let evaluation = case.evaluate();
    assert_eq!(evaluation.decision, expected, "{name}");
    explain(&evaluation, &case.request).render_plain(100)
}

#[test]
fn explain_identity_explicit_deny() {
    insta::assert_snapshot!(explained("basics.json", "deny beats allow across policies", Decision::ExplicitlyDenied));
}

#[test]
fn explain_boundary_blocks() {
    insta::assert_snapshot!(explained("policy_types.json", "boundary omits action", Decision::ImplicitlyDenied));
}

#[test]
fn explain_scp_level_blocks() {
    insta::assert_snapshot!(explained("policy_types.json", "scp one level omits service", Decision::ImplicitlyDenied));
}

#[test]
fn explain_allowed_through_notaction() {
    insta::assert_snapshot!(explained("basics.json", "power user NotAction allow", Decision::Allowed));
}

#[test]
fn explain_missing_context_key() {
    insta::assert_snapshot!(explained("conditions.json", "StringEquals key missing", Decision::ImplicitlyDenied));
}

#[test]
fn explain_cross_account_denial() {
    insta::assert_snapshot!(explained("policy_types.json", "cross account identity only", Decision::ImplicitlyDenied));
}

#[test]
fn explain_resource_near_miss() {
    insta::assert_snapshot!(explained("resources.json", "resource other region", Decision::ImplicitlyDenied));
}

const PRINCIPAL: &str = "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run";
const ACTION: &str = "rekognition:DistributeDatasetEntries";
const RESOURCE: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";

fn identity_set(policies: &[&str]) -> PolicySet {
    let identity = policies
        .iter()
        .enumerate()
        .map(|(index, text)| parse_policy_text(&format!("policy-{}", index + 1), text, &format!("policy-{}.json", index + 1)).expect("policy parses"))
        .collect();
    PolicySet { identity, ..PolicySet::default() }
}

/// Builds a request whose context sets only `aws:RequestedRegion` and treats every
/// other key as unknown, except `aws:TagKeys`, which is absent.
fn offline_request() -> Request {
    let mut context = Context::new().with_unknown_keys(UnknownKeys { absent_keys: vec!["aws:tagkeys".into()], absent_prefixes: vec![] });
    context.insert("aws:RequestedRegion", "us-east-1");
    Request { context, ..Request::new(PRINCIPAL, ACTION, RESOURCE) }
}

const ALLOW_FROM_OFFICE: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "FromOffice", "Effect": "Allow", "Action": "rekognition:*", "Resource": "*",
    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}}"#;
const ALLOW_ALL: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
const DENY_UNLESS_MFA: &str = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}}"#;

#[test]
fn unknown_key_blocks_allow() {
    let evaluation = evaluate(&identity_set(&[ALLOW_FROM_OFFICE]), &offline_request());
    assert_eq!(evaluation.decision, Decision::ImplicitlyDenied);
    let undecided = evaluation.undecided.expect("the unknown key could change the decision");
    assert_eq!(undecided.best_case, Decision::Allowed);
    assert_eq!(undecided.unknown_keys, vec!["aws:SourceIp".to_string()]);
}

#[test]
fn unknown_key_applies_deny() {
    let evaluation = evaluate(&identity_set(&[ALLOW_ALL, DENY_UNLESS_MFA]), &offline_request());
    assert_eq!(evaluation.decision, Decision::ExplicitlyDenied);
    let undecided = evaluation.undecided.expect("the unknown key could change the decision");
    assert_eq!(undecided.best_case, Decision::Allowed);
    assert_eq!(undecided.unknown_keys, vec!["aws:MultiFactorAuthPresent".to_string()]);
}

#[test]
fn unknown_key_in_unrelated_statement() {
    let unrelated = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}}"#;
    let evaluation = evaluate(&identity_set(&[ALLOW_ALL, unrelated]), &offline_request());
    assert_eq!(evaluation.decision, Decision::Allowed);
    assert!(evaluation.undecided.is_none());
}

#[test]
fn unknown_key_outweighed_by_other_allow() {
    let evaluation = evaluate(&identity_set(&[ALLOW_FROM_OFFICE, ALLOW_ALL]), &offline_request());
    assert_eq!(evaluation.decision, Decision::Allowed);
    assert!(evaluation.undecided.is_none());
}

#[test]
fn absent_listed_key_is_absent() {
    let policy = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}}}"#;
    let evaluation = evaluate(&identity_set(&[policy]), &offline_request());
    assert_eq!(evaluation.decision, Decision::Allowed);
    assert!(evaluation.undecided.is_none());
    assert_eq!(evaluation.missing_context_keys, vec!["aws:TagKeys".to_string()]);
}

#[test]
fn unknown_variable_in_resource() {
    let policy = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",
        "Resource": "arn:aws:rekognition:*:*:project/${aws:PrincipalTag/project}/*"}}"#;
    let evaluation = evaluate(&identity_set(&[policy]), &offline_request());
    assert_eq!(evaluation.decision, Decision::ImplicitlyDenied);
    let undecided = evaluation.undecided.expect("the unknown tag could change the decision");
    assert_eq!(undecided.unknown_keys, vec!["aws:PrincipalTag/project".to_string()]);
}

#[test]
fn explain_unknown_keys_undecided() {
    let request = offline_request();
    let evaluation = evaluate(&identity_set(&[ALLOW_ALL, DENY_UNLESS_MFA]), &request);
    insta::assert_snapshot!(explain(&evaluation, &request).render_plain(100));
}

#[test]
fn delegating_statement_not_listed() {
    let case = case("extra.json", "same account account principal with identity allow");
    let evaluation = case.evaluate();
    assert_eq!(evaluation.decision, Decision::Allowed);
    let types: Vec<_> = evaluation.matched.iter().map(|statement| statement.policy_type).collect();
    assert_eq!(types, vec![rekognition_preflight::iam::PolicyType::Identity]);
}

#[test]
fn delegation_denial_has_note() {
    let case = case("extra.json", "same account resource policy names account only");
    let evaluation = case.evaluate();
    assert_eq!(evaluation.decision, Decision::ImplicitlyDenied);
    assert!(evaluation.notes.iter().any(|note| note.contains("only delegates access")), "{:?}", evaluation.notes);
}

#[test]
fn resource_statement_without_principal_never_grants() {
    let allow = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
    let resource = parse_policy_text("bucket-policy", allow, "bucket-policy.json").expect("policy parses");
    assert!(resource.check_for(rekognition_preflight::iam::PolicyType::ResourceBased).is_err());

    let set = PolicySet { resource: Some(resource.clone()), ..PolicySet::default() };
    assert_eq!(evaluate(&set, &Request::new(PRINCIPAL, ACTION, RESOURCE)).decision, Decision::ImplicitlyDenied);

    let deny = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}"#;
    let resource = parse_policy_text("bucket-policy", deny, "bucket-policy.json").expect("policy parses");
    let set = PolicySet { identity: identity_set(&[ALLOW_ALL]).identity, resource: Some(resource), ..PolicySet::default() };
    assert_eq!(evaluate(&set, &Request::new(PRINCIPAL, ACTION, RESOURCE)).decision, Decision::ExplicitlyDenied);
}
