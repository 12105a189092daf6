//! ARN parsing: fixture tables of valid and invalid ARNs, snapshots of the
//! rendered diagnostics, and property tests over arbitrary input.

use std::ops::Range;
use std::sync::LazyLock;

use proptest::prelude::*;
use regex::Regex;
use rekognition_preflight::arn::{Arn, ArnError, DatasetArn, DatasetType, ProjectArn};
use rekognition_preflight::source::SourceText;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidRow {
    name: String,
    kind: Kind,
    arn: String,
    partition: Option<String>,
    region: Option<String>,
    account: Option<String>,
    project: Option<String>,
    dataset_type: Option<String>,
    creation_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidRow {
    name: String,
    kind: Kind,
    arn: String,
    /// A substring of the expected message.
    message: String,
    /// The exact text the error span covers.
    underlined: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Arn,
    Project,
    Dataset,
}

/// The fields every kind of ARN shares, for comparing against a row.
struct Parsed {
    display: String,
    arn: Arn,
    project: Option<String>,
    dataset_type: Option<DatasetType>,
    creation_time: Option<String>,
}

fn parse(kind: Kind, text: &str) -> Result<Parsed, ArnError> {
    match kind {
        Kind::Arn => Arn::parse(text).map(|arn| Parsed {
            display: arn.to_string(),
            arn,
            project: None,
            dataset_type: None,
            creation_time: None,
        }),
        Kind::Project => ProjectArn::parse(text).map(|project| Parsed {
            display: project.to_string(),
            project: Some(project.name.clone()),
            dataset_type: None,
            creation_time: Some(project.creation_time.clone()),
            arn: project.arn,
        }),
        Kind::Dataset => DatasetArn::parse(text).map(|dataset| Parsed {
            display: dataset.to_string(),
            project: Some(dataset.project.clone()),
            dataset_type: Some(dataset.dataset_type),
            creation_time: Some(dataset.creation_time.clone()),
            arn: dataset.arn,
        }),
    }
}

/// Expands `{x*N}` into N copies of `x`, so that fixtures can hold ARNs of
/// 2,000 characters without spelling them out.
fn expand(text: &str) -> String {
    static REPEAT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{(.)\*([0-9]+)\}").unwrap());
    REPEAT
        .replace_all(text, |captures: &regex::Captures<'_>| {
            let count: usize = captures[2].parse().unwrap();
            captures[1].repeat(count)
        })
        .into_owned()
}

fn load<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    let path = format!("{}/tests/fixtures/arn/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check_expected(row: &str, field: &str, expected: &Option<String>, actual: Option<&str>) {
    if let Some(expected) = expected {
        assert_eq!(actual, Some(expand(expected).as_str()), "{row}: {field}");
    }
}

#[test]
fn valid_table_parses() {
    let rows: Vec<ValidRow> = load("valid.json");
    assert!(rows.len() >= 15);

    for row in &rows {
        let text = expand(&row.arn);
        let parsed = match parse(row.kind, &text) {
            Ok(parsed) => parsed,
            Err(error) => panic!("{}: rejected with `{}`", row.name, error.message),
        };
        assert_eq!(parsed.display, text, "{}: display round trip", row.name);
        check_expected(&row.name, "partition", &row.partition, Some(&parsed.arn.partition));
        check_expected(&row.name, "region", &row.region, Some(&parsed.arn.region));
        check_expected(&row.name, "account", &row.account, Some(&parsed.arn.account));
        check_expected(&row.name, "project", &row.project, parsed.project.as_deref());
        check_expected(&row.name, "creation_time", &row.creation_time, parsed.creation_time.as_deref());
        let dataset_type = parsed.dataset_type.map(|value| value.to_string());
        check_expected(&row.name, "dataset_type", &row.dataset_type, dataset_type.as_deref());

        let spans = &parsed.arn.spans;
        assert_eq!(&text[spans.partition.clone()], parsed.arn.partition, "{}: partition span", row.name);
        assert_eq!(&text[spans.service.clone()], parsed.arn.service, "{}: service span", row.name);
        assert_eq!(&text[spans.region.clone()], parsed.arn.region, "{}: region span", row.name);
        assert_eq!(&text[spans.account.clone()], parsed.arn.account, "{}: account span", row.name);
        assert_eq!(&text[spans.resource.clone()], parsed.arn.resource, "{}: resource span", row.name);
    }
}

#[test]
fn invalid_table_is_rejected() {
    let rows: Vec<InvalidRow> = load("invalid.json");
    assert!(rows.len() >= 30);

    for row in &rows {
        let text = expand(&row.arn);
        let error = match parse(row.kind, &text) {
            Ok(parsed) => panic!("{}: accepted as `{}`", row.name, parsed.display),
            Err(error) => error,
        };
        let expected_message = expand(&row.message);
        assert!(
            error.message.contains(&expected_message),
            "{}: message `{}` does not contain `{expected_message}`",
            row.name,
            error.message
        );
        let underlined = text.get(error.span.clone());
        assert_eq!(underlined, Some(expand(&row.underlined).as_str()), "{}: underlined text", row.name);
        assert!(error.help.is_some(), "{}: no help", row.name);
    }
}

#[test]
fn dataset_helpers_compare_projects() {
    let train = DatasetArn::parse("arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train/1690000000000").unwrap();
    let test = DatasetArn::parse("arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/test/1690000000001").unwrap();
    let other = DatasetArn::parse("arn:aws:rekognition:us-west-2:111122223333:project/shelf/dataset/test/1690000000001").unwrap();
    let project = ProjectArn::parse("arn:aws:rekognition:us-east-1:111122223333:project/shelf/1689999999999").unwrap();

    assert!(train.same_project(&test));
    assert!(!train.same_project(&other));
    assert!(train.belongs_to(&project));
    assert!(!other.belongs_to(&project));
    assert_eq!(train.project_arn_prefix(), "arn:aws:rekognition:us-east-1:111122223333:project/shelf/");
    assert!(project.to_string().starts_with(&train.project_arn_prefix()));
}

#[test]
fn typed_spans_cover_their_segments() {
    let text = "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/test/1690000000001";
    let dataset = DatasetArn::parse(text).unwrap();
    assert_eq!(&text[dataset.project_span.clone()], "shelf");
    assert_eq!(&text[dataset.dataset_type_span.clone()], "test");
    assert_eq!(&text[dataset.creation_time_span.clone()], "1690000000001");

    let text = "arn:aws:rekognition:us-east-1:111122223333:project/shelf/1689999999999";
    let project = ProjectArn::parse(text).unwrap();
    assert_eq!(&text[project.name_span.clone()], "shelf");
    assert_eq!(&text[project.creation_time_span.clone()], "1689999999999");
}

fn render(text: &str, error: &ArnError) -> String {
    let source = SourceText::new("--test", text);
    let finding = error.to_finding("input::invalid_arn", &source);
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, &finding)
        .unwrap();
    out
}

macro_rules! snapshot_case {
    ($test:ident, $text:expr) => {
        #[test]
        fn $test() {
            let text: &str = $text;
            let error = DatasetArn::parse(text).unwrap_err();
            insta::assert_snapshot!(stringify!($test), render(text, &error));
        }
    };
}

snapshot_case!(renders_trailing_space, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train/1690000000000 ");
snapshot_case!(renders_wrong_service, "arn:aws:s3:us-east-1:111122223333:project/shelf/dataset/train/1690000000000");
snapshot_case!(renders_short_account, "arn:aws:rekognition:us-east-1:11112222333:project/shelf/dataset/train/1690000000000");
snapshot_case!(renders_non_ascii_name, "arn:aws:rekognition:us-east-1:111122223333:project/sh\u{e9}lf/dataset/train/1690000000000");
snapshot_case!(renders_validation_dataset_type, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/validation/1690000000000");
snapshot_case!(renders_uppercase_dataset_type, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/TRAIN/1690000000000");
snapshot_case!(renders_missing_creation_time, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train");
snapshot_case!(renders_project_arn_for_dataset, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/1689999999999");
snapshot_case!(renders_unknown_partition, "arn:aws-eu:rekognition:eu-west-1:111122223333:project/shelf/dataset/train/1690000000000");
snapshot_case!(renders_extra_path_segment, "arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train/1690000000000/extra");
snapshot_case!(renders_missing_parts, "arn:aws:rekognition:us-east-1:111122223333");

/// Asserts the span invariants that every rejection must keep.
fn check_span(text: &str, span: &Range<usize>) -> Result<(), TestCaseError> {
    prop_assert!(span.start <= span.end, "span {span:?} is reversed");
    prop_assert!(span.end <= text.len(), "span {span:?} is past the end of {} bytes", text.len());
    prop_assert!(text.is_char_boundary(span.start), "span start {} is inside a char", span.start);
    prop_assert!(text.is_char_boundary(span.end), "span end {} is inside a char", span.end);
    Ok(())
}

/// Parses `text` as all three kinds, checking error spans and round trips.
fn check_all_kinds(text: &str) -> Result<(), TestCaseError> {
    match Arn::parse(text) {
        Ok(arn) => prop_assert_eq!(arn.to_string(), text),
        Err(error) => check_span(text, &error.span)?,
    }
    match ProjectArn::parse(text) {
        Ok(project) => prop_assert_eq!(project.to_string(), text),
        Err(error) => check_span(text, &error.span)?,
    }
    match DatasetArn::parse(text) {
        Ok(dataset) => prop_assert_eq!(dataset.to_string(), text),
        Err(error) => check_span(text, &error.span)?,
    }
    Ok(())
}

fn piece(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(choices).prop_map(str::to_string),
        1 => "\\PC{0,6}",
    ]
}

/// ARN-like text: mostly well-formed pieces, sometimes arbitrary ones.
fn arn_like() -> impl Strategy<Value = String> {
    (
        piece(&["arn", "ARN", ""]),
        piece(&["aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-eu"]),
        piece(&["rekognition", "s3", "Rekognition"]),
        piece(&["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "US-EAST-1", ""]),
        piece(&["111122223333", "11112222333", "aws", ""]),
        piece(&["project/shelf", "project/sh\u{e9}lf", "project/", "model/x", "project/a.b_c-d"]),
        piece(&["/dataset/train/1690000000000", "/dataset/test/1", "/dataset/TRAIN/1", "/1689999999999", "/dataset/train", "/dataset/train/1/x", ""]),
    )
        .prop_map(|(prefix, partition, service, region, account, project, tail)| {
            format!("{prefix}:{partition}:{service}:{region}:{account}:{project}{tail}")
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, char),
    Remove(usize),
    Replace(usize, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let character = prop_oneof![
        proptest::sample::select(vec![':', '/', ' ', '\t', '\u{e9}', '\u{1f642}', '\u{200b}', 'a', '0']),
        any::<char>(),
    ];
    prop_oneof![
        (any::<usize>(), character.clone()).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), character).prop_map(|(at, c)| Mutation::Replace(at, c)),
    ]
}

/// Applies a mutation at a character index taken modulo the text length.
fn mutate(text: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let count = chars.len();
    match *mutation {
        Mutation::Insert(at, c) => chars.insert(at % (count + 1), c),
        Mutation::Remove(at) if count > 0 => {
            chars.remove(at % count);
        }
        Mutation::Replace(at, c) if count > 0 => chars[at % count] = c,
        Mutation::Remove(_) | Mutation::Replace(..) => {}
    }
    chars.into_iter().collect()
}

fn valid_dataset_arn() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&rekognition_preflight::arn::PARTITIONS[..]),
        "[a-z]{2,4}(-[a-z]{1,9}){1,2}-[0-9]{1,2}",
        "[0-9]{12}",
        "[a-zA-Z0-9_.-]{1,255}",
        proptest::sample::select(&["train", "test"][..]),
        "[0-9]{1,20}",
    )
        .prop_map(|(partition, region, account, name, dataset_type, time)| {
            format!("arn:{partition}:rekognition:{region}:{account}:project/{name}/dataset/{dataset_type}/{time}")
        })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_all_kinds(&text)?;
    }

    #[test]
    fn mutated_arns_keep_span_invariants(
        text in arn_like(),
        mutations in proptest::collection::vec(mutation(), 0..4),
    ) {
        let mutated = mutations.iter().fold(text, |text, mutation| mutate(&text, mutation));
        check_all_kinds(&mutated)?;
    }

    #[test]
    fn generated_dataset_arns_round_trip(text in valid_dataset_arn()) {
        let dataset = DatasetArn::parse(&text);
        prop_assert!(dataset.is_ok(), "rejected: {:?}", dataset.err());
        if let Ok(dataset) = dataset {
            prop_assert_eq!(dataset.to_string(), text);
        }
    }
}
