//! Typed Rekognition Custom Labels ARNs.
//!
//! The constraints are those of the Rekognition API reference: project names
//! match `[a-zA-Z0-9_.-]{1,255}`, the account has 12 digits, the creation
//! time is all digits, and a whole ARN is 20 to 2048 characters long.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use super::{Arn, ArnError, char_span, check_account, check_region, column, describe_char, slice};

pub const MIN_LENGTH: usize = 20;
pub const MAX_LENGTH: usize = 2048;
pub const MAX_NAME_LENGTH: usize = 255;

const DATASET_HELP: &str = "copy the DatasetArn from `aws rekognition describe-projects --project-names NAME`, under `Datasets`";
const PROJECT_HELP: &str = "copy the ProjectArn from `aws rekognition describe-projects --project-names NAME`";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetType {
    Train,
    Test,
}

impl fmt::Display for DatasetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatasetType::Train => "train",
            DatasetType::Test => "test",
        })
    }
}

/// `arn:{partition}:rekognition:{region}:{account}:project/{name}/dataset/{train|test}/{creation-time}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetArn {
    pub arn: Arn,
    pub project: String,
    pub dataset_type: DatasetType,
    /// Milliseconds since the Unix epoch, as written in the ARN.
    pub creation_time: String,
    pub project_span: Range<usize>,
    pub dataset_type_span: Range<usize>,
    pub creation_time_span: Range<usize>,
}

/// `arn:{partition}:rekognition:{region}:{account}:project/{name}/{creation-time}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectArn {
    pub arn: Arn,
    pub name: String,
    /// Milliseconds since the Unix epoch, as written in the ARN.
    pub creation_time: String,
    pub name_span: Range<usize>,
    pub creation_time_span: Range<usize>,
}

impl DatasetArn {
    pub fn parse(text: &str) -> Result<DatasetArn, ArnError> {
        parse_dataset(text).map_err(|error| error.or_help(DATASET_HELP).visible_in(text))
    }

    /// Returns the text that every ARN of the project starts with,
    /// `arn:…:project/{name}/`. A dataset ARN does not contain the project's
    /// creation time, so this is a prefix and not the project ARN.
    pub fn project_arn_prefix(&self) -> String {
        let arn = &self.arn;
        format!("arn:{}:rekognition:{}:{}:project/{}/", arn.partition, arn.region, arn.account, self.project)
    }

    /// Tells whether both datasets belong to the same project: same
    /// partition, region, account and project name.
    pub fn same_project(&self, other: &DatasetArn) -> bool {
        same_location(&self.arn, &other.arn) && self.project == other.project
    }

    /// Tells whether the dataset belongs to `project`.
    // NOTE: a dataset ARN carries only the project name, so a dataset of a
    // deleted project with the same name also matches.
    pub fn belongs_to(&self, project: &ProjectArn) -> bool {
        same_location(&self.arn, &project.arn) && self.project == project.name
    }
}

impl ProjectArn {
    pub fn parse(text: &str) -> Result<ProjectArn, ArnError> {
        parse_project(text).map_err(|error| error.or_help(PROJECT_HELP).visible_in(text))
    }
}

impl fmt::Display for DatasetArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.arn.fmt(f)
    }
}

impl fmt::Display for ProjectArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.arn.fmt(f)
    }
}

impl FromStr for DatasetArn {
    type Err = ArnError;

    fn from_str(text: &str) -> Result<DatasetArn, ArnError> {
        DatasetArn::parse(text)
    }
}

impl FromStr for ProjectArn {
    type Err = ArnError;

    fn from_str(text: &str) -> Result<ProjectArn, ArnError> {
        ProjectArn::parse(text)
    }
}

fn same_location(left: &Arn, right: &Arn) -> bool {
    left.partition == right.partition && left.region == right.region && left.account == right.account
}

fn parse_dataset(text: &str) -> Result<DatasetArn, ArnError> {
    let arn = parse_rekognition(text, "dataset ARN")?;
    let segments = split_path(text, &arn.spans.resource);
    let resource_end = arn.spans.resource.end;
    let (project, project_span) = parse_project_prefix(text, &segments, resource_end)?;

    let Some(keyword) = segments.get(2) else {
        let message = "resource ends after the project name; a dataset ARN continues with `/dataset/{train|test}/{creation-time}`";
        return Err(ArnError::new(message, last_segment(&segments, resource_end)));
    };
    if slice(text, keyword) != "dataset" {
        return Err(not_dataset_keyword(text, &segments, &arn.spans.resource));
    }

    let Some(type_span) = segments.get(3) else {
        let message = "dataset type is missing; expected `/train` or `/test` after `dataset`";
        return Err(ArnError::new(message, last_segment(&segments, resource_end)));
    };
    let dataset_type = parse_dataset_type(text, type_span)?;

    let Some(time_span) = segments.get(4) else {
        let message = "creation time is missing after the dataset type; a dataset ARN ends in `/dataset/{train|test}/{creation-time}`";
        return Err(ArnError::new(message, last_segment(&segments, resource_end)));
    };
    check_creation_time(text, time_span)?;
    check_no_extra_segments(text, &segments, 5, "dataset ARN")?;

    Ok(DatasetArn {
        project,
        dataset_type,
        creation_time: slice(text, time_span).to_string(),
        project_span,
        dataset_type_span: type_span.clone(),
        creation_time_span: time_span.clone(),
        arn,
    })
}

fn parse_project(text: &str) -> Result<ProjectArn, ArnError> {
    let arn = parse_rekognition(text, "project ARN")?;
    let segments = split_path(text, &arn.spans.resource);
    let resource_end = arn.spans.resource.end;
    let (name, name_span) = parse_project_prefix(text, &segments, resource_end)?;

    let Some(time_span) = segments.get(2) else {
        let message = "creation time is missing after the project name; a project ARN ends in `project/{name}/{creation-time}`";
        return Err(ArnError::new(message, last_segment(&segments, resource_end)));
    };
    if slice(text, time_span) == "dataset" && segments.len() > 3 {
        let span = time_span.start.saturating_sub(1)..resource_end;
        return Err(ArnError::new("this is a dataset ARN, but a project ARN is expected here", span).with_help(
            "a project ARN ends in `project/{name}/{creation-time}`, with the project's own creation time; copy the ProjectArn from `aws rekognition describe-projects`",
        ));
    }
    check_creation_time(text, time_span)?;
    check_no_extra_segments(text, &segments, 3, "project ARN")?;

    Ok(ProjectArn {
        name,
        creation_time: slice(text, time_span).to_string(),
        name_span,
        creation_time_span: time_span.clone(),
        arn,
    })
}

/// Applies the checks that project and dataset ARNs share: whitespace,
/// length, the generic form, service `rekognition`, a region and an account.
fn parse_rekognition(text: &str, kind: &str) -> Result<Arn, ArnError> {
    super::check_whitespace(text)?;
    check_length(text, kind)?;
    let arn = Arn::parse(text)?;

    if arn.service != "rekognition" {
        let message = format!("service must be `rekognition`, found `{}`", arn.service);
        return Err(ArnError::new(message, arn.spans.service.clone()));
    }
    check_region(text, &arn.spans.region)?;
    check_account(text, &arn.spans.account)?;
    Ok(arn)
}

fn check_length(text: &str, kind: &str) -> Result<(), ArnError> {
    let length = text.chars().count();
    if length < MIN_LENGTH {
        let message = format!("{kind} is {length} characters long; the minimum is {MIN_LENGTH}");
        return Err(ArnError::new(message, 0..text.len()));
    }
    if length > MAX_LENGTH {
        let excess_start = text.char_indices().nth(MAX_LENGTH).map_or(text.len(), |(index, _)| index);
        let message = format!("{kind} is {length} characters long; the maximum is {MAX_LENGTH}, and the part past it is underlined");
        return Err(ArnError::new(message, excess_start..text.len()));
    }
    Ok(())
}

/// Returns the span of the last resource segment, which a missing segment
/// follows, so that the error underlines where the text stops.
fn last_segment(segments: &[Range<usize>], resource_end: usize) -> Range<usize> {
    segments.last().cloned().unwrap_or(resource_end..resource_end)
}

/// Splits `range` of `text` at `/` into the byte ranges of the segments.
fn split_path(text: &str, range: &Range<usize>) -> Vec<Range<usize>> {
    let mut segments = Vec::new();
    let mut start = range.start;
    for (index, _) in slice(text, range).match_indices('/') {
        segments.push(start..range.start + index);
        start = range.start + index + 1;
    }
    segments.push(start..range.end);
    segments
}

/// Checks the `project/{name}` start of the resource and returns the name.
fn parse_project_prefix(text: &str, segments: &[Range<usize>], resource_end: usize) -> Result<(String, Range<usize>), ArnError> {
    let first = segments.first().cloned().unwrap_or(resource_end..resource_end);
    let found = slice(text, &first);
    if found != "project" {
        let message = format!("resource must start with `project/`, found `{found}`");
        return Err(ArnError::new(message, first.clone()));
    }

    let Some(name_span) = segments.get(1) else {
        return Err(ArnError::new("project name is missing after `project`", first));
    };
    check_project_name(text, name_span)?;
    Ok((slice(text, name_span).to_string(), name_span.clone()))
}

fn check_project_name(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let name = slice(text, span);
    if name.is_empty() {
        return Err(ArnError::new("project name is empty", span.clone()));
    }

    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if let Some((offset, c)) = name.char_indices().find(|(_, c)| !allowed(*c)) {
        let at = span.start + offset;
        let message = format!(
            "project name contains {} at column {}, which is not allowed; names use a-z, A-Z, 0-9, `_`, `.` and `-`",
            describe_char(c),
            column(text, at)
        );
        return Err(ArnError::new(message, char_span(text, at)));
    }

    let length = name.len();
    if length > MAX_NAME_LENGTH {
        let message = format!("project name is {length} characters long; the maximum is {MAX_NAME_LENGTH}");
        return Err(ArnError::new(message, span.clone()));
    }
    Ok(())
}

fn parse_dataset_type(text: &str, span: &Range<usize>) -> Result<DatasetType, ArnError> {
    match slice(text, span) {
        "train" => Ok(DatasetType::Train),
        "test" => Ok(DatasetType::Test),
        found if found.eq_ignore_ascii_case("train") || found.eq_ignore_ascii_case("test") => {
            let message = format!("dataset type must be lowercase `{}`, found `{found}`", found.to_ascii_lowercase());
            Err(ArnError::new(message, span.clone()).with_help(
                "the API's DatasetType values are `TRAIN` and `TEST`, but ARNs write them in lowercase; copy the DatasetArn from `aws rekognition describe-projects`",
            ))
        }
        "" => Err(ArnError::new("dataset type is empty; expected `train` or `test`", span.clone())),
        found => {
            let message = format!("dataset type must be `train` or `test`, found `{found}`");
            Err(ArnError::new(message, span.clone()).with_help(
                "a Custom Labels project has one `train` and one `test` dataset; pass the `train` ARN with --train and the `test` ARN with --test",
            ))
        }
    }
}

fn check_creation_time(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, span);
    if found.is_empty() {
        return Err(ArnError::new("creation time is empty; expected the digits of a timestamp in milliseconds", span.clone()));
    }
    if let Some(c) = found.chars().find(|c| !c.is_ascii_digit()) {
        let message = format!("creation time must be all digits, found `{found}`, which contains {}", describe_char(c));
        return Err(ArnError::new(message, span.clone()));
    }
    Ok(())
}

/// Rejects anything after segment `expected` of the resource, underlining
/// it from the `/` that starts it.
fn check_no_extra_segments(text: &str, segments: &[Range<usize>], expected: usize, kind: &str) -> Result<(), ArnError> {
    let (Some(first_extra), Some(last)) = (segments.get(expected), segments.last()) else {
        return Ok(());
    };
    let span = first_extra.start.saturating_sub(1)..last.end;
    let message = format!("{kind} has extra path segments after the creation time: `{}`", slice(text, &span));
    Err(ArnError::new(message, span))
}

/// Explains a third resource segment that is not `dataset`, which is most
/// often a project ARN passed where a dataset ARN belongs.
fn not_dataset_keyword(text: &str, segments: &[Range<usize>], resource: &Range<usize>) -> ArnError {
    let Some(third) = segments.get(2) else {
        return ArnError::new("expected `dataset` after the project name", resource.clone());
    };
    let found = slice(text, third);
    let looks_like_project = segments.len() == 3 && !found.is_empty() && found.bytes().all(|b| b.is_ascii_digit());
    if looks_like_project {
        return ArnError::new("this is a project ARN, but a dataset ARN is expected here", resource.clone()).with_help(
            "pass the DatasetArn of the project's train or test dataset, listed under `Datasets` in `aws rekognition describe-projects --project-names NAME`",
        );
    }
    let message = format!("expected `dataset` after the project name, found `{found}`");
    ArnError::new(message, third.clone()).with_help("project names cannot contain `/`; a dataset ARN continues with `/dataset/{train|test}/{creation-time}`")
}
