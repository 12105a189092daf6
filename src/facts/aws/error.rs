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
            if code.is_empty() {
                return Failure::Stop(unreadable_response(call, endpoint, status, service_error.raw().body().bytes()));
            }
            let help = if status >= 500 || code.contains("Throttl") {
                format!("the call was retried {} times; wait and run the command again", super::session::MAX_ATTEMPTS - 1)
            } else {
                format!("see the {} documentation for the {code} error of {}, fix the cause and run the command again", call.service.to_uppercase(), call.operation)
            };
            let reason = if text.is_empty() { String::new() } else { format!(": {text}") };
            Failure::Stop(AwsError { message: format!("{}{} failed at {endpoint}: {code} (HTTP {status}){reason}", call.action(), call.target()), help })
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
        SdkError::ResponseError(context) => Failure::Stop(unreadable_response(call, endpoint, context.raw().status().as_u16(), context.raw().body().bytes())),
        _ => Failure::Stop(AwsError {
            message: format!("{}{} failed at {endpoint}: {detail}", call.action(), call.target()),
            help: "run again with --log debug to see the requests".into(),
        }),
    }
}

/// Maximum length of the response body excerpt in a message, in characters.
const EXCERPT_CHARS: usize = 160;

/// Describes a response that the SDK could not read as an AWS response:
/// its status and the start of its body, which is usually the real reason.
fn unreadable_response(call: Call<'_>, endpoint: &str, status: u16, body: Option<&[u8]>) -> AwsError {
    let excerpt = body.map(excerpt).unwrap_or_default();
    let body_text = if excerpt.is_empty() { "an empty body".to_string() } else { format!("the body `{excerpt}`") };
    let message = format!(
        "{}{} failed at {endpoint}: HTTP {status} with {body_text}, which is not an AWS {} response",
        call.action(),
        call.target(),
        call.service.to_uppercase()
    );
    let help = if status >= 500 {
        format!("the call was retried {} times; check the server at {endpoint}, wait and run the command again", super::session::MAX_ATTEMPTS - 1)
    } else {
        format!(
            "check that {endpoint} serves the AWS {} API: --endpoint-url and AWS_ENDPOINT_URL send the STS, IAM \
             and Rekognition calls to one URL, and `rekognition-preflight emulate` serves all three",
            call.service.to_uppercase()
        )
    };
    AwsError { message, help }
}

/// Returns the start of a response body on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= EXCERPT_CHARS {
        return line;
    }
    let mut shortened: String = line.chars().take(EXCERPT_CHARS).collect();
    shortened.push('…');
    shortened
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
