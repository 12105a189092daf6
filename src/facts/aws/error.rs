//! Classification of failed AWS calls: a missing permission, a resource
//! that does not exist, or an error that stops the command.

use aws_sdk_rekognition::config::http::HttpResponse;
use aws_sdk_rekognition::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::finding::Finding;

/// An AWS or runtime error that stops the command: the endpoint cannot be
/// reached, credentials are missing or expired, or the service kept failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// One line that names the call and the endpoint or credential problem.
    pub message: String,
    pub help: String,
}

impl AwsError {
    pub fn to_finding(&self) -> Finding {
        Finding::error("aws::call", self.message.clone()).with_help(self.help.clone())
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AwsError {}

/// A call and what it is for, to name in messages.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// `sts`, `iam` or `rekognition`.
    pub service: &'static str,
    /// The operation, such as `DescribeDataset`.
    pub operation: &'static str,
    /// The resource the call is about; empty when none.
    pub resource: &'a str,
    /// The reason the tool makes the call, completing "the tool needs it to …".
    pub purpose: &'static str,
}

impl Call<'_> {
    /// `rekognition:DescribeDataset`, the IAM action of the call.
    pub fn action(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    fn target(&self) -> String {
        if self.resource.is_empty() { String::new() } else { format!(" on {}", self.resource) }
    }
}

/// The kind of failure of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The caller lacks the permission; the message names it and why the
    /// tool needs it.
    Denied(String),
    /// The resource does not exist.
    NotFound,
    Stop(AwsError),
}

/// Error codes that mean the caller lacks a permission.
const DENIED_CODES: &[&str] = &["AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException"];
/// Error codes that mean the resource does not exist.
const NOT_FOUND_CODES: &[&str] = &["ResourceNotFoundException", "NoSuchEntity", "NoSuchEntityException"];
/// Error codes that mean the credentials are not valid.
const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
];

/// Sorts a failed call. `endpoint` describes where the call went.
pub fn classify<E>(error: &SdkError<E, HttpResponse>, call: Call<'_>, endpoint: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(error).to_string();
    match error {
        SdkError::ServiceError(service_error) => {
            let code = service_error.err().code().unwrap_or("");
            let text = service_error.err().message().unwrap_or("");
            let status = service_error.raw().status().as_u16();
            if DENIED_CODES.contains(&code) {
                return Failure::Denied(format!(
                    "{}{} was denied: the tool needs it to {}",
                    call.action(),
                    call.target(),
                    call.purpose
                ));
            }
            if NOT_FOUND_CODES.contains(&code) {
                return Failure::NotFound;
            }
            if CREDENTIAL_CODES.contains(&code) {
                return Failure::Stop(credentials_error(call, &format!("{code}: {text}")));
            }
            let what = if code.is_empty() { format!("HTTP {status}") } else { format!("{code} (HTTP {status})") };
            let help = if status >= 500 || code.contains("Throttl") {
                format!("the call was retried {} times; wait and run the command again", super::session::MAX_ATTEMPTS - 1)
            } else {
                "check the request and run the command again".to_string()
            };
            Failure::Stop(AwsError { message: format!("{}{} failed at {endpoint}: {what}: {text}", call.action(), call.target()), help })
        }
        _ if mentions_credentials(&detail) => Failure::Stop(credentials_error(call, &detail)),
        SdkError::DispatchFailure(_) => Failure::Stop(AwsError {
            message: format!("{} could not reach {endpoint}: {}", call.action(), connection_reason(&detail)),
            help: "check that the endpoint URL is right and the service is reachable (--endpoint-url, AWS_ENDPOINT_URL, --region)".into(),
        }),
        SdkError::TimeoutError(_) => Failure::Stop(AwsError {
            message: format!("{}{} timed out at {endpoint}", call.action(), call.target()),
            help: "check the network connection to the endpoint and run the command again".into(),
        }),
        _ => Failure::Stop(AwsError {
            message: format!("{}{} failed at {endpoint}: {detail}", call.action(), call.target()),
            help: "run again with --log debug to see the requests".into(),
        }),
    }
}

fn credentials_error(call: Call<'_>, detail: &str) -> AwsError {
    let message = if detail.to_ascii_lowercase().contains("no credentials") {
        format!(
            "no AWS credentials were found for {}: the default chain (environment, shared config and credentials files, \
             SSO, web identity, container and instance metadata) has none",
            call.action()
        )
    } else {
        format!("the AWS credentials for {} are not valid: {}", call.action(), first_line(detail))
    };
    AwsError {
        message,
        help: "configure credentials: run `aws configure` or `aws sso login`, pass --profile NAME, or set \
               AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; try the tool without an account with --emulator examples/world.json"
            .into(),
    }
}

fn mentions_credentials(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    lower.contains("credential") || lower.contains("no identity") || lower.contains("identity resolver")
}

/// Picks the known cause out of a connection error, such as "connection refused".
fn connection_reason(detail: &str) -> String {
    let lower = detail.to_ascii_lowercase();
    for reason in ["connection refused", "dns error", "connection reset", "timed out", "certificate"] {
        if lower.contains(reason) {
            return reason.to_string();
        }
    }
    first_line(detail).to_string()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
