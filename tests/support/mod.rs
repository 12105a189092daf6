//! Shared helpers for the online tests: the bundled world, an isolated AWS
//! environment for the CLI, a moto server and a tiny stub server. Every
//! endpoint is on 127.0.0.1.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rekognition_preflight::facts::aws::session::{Endpoints, Session};

pub const TRAIN: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";
pub const TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858107";
/// The account of moto's default identity.
pub const MOTO_ACCOUNT: &str = "123456789012";

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_path(relative)).unwrap_or_else(|error| panic!("cannot read {relative}: {error}"))
}

/// Returns the bundled world, moved into moto's account.
pub fn moto_world() -> String {
    read("examples/world.json").replace("111122223333", MOTO_ACCOUNT)
}

pub fn moto_arn(arn: &str) -> String {
    arn.replace("111122223333", MOTO_ACCOUNT)
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|time| time.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!("preflight-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        TempDir(path)
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a temporary file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Builds the CLI command with an AWS environment that cannot reach anything but
/// loopback: static test credentials, no profile files, no instance
/// metadata, no proxies and no inherited endpoints.
pub fn cli(home: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(&key);
        }
    }
    command
        .env("AWS_ACCESS_KEY_ID", "AKIDTESTONLYEXAMPLE1")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-not-real")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.0.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.0.join("no-credentials"))
        .env("HOME", &home.0)
        .env("NO_PROXY", "127.0.0.1")
        .env("NO_COLOR", "1")
        .env("REKOGNITION_PREFLIGHT_LOG", "error")
        .env("COLUMNS", "100")
        .stdin(Stdio::null());
    command
}

pub fn run(command: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = command.output().expect("start the CLI");
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// Returns a TCP port on 127.0.0.1 that nothing listens on.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Replaces loopback ports and durations, which change between runs.
pub fn redact(text: &str) -> String {
    let ports = regex::Regex::new(r"127\.0\.0\.1:\d+").expect("port pattern");
    let seconds = regex::Regex::new(r"\(\d+s\)").expect("duration pattern");
    let text = ports.replace_all(text, "127.0.0.1:PORT");
    seconds.replace_all(&text, "(Ns)").into_owned()
}

/// Builds a session whose STS and IAM calls go to `identity` and whose Rekognition
/// calls go to `rekognition`, with static test credentials.
pub async fn session(identity: &str, rekognition: &str) -> Session {
    session_with(identity, identity, rekognition).await
}

/// Builds a session with one endpoint per service.
pub async fn session_with(sts_endpoint: &str, iam_endpoint: &str, rekognition: &str) -> Session {
    let identity = iam_endpoint;
    use aws_config::BehaviorVersion;
    use aws_sdk_rekognition::config::{Credentials, Region};

    let credentials = Credentials::new("AKIDTESTONLYEXAMPLE1", "test-secret-not-real", None, None, "tests");
    let region = Region::new("us-east-1");
    let sts = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(sts_endpoint)
        .build();
    let iam = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(region.clone())
        .credentials_provider(credentials.clone())
        .endpoint_url(identity)
        .build();
    let rekognition_config = aws_sdk_rekognition::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(region)
        .credentials_provider(credentials)
        .endpoint_url(rekognition)
        .build();
    Session {
        sts: aws_sdk_sts::Client::from_conf(sts),
        iam: aws_sdk_iam::Client::from_conf(iam),
        rekognition: aws_sdk_rekognition::Client::from_conf(rekognition_config),
        region: Some("us-east-1".into()),
        endpoints: Endpoints { sts: Some(sts_endpoint.into()), iam: Some(identity.into()), rekognition: Some(rekognition.into()) },
        mode: "aws",
    }
}

/// A moto server: the one `MOTO_ENDPOINT` names, or one started here on a
/// free loopback port and stopped on drop.
pub struct Moto {
    pub endpoint: String,
    child: Option<Child>,
}

impl Moto {
    pub fn start() -> Moto {
        if let Some(endpoint) = std::env::var("MOTO_ENDPOINT").ok().filter(|endpoint| !endpoint.is_empty()) {
            return Moto { endpoint, child: None };
        }
        let port = free_port();
        // `python3 -m moto.server` needs no console script on PATH, which
        // pyenv and user installs do not always provide.
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto's server; install it with `pip install -r tests/requirements.txt`");
        let moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Builds an IAM client for seeding moto.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        use aws_config::BehaviorVersion;
        use aws_sdk_rekognition::config::{Credentials, Region};
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::v2026_11_17())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTESTONLYEXAMPLE1", "test-secret-not-real", None, None, "tests"))
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A stub HTTP server on 127.0.0.1 that responds to every request with one
/// fixed status and body, and records the request bodies.
pub struct Stub {
    pub endpoint: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

pub async fn stub(status: u16, content_type: &'static str, body: String) -> Stub {
    use http_body_util::{BodyExt, Full};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the stub");
    let port = listener.local_addr().expect("stub address").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let recorded = Arc::clone(&recorded);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let recorded = Arc::clone(&recorded);
                    let body = body.clone();
                    async move {
                        let bytes = request.into_body().collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
                        recorded.lock().expect("stub log").push(String::from_utf8_lossy(&bytes).into_owned());
                        let response = hyper::Response::builder()
                            .status(status)
                            .header("content-type", content_type)
                            .header("x-amzn-requestid", "stub-request")
                            .body(Full::new(bytes::Bytes::from(body)))
                            .expect("stub response");
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Stub { endpoint: format!("http://127.0.0.1:{port}"), requests }
}

/// Returns the awsQuery error body that IAM and STS send for a denied call.
pub fn query_access_denied(action: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
         <Message>User is not authorized to perform: {action}</Message></Error><RequestId>stub-request</RequestId></ErrorResponse>"
    )
}

/// Returns the awsQuery body of a GetCallerIdentity response for `arn`.
pub fn query_caller_identity(arn: &str, account: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>\
         <Arn>{arn}</Arn><UserId>AROATESTONLY:ci-run</UserId><Account>{account}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>stub-request</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
    )
}

/// Maps rule name to outcome, from `--format json` output.
pub fn outcomes(stdout: &str) -> std::collections::BTreeMap<String, String> {
    let report: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"));
    report["results"]
        .as_array()
        .expect("results array")
        .iter()
        .map(|result| (result["rule"].as_str().unwrap_or_default().to_string(), result["outcome"].as_str().unwrap_or_default().to_string()))
        .collect()
}
