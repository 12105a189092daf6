//! ARN parsing: the generic `arn:partition:service:region:account:resource`
//! form and the typed Rekognition project and dataset ARNs.
//!
//! Every rejection is an [`ArnError`] whose span covers exactly the part that
//! is wrong, as byte offsets into the parsed text that always lie on char
//! boundaries. An empty part gets an empty span at the place where it belongs.

pub mod rekognition;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::finding::Finding;
use crate::source::SourceText;

pub use rekognition::{DatasetArn, DatasetType, ProjectArn};

/// The AWS partitions an ARN may name.
pub const PARTITIONS: [&str; 8] = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

const FORM_HELP: &str = "an ARN has the form `arn:partition:service:region:account:resource`";

/// A parsed ARN with the byte range of each part in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
    pub spans: ArnSpans,
}

/// Byte ranges of the ARN parts in the parsed text, without the colons.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArnSpans {
    pub partition: Range<usize>,
    pub service: Range<usize>,
    pub region: Range<usize>,
    pub account: Range<usize>,
    pub resource: Range<usize>,
}

/// The reason a text is not a valid ARN, with the byte range to underline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ArnError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl Arn {
    /// Parses an ARN of any service.
    ///
    /// The partition must be a known one and the service lowercase. Region
    /// and account may be empty, as in S3 and IAM ARNs, but when present the
    /// region must look like `us-east-1` and the account must be 12 digits or
    /// `aws` (AWS managed IAM policies). The resource must not be empty. No
    /// length limit applies here, because the limits differ between services.
    pub fn parse(text: &str) -> Result<Arn, ArnError> {
        parse_generic(text).map_err(|error| error.visible_in(text))
    }
}

fn parse_generic(text: &str) -> Result<Arn, ArnError> {
    check_whitespace(text)?;
    let parts = split_parts(text)?;
    let [_, partition, service, region, account, resource] = parts;

    check_partition(text, &partition)?;
    check_service(text, &service)?;
    if !region.is_empty() {
        check_region(text, &region)?;
    }
    if !account.is_empty() && slice(text, &account) != "aws" {
        check_account(text, &account)?;
    }
    if resource.is_empty() {
        return Err(ArnError::new("resource is missing after the last `:`", resource).with_help(FORM_HELP));
    }

    Ok(Arn {
        partition: slice(text, &partition).to_string(),
        service: slice(text, &service).to_string(),
        region: slice(text, &region).to_string(),
        account: slice(text, &account).to_string(),
        resource: slice(text, &resource).to_string(),
        spans: ArnSpans { partition, service, region, account, resource },
    })
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(text: &str) -> Result<Arn, ArnError> {
        Arn::parse(text)
    }
}

impl ArnError {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> ArnError {
        ArnError { message: message.into(), span, help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ArnError {
        self.help = Some(help.into());
        self
    }

    /// Sets the help unless the error already has a more specific one.
    pub fn or_help(mut self, help: impl Into<String>) -> ArnError {
        if self.help.is_none() {
            self.help = Some(help.into());
        }
        self
    }

    /// Moves an empty span at the end of `text` onto the character before
    /// it, because miette draws no label past the last character. The error
    /// then underlines the separator after which the missing part belongs.
    pub(crate) fn visible_in(mut self, text: &str) -> ArnError {
        if self.span.is_empty()
            && self.span.start == text.len()
            && let Some(last) = text.chars().next_back()
        {
            self.span = text.len() - last.len_utf8()..text.len();
        }
        self
    }

    /// Builds a diagnostic that underlines the offending part of `source`,
    /// whose text is the ARN that failed to parse.
    pub fn to_finding(&self, code: &str, source: &SourceText) -> Finding {
        let mut finding = Finding::error(code, self.message.clone()).with_label_in(source, self.span.clone(), "here");
        if let Some(help) = &self.help {
            finding = finding.with_help(help.clone());
        }
        finding
    }
}

/// Returns the text of a span that the parser produced, or "" for a span that
/// does not fit the text (which the parser never produces).
fn slice<'t>(text: &'t str, span: &Range<usize>) -> &'t str {
    text.get(span.clone()).unwrap_or_default()
}

/// Rejects leading and trailing whitespace, underlining the whitespace.
fn check_whitespace(text: &str) -> Result<(), ArnError> {
    let trimmed_start = text.trim_start();
    if trimmed_start.is_empty() {
        return Err(ArnError::new("ARN is empty", 0..text.len())
            .with_help("pass the full ARN, e.g. `arn:aws:rekognition:us-east-1:111122223333:project/shelf/dataset/train/1690000000000`"));
    }

    let leading = 0..text.len() - trimmed_start.len();
    if !leading.is_empty() {
        let message = format!("ARN has {}", describe_whitespace(slice(text, &leading), "leading"));
        return Err(ArnError::new(message, leading).with_help(WHITESPACE_HELP));
    }

    let trailing = text.trim_end().len()..text.len();
    if !trailing.is_empty() {
        let message = format!("ARN has {}", describe_whitespace(slice(text, &trailing), "trailing"));
        return Err(ArnError::new(message, trailing).with_help(WHITESPACE_HELP));
    }
    Ok(())
}

const WHITESPACE_HELP: &str = "remove the whitespace around the ARN; it often comes along when copying from a table or a quoted string";

fn describe_whitespace(whitespace: &str, side: &str) -> String {
    let count = whitespace.chars().count();
    if whitespace.chars().all(|c| c == ' ') {
        return if count == 1 { format!("a {side} space") } else { format!("{count} {side} spaces") };
    }
    let names: Vec<String> = whitespace.chars().map(describe_char).collect();
    format!("{side} whitespace: {}", names.join(", "))
}

/// Names a character with its code point, which distinguishes invisible and
/// look-alike characters: "`é` (U+00E9)", "a space (U+0020)", "`\t` (U+0009)".
pub(crate) fn describe_char(c: char) -> String {
    if c == ' ' {
        return "a space (U+0020)".to_string();
    }
    format!("`{}` (U+{:04X})", c.escape_debug(), u32::from(c))
}

/// Returns the 1-based character column of a byte offset in `text`.
pub(crate) fn column(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |before| before.chars().count()) + 1
}

/// Returns the span of the character that starts at byte `offset`.
pub(crate) fn char_span(text: &str, offset: usize) -> Range<usize> {
    let width = text.get(offset..).and_then(|rest| rest.chars().next()).map_or(0, char::len_utf8);
    offset..offset + width
}

/// Splits at the first five colons into the prefix and the five parts.
fn split_parts(text: &str) -> Result<[Range<usize>; 6], ArnError> {
    let mut parts: [Range<usize>; 6] = Default::default();
    let mut count = 0;
    let mut start = 0;
    for (index, _) in text.match_indices(':') {
        if count == 5 {
            break;
        }
        parts[count] = start..index;
        count += 1;
        start = index + 1;
    }
    parts[count] = start..text.len();
    count += 1;

    check_prefix(text, &parts[0])?;
    if count < 6 {
        let message = format!("ARN has {count} colon-separated parts, but it needs 6");
        return Err(ArnError::new(message, 0..text.len()).with_help(FORM_HELP));
    }
    Ok(parts)
}

fn check_prefix(text: &str, prefix: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, prefix);
    if found == "arn" {
        return Ok(());
    }
    let message = if found.eq_ignore_ascii_case("arn") {
        format!("ARN must start with lowercase `arn:`, found `{found}:`")
    } else {
        format!("ARN must start with `arn:`, found `{found}`")
    };
    Err(ArnError::new(message, prefix.clone()).with_help(FORM_HELP))
}

fn check_partition(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, span);
    if PARTITIONS.contains(&found) {
        return Ok(());
    }
    let message = if found.is_empty() {
        format!("partition is missing; expected one of {}", PARTITIONS.join(", "))
    } else {
        format!("unknown partition `{found}`; expected one of {}", PARTITIONS.join(", "))
    };
    Err(ArnError::new(message, span.clone())
        .with_help("commercial regions use `aws`, China `aws-cn` and AWS GovCloud (US) `aws-us-gov`"))
}

fn check_service(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, span);
    if found.is_empty() {
        return Err(ArnError::new("service is missing", span.clone()).with_help(FORM_HELP));
    }
    if found.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Ok(());
    }
    let message = format!("service must be lowercase letters, digits and `-`, found `{found}`");
    Err(ArnError::new(message, span.clone()).with_help(FORM_HELP))
}

/// Checks the region shape `[a-z]{2,}(-[a-z]+)+-[0-9]+`. The first piece may
/// be longer than two letters because the European Sovereign Cloud region is
/// `eusc-de-east-1`.
pub(crate) fn check_region(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, span);
    if found.is_empty() {
        return Err(ArnError::new("region is missing; Rekognition ARNs name a region such as `us-east-1`", span.clone())
            .with_help("put the region of the project between the service and the account"));
    }
    if is_region(found) {
        return Ok(());
    }
    let message = if is_region(&found.to_ascii_lowercase()) {
        format!("region must be lowercase, found `{found}`")
    } else {
        format!("region must look like `us-east-1`, found `{found}`")
    };
    Err(ArnError::new(message, span.clone()).with_help("regions are written like `us-east-1`, `us-gov-west-1` or `cn-north-1`"))
}

fn is_region(text: &str) -> bool {
    let pieces: Vec<&str> = text.split('-').collect();
    let [first, middle @ .., last] = pieces.as_slice() else {
        return false;
    };
    let letters = |piece: &str| !piece.is_empty() && piece.bytes().all(|b| b.is_ascii_lowercase());
    first.len() >= 2
        && letters(first)
        && !middle.is_empty()
        && middle.iter().all(|piece| letters(piece))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// Checks that the account is exactly 12 ASCII digits.
pub(crate) fn check_account(text: &str, span: &Range<usize>) -> Result<(), ArnError> {
    let found = slice(text, span);
    if found.is_empty() {
        return Err(ArnError::new("account is missing; expected a 12-digit AWS account ID", span.clone())
            .with_help("put the 12-digit account ID that owns the project between the region and the resource"));
    }

    let non_digit = found.chars().find(|c| !c.is_ascii_digit());
    let message = match non_digit {
        Some(c) => format!("account must be exactly 12 digits, found `{found}`, which contains {}", describe_char(c)),
        None if found.len() != 12 => format!("account must be exactly 12 digits, found `{found}` ({} digits)", found.len()),
        None => return Ok(()),
    };
    Err(ArnError::new(message, span.clone())
        .with_help("copy the account ID from `aws sts get-caller-identity`; account IDs keep their leading zeros"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_arn_keeps_part_spans() {
        let text = "arn:aws:s3:::bucket/key:with:colons";
        let arn = Arn::parse(text).unwrap();
        assert_eq!(arn.service, "s3");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account, "");
        assert_eq!(arn.resource, "bucket/key:with:colons");
        assert_eq!(&text[arn.spans.resource.clone()], "bucket/key:with:colons");
        assert_eq!(arn.to_string(), text);
    }

    #[test]
    fn generic_arn_accepts_aws_account() {
        let arn = Arn::parse("arn:aws:iam::aws:policy/AmazonRekognitionFullAccess").unwrap();
        assert_eq!(arn.account, "aws");
    }

    #[test]
    fn region_shapes() {
        for region in ["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "us-isob-east-1"] {
            assert!(is_region(region), "{region}");
        }
        for region in ["us-east", "u-east-1", "us-1", "us--1", "us-east-1a", "US-EAST-1", "us_east_1"] {
            assert!(!is_region(region), "{region}");
        }
    }
}
