//! Property tests of the evaluator's safety: more Deny or less Allow never
//! grants more, and unknown context keys never make a request look allowed.

use proptest::prelude::*;
use serde_json::{json, Value};

use rekognition_preflight::iam::{evaluate, parse_policy_text, Context, Decision, PolicyLevel, PolicySet, Request, UnknownKeys};

const PRINCIPAL: &str = "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run";
const ACTION: &str = "rekognition:DistributeDatasetEntries";
const RESOURCE: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";

const ACTIONS: [&str; 6] = ["*", "rekognition:*", "rekognition:DistributeDatasetEntries", "rekognition:distribute*", "rekognition:Describe*", "s3:GetObject"];
const RESOURCES: [&str; 6] = [
    "*",
    "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106",
    "arn:aws:rekognition:*:*:project/shelf-defects/*",
    "arn:aws:rekognition:*:*:project/other/*",
    "arn:aws:rekognition:*:*:project/${aws:PrincipalTag/project}/*",
    "arn:aws:s3:::*",
];
/// Condition keys: the first two are set in the request, the rest are absent
/// or, in the unknown-key property, unknown.
const KEYS: [&str; 4] = ["aws:RequestedRegion", "aws:PrincipalTag/team", "aws:SourceIp", "aws:PrincipalTag/project"];
const OPERATORS: [&str; 8] = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringNotLike",
    "Null",
    "StringNotEqualsIgnoreCase",
];
const VALUES: [&str; 5] = ["us-east-1", "vision", "shelf-defects", "203.0.113.7", "true"];

/// `Principal` values for resource-policy statements.
const PRINCIPALS: [&str; 5] = [
    "*",
    "111122223333",
    "arn:aws:iam::111122223333:role/ml-pipeline",
    "arn:aws:iam::444455556666:root",
    "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run",
];

#[derive(Debug, Clone)]
struct StatementSpec {
    deny: bool,
    /// Used only in resource policies, where `Principal` is required.
    principal: usize,
    not_principal: bool,
    not_action: bool,
    action: usize,
    not_resource: bool,
    resource: usize,
    condition: Option<(usize, usize, usize)>,
}

fn statement_spec() -> impl Strategy<Value = StatementSpec> {
    (
        (prop::bool::weighted(0.2), 0..PRINCIPALS.len(), prop::bool::weighted(0.1)),
        prop::bool::weighted(0.15),
        0..ACTIONS.len(),
        prop::bool::weighted(0.15),
        0..RESOURCES.len(),
        prop::option::weighted(0.35, (0..OPERATORS.len(), 0..KEYS.len(), 0..VALUES.len())),
    )
        .prop_map(|((deny, principal, not_principal), not_action, action, not_resource, resource, condition)| StatementSpec {
            deny,
            principal,
            not_principal,
            not_action,
            action,
            not_resource,
            resource,
            condition,
        })
}

fn statement_json(spec: &StatementSpec, with_principal: bool) -> Value {
    let mut statement = json!({ "Effect": if spec.deny { "Deny" } else { "Allow" } });
    if with_principal {
        statement[if spec.not_principal { "NotPrincipal" } else { "Principal" }] = json!({ "AWS": PRINCIPALS[spec.principal] });
    }
    statement[if spec.not_action { "NotAction" } else { "Action" }] = json!(ACTIONS[spec.action]);
    statement[if spec.not_resource { "NotResource" } else { "Resource" }] = json!(RESOURCES[spec.resource]);
    if let Some((operator, key, value)) = spec.condition {
        let value = if OPERATORS[operator] == "Null" { "true" } else { VALUES[value] };
        statement["Condition"] = json!({ OPERATORS[operator]: { KEYS[key]: value } });
    }
    statement
}

/// A policy set as statement lists: identity policies, optional resource
/// policy and boundary, SCP levels, and whether the resource is in another account.
#[derive(Debug, Clone)]
struct SetSpec {
    identity: Vec<Vec<StatementSpec>>,
    resource: Option<Vec<StatementSpec>>,
    boundary: Option<Vec<StatementSpec>>,
    scps: Vec<Vec<StatementSpec>>,
    cross_account: bool,
}

fn policy_spec() -> impl Strategy<Value = Vec<StatementSpec>> {
    prop::collection::vec(statement_spec(), 0..5)
}

fn set_spec() -> impl Strategy<Value = SetSpec> {
    (
        prop::collection::vec(policy_spec(), 1..4),
        prop::option::weighted(0.4, policy_spec()),
        prop::option::weighted(0.3, policy_spec()),
        prop::collection::vec(policy_spec(), 0..2),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(identity, resource, boundary, scps, cross_account)| SetSpec { identity, resource, boundary, scps, cross_account })
}

fn policy(name: &str, statements: &[StatementSpec], with_principal: bool) -> rekognition_preflight::iam::Policy {
    let statements: Vec<Value> = statements.iter().map(|statement| statement_json(statement, with_principal)).collect();
    let document = json!({ "Version": "2012-10-17", "Statement": statements });
    parse_policy_text(name, &document.to_string(), name).unwrap_or_else(|finding| panic!("generated policy rejected: {}", finding.message))
}

fn build(spec: &SetSpec) -> PolicySet {
    PolicySet {
        identity: spec.identity.iter().enumerate().map(|(index, statements)| policy(&format!("identity-{index}"), statements, false)).collect(),
        resource: spec.resource.as_ref().map(|statements| policy("resource", statements, true)),
        boundaries: spec.boundary.iter().map(|statements| policy("boundary", statements, false)).collect(),
        scps: spec
            .scps
            .iter()
            .enumerate()
            .map(|(index, statements)| PolicyLevel { name: format!("level-{index}"), policies: vec![policy(&format!("scp-{index}"), statements, false)] })
            .collect(),
        ..PolicySet::default()
    }
}

fn spec_request(spec: &SetSpec, context: Context) -> Request {
    let resource_account = spec.cross_account.then(|| "444455556666".to_string());
    Request { resource_account, ..request(context) }
}

fn request(context: Context) -> Request {
    Request { context, ..Request::new(PRINCIPAL, ACTION, RESOURCE) }
}

fn known_context() -> Context {
    let mut context = Context::new();
    context.insert(KEYS[0], "us-east-1");
    context.insert(KEYS[1], "vision");
    context
}

/// Picks one policy of the set to change: an identity policy, the resource
/// policy, the boundary, or an SCP level.
fn target(spec: &mut SetSpec, choice: usize) -> &mut Vec<StatementSpec> {
    let mut policies: Vec<&mut Vec<StatementSpec>> = spec.identity.iter_mut().collect();
    policies.extend(spec.resource.as_mut());
    policies.extend(spec.boundary.as_mut());
    policies.extend(spec.scps.iter_mut());
    let index = choice % policies.len();
    policies.swap_remove(index)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn added_deny_never_allows(spec in set_spec(), deny in statement_spec(), choice in 0usize..8) {
        let before = evaluate(&build(&spec), &spec_request(&spec, known_context())).decision;
        let mut changed = spec.clone();
        target(&mut changed, choice).push(StatementSpec { deny: true, ..deny });
        let after = evaluate(&build(&changed), &spec_request(&changed, known_context())).decision;
        prop_assert!(after != Decision::Allowed || before == Decision::Allowed, "before {before}, after {after}");
    }

    #[test]
    fn removed_allow_never_allows(spec in set_spec(), choice in 0usize..8, position in 0usize..4) {
        let before = evaluate(&build(&spec), &spec_request(&spec, known_context())).decision;
        let mut changed = spec.clone();
        let statements = target(&mut changed, choice);
        let allows: Vec<usize> = statements.iter().enumerate().filter(|(_, statement)| !statement.deny).map(|(index, _)| index).collect();
        prop_assume!(!allows.is_empty());
        statements.remove(allows[position % allows.len()]);
        let after = evaluate(&build(&changed), &spec_request(&changed, known_context())).decision;
        prop_assert!(after != Decision::Allowed || before == Decision::Allowed, "before {before}, after {after}");
    }

    #[test]
    fn unknown_keys_never_overstate(spec in set_spec(), resolution in prop::collection::vec(prop::option::of(0..VALUES.len()), 2)) {
        let set = build(&spec);
        let unknown = known_context().with_unknown_keys(UnknownKeys::default());
        let evaluation = evaluate(&set, &spec_request(&spec, unknown));
        let best = evaluation.undecided.as_ref().map_or(evaluation.decision, |undecided| undecided.best_case);
        prop_assert!(evaluation.decision != Decision::Allowed || best == Decision::Allowed);

        // Any concrete value (or absence) of the unknown keys decides between the two bounds.
        let mut concrete = known_context();
        for (key, value) in KEYS[2..].iter().zip(&resolution) {
            if let Some(value) = value {
                concrete.insert(key, VALUES[*value]);
            }
        }
        let resolved = evaluate(&set, &spec_request(&spec, concrete)).decision;
        prop_assert!(evaluation.decision != Decision::Allowed || resolved == Decision::Allowed, "worst {} but resolved {resolved}", evaluation.decision);
        prop_assert!(resolved != Decision::Allowed || best == Decision::Allowed, "resolved Allowed but best {best}");
    }
}

/// Keys and strings that steer random documents towards policy shapes.
const POLICY_WORDS: [&str; 24] = [
    "Version", "2012-10-17", "2008-10-17", "Statement", "Sid", "Effect", "Allow", "Deny", "Action", "NotAction", "Resource",
    "NotResource", "Principal", "NotPrincipal", "AWS", "Service", "Condition", "StringLike", "ForAllValues:StringEquals",
    "DateLessThan", "IpAddress", "Null", "${aws:username}", "*",
];

fn json_value() -> impl Strategy<Value = Value> {
    let word = prop::sample::select(&POLICY_WORDS[..]).prop_map(|word| json!(word));
    let leaf = prop_oneof![
        word.clone(),
        word,
        any::<bool>().prop_map(|flag| json!(flag)),
        any::<i32>().prop_map(|number| json!(number)),
        "[ -~]{0,12}".prop_map(|text| json!(text)),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&POLICY_WORDS[..]), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().map(|(key, value)| (key.to_string(), value)).collect())),
        ]
    })
}

/// Values for one element: usually a plausible one, sometimes random JSON.
fn element_value(plausible: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => prop::sample::select(plausible).prop_map(|text| Some(json!(text))),
        6 => prop::collection::vec(prop::sample::select(plausible), 1..3).prop_map(|texts| Some(json!(texts))),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ]
}

const CONDITION_VALUES: [&str; 10] =
    ["us-east-1", "true", "600", "2026-12-04T12:00:00Z", "1798761600", "203.0.113.0/24", "2001:db8::/32", "aGVsbG8=", "arn:aws:iam::*:role/*", "${aws:PrincipalTag/team}"];

fn condition_block() -> impl Strategy<Value = Value> {
    let operators = &OPERATORS[..];
    prop::collection::vec(
        (
            prop_oneof![prop::sample::select(operators).prop_map(str::to_string), prop::sample::select(&POLICY_WORDS[..]).prop_map(str::to_string), "[A-Za-z:]{1,24}"],
            prop::sample::select(&KEYS[..]),
            prop_oneof![prop::sample::select(&CONDITION_VALUES[..]).prop_map(|value| json!(value)), json_value()],
        ),
        0..3,
    )
    .prop_map(|clauses| {
        let mut block = serde_json::Map::new();
        for (operator, key, value) in clauses {
            block.insert(operator, json!({ key: value }));
        }
        Value::Object(block)
    })
}

/// Policy-shaped documents with a mix of valid and invalid elements.
fn policy_like() -> impl Strategy<Value = Value> {
    let statement = (
        prop_oneof![
            12 => prop::sample::select(&["Allow", "Deny"][..]).prop_map(|effect| Some(json!(effect))),
            1 => Just(Some(json!("allow"))),
            1 => json_value().prop_map(Some),
            1 => Just(None),
        ],
        element_value(&ACTIONS),
        prop::bool::weighted(0.2),
        element_value(&RESOURCES),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.3, prop_oneof![Just(json!("*")), prop::sample::select(&PRINCIPALS[..]).prop_map(|principal| json!({ "AWS": principal })), json_value()]),
        prop::option::weighted(0.6, condition_block()),
    )
        .prop_map(|(effect, action, not_action, resource, not_resource, principal, condition)| {
            let mut statement = serde_json::Map::new();
            for (key, value) in [
                ("Effect", effect),
                (if not_action { "NotAction" } else { "Action" }, action),
                (if not_resource { "NotResource" } else { "Resource" }, resource),
                ("Principal", principal),
                ("Condition", condition),
            ] {
                if let Some(value) = value {
                    statement.insert(key.to_string(), value);
                }
            }
            Value::Object(statement)
        });
    let version = prop_oneof![
        8 => Just(Some("2012-10-17")),
        2 => Just(Some("2008-10-17")),
        1 => Just(Some("2013-01-01")),
        2 => Just(None),
    ];
    (version, prop::collection::vec(statement, 1..4)).prop_map(|(version, statements)| {
        let mut document = json!({ "Statement": statements });
        if let Some(version) = version {
            document["Version"] = json!(version);
        }
        document
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn policy_like_documents_never_panic(document in policy_like(), encode in any::<bool>()) {
        parse_and_evaluate(&document, encode);
    }

    #[test]
    fn random_documents_never_panic(document in json_value(), encode in any::<bool>()) {
        parse_and_evaluate(&document, encode);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,64}") {
        let _ = parse_policy_text("random", &text, "random.json");
    }
}

/// Parses `document` as a policy and, when it is one, evaluates and explains
/// a request against it as identity and resource policy, with known and
/// unknown context keys.
fn parse_and_evaluate(document: &Value, encode: bool) {
    let text = document.to_string();
    let text = if encode { percent_encode(&text) } else { text };
    if let Ok(policy) = parse_policy_text("random", &text, "random.json") {
        let set = PolicySet { identity: vec![policy.clone()], resource: Some(policy), ..PolicySet::default() };
        let known = request(known_context());
        rekognition_preflight::iam::explain(&evaluate(&set, &known), &known);
        let unknown = request(known_context().with_unknown_keys(UnknownKeys::default()));
        rekognition_preflight::iam::explain(&evaluate(&set, &unknown), &unknown);
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes().map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") }).collect()
}
