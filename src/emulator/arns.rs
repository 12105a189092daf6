//! The ARN patterns that the Rekognition service model declares for
//! `ProjectArn` and `DatasetArn`. The emulator checks requests against these
//! patterns itself, as the service does, instead of using the crate's
//! diagnostic ARN parser.

/// The parts of
/// `arn:PARTITION:rekognition:REGION:ACCOUNT:project/NAME/dataset/(train|test)/DIGITS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetArnParts {
    pub region: String,
    pub account: String,
    pub project: String,
    pub dataset_type: DatasetType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetType {
    Train,
    Test,
}

impl DatasetType {
    /// Returns the `DatasetType` value on the wire.
    pub fn as_wire(self) -> &'static str {
        match self {
            DatasetType::Train => "TRAIN",
            DatasetType::Test => "TEST",
        }
    }

    /// Returns the path segment used in dataset ARNs.
    pub fn as_path(self) -> &'static str {
        match self {
            DatasetType::Train => "train",
            DatasetType::Test => "test",
        }
    }

    pub fn from_wire(text: &str) -> Option<DatasetType> {
        match text {
            "TRAIN" => Some(DatasetType::Train),
            "TEST" => Some(DatasetType::Test),
            _ => None,
        }
    }
}

/// Matches `(^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.\-]{1,255}\/dataset\/(train|test)\/[0-9]+$)`.
pub fn parse_dataset_arn(text: &str) -> Option<DatasetArnParts> {
    let (region, account, resource) = split_rekognition_arn(text)?;
    let rest = resource.strip_prefix("project/")?;
    let mut parts = rest.split('/');
    let project = parts.next()?;
    let dataset = parts.next()?;
    let kind = parts.next()?;
    let time = parts.next()?;
    if parts.next().is_some() || dataset != "dataset" || !is_project_name(project) || !is_digits(time) {
        return None;
    }
    let dataset_type = match kind {
        "train" => DatasetType::Train,
        "test" => DatasetType::Test,
        _ => return None,
    };
    Some(DatasetArnParts { region: region.into(), account: account.into(), project: project.into(), dataset_type })
}

/// Matches `(^arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project\/[a-zA-Z0-9_.\-]{1,255}\/[0-9]+$)`
/// and returns the project name.
pub fn parse_project_arn(text: &str) -> Option<String> {
    let (_, _, resource) = split_rekognition_arn(text)?;
    let (project, time) = resource.strip_prefix("project/")?.split_once('/')?;
    (is_project_name(project) && is_digits(time)).then(|| project.to_string())
}

/// Matches the `ProjectName` pattern `[a-zA-Z0-9_.\-]+`, 1 to 255 characters.
pub fn is_project_name(text: &str) -> bool {
    (1..=255).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"_.-".contains(&byte))
}

fn split_rekognition_arn(text: &str) -> Option<(&str, &str, &str)> {
    if !(20..=2048).contains(&text.len()) {
        return None;
    }
    let mut parts = text.splitn(6, ':');
    let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let lower = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    let valid = prefix == "arn" && lower(partition) && service == "rekognition" && lower(region) && account.len() == 12 && is_digits(account);
    valid.then_some((region, account, resource))
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_arn_patterns() {
        let cases = [
            ("arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/train/1690564858106", Some(DatasetType::Train)),
            ("arn:aws-cn:rekognition:cn-north-1:111122223333:project/a.b_c-d/dataset/test/1", Some(DatasetType::Test)),
            ("arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/validation/1", None),
            ("arn:aws:rekognition:us-east-1:11112222333:project/p/dataset/train/1", None),
            ("arn:aws:s3:us-east-1:111122223333:project/p/dataset/train/1", None),
            ("arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/train/1x", None),
            ("arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/train/1/extra", None),
            ("arn:aws:rekognition:us-east-1:111122223333:project/p/1690564858106", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_dataset_arn(text).map(|parts| parts.dataset_type), expected, "{text}");
        }
    }

    #[test]
    fn project_arn_patterns() {
        assert_eq!(parse_project_arn("arn:aws:rekognition:us-east-1:111122223333:project/p/1690564850000").as_deref(), Some("p"));
        assert_eq!(parse_project_arn("arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/train/1"), None);
    }
}
