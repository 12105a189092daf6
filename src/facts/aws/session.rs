//! The AWS session: credentials, Region, endpoints, retries and timeouts,
//! resolved by aws-config's default chain as every AWS SDK tool does.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rekognition::config::{Credentials, SharedCredentialsProvider};

use crate::cli::AwsArgs;

/// Attempts per call, the first included. Standard retry mode retries
/// throttling errors and 5xx responses with exponential backoff and jitter.
pub const MAX_ATTEMPTS: u32 = 4;
/// Time to open a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Time for one call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The three clients the tool uses, built from one configuration.
#[derive(Debug, Clone)]
pub struct Session {
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub rekognition: aws_sdk_rekognition::Client,
    /// The Region calls go to, when one is configured.
    pub region: Option<String>,
    /// The endpoint of each service, for error messages.
    pub endpoints: Endpoints,
    /// `aws` for the live service, `emulator` for `--emulator`.
    pub mode: &'static str,
}

/// The endpoint of each service as configured, or `None` for the default
/// endpoint of the Region.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub sts: Option<String>,
    pub iam: Option<String>,
    pub rekognition: Option<String>,
}

impl Endpoints {
    /// Describes where a service's calls go, for an error message.
    pub fn describe(&self, service: &str, region: Option<&str>) -> String {
        let configured = match service {
            "sts" => &self.sts,
            "iam" => &self.iam,
            _ => &self.rekognition,
        };
        match (configured, region) {
            (Some(url), _) => url.clone(),
            (None, Some(region)) => format!("the default {service} endpoint in {region}"),
            (None, None) => format!("the default {service} endpoint"),
        }
    }
}

/// Builds the session for the live service: the default credential and
/// Region chain, adjusted by `--profile`, `--region` and `--endpoint-url`.
/// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are read by aws-config.
pub async fn live(args: &AwsArgs) -> Session {
    let mut loader = aws_config::defaults(BehaviorVersion::v2026_11_17())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;

    let endpoints = Endpoints {
        sts: configured_endpoint(&config, args, "STS"),
        iam: configured_endpoint(&config, args, "IAM"),
        rekognition: configured_endpoint(&config, args, "REKOGNITION"),
    };
    Session {
        sts: aws_sdk_sts::Client::new(&config),
        iam: aws_sdk_iam::Client::new(&config),
        rekognition: aws_sdk_rekognition::Client::new(&config),
        region: config.region().map(|region| region.to_string()),
        endpoints,
        mode: "aws",
    }
}

/// Builds the session for `--emulator`: static credentials that only the
/// emulator accepts and every client forced to the emulator's endpoint, so
/// that nothing in the environment can send these calls elsewhere. The
/// configuration is built without reading environment variables or profile
/// files, so the mode is hermetic and aws-config logs no warnings about them.
/// The HTTP client, sleep and time source are the SDK clients' defaults.
pub async fn emulator(endpoint: &str, region: &str) -> Session {
    let credentials = Credentials::new("AKIDEMULATOR", "emulator-secret", None, None, "rekognition-preflight emulator");
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(Region::new(region.to_string()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .endpoint_url(endpoint)
        .build();
    Session {
        sts: aws_sdk_sts::Client::new(&config),
        iam: aws_sdk_iam::Client::new(&config),
        rekognition: aws_sdk_rekognition::Client::new(&config),
        region: Some(region.to_string()),
        endpoints: Endpoints { sts: Some(endpoint.into()), iam: Some(endpoint.into()), rekognition: Some(endpoint.into()) },
        mode: "emulator",
    }
}

fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Returns the endpoint a service's calls go to as the user configured it:
/// `--endpoint-url`, then `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`.
/// NOTE: endpoints set in a profile of the shared config file are used by
/// the SDK but not named here, so messages then read "the default endpoint".
fn configured_endpoint(config: &SdkConfig, args: &AwsArgs, service: &str) -> Option<String> {
    if let Some(url) = &args.endpoint_url {
        return Some(url.clone());
    }
    if let Ok(url) = std::env::var(format!("AWS_ENDPOINT_URL_{service}")) {
        return Some(url);
    }
    std::env::var("AWS_ENDPOINT_URL").ok().or_else(|| config.endpoint_url().map(str::to_string))
}
