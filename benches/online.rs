//! Online benchmark. It measures the wall time of one `check` against the
//! emulator with 50 ms of latency on every call. It also counts the API
//! calls one `check` makes for a role with three attached managed policies,
//! with IAM and STS from moto and Rekognition from the emulator. Results are
//! in BENCHMARKS-online.md.
//!
//! Run with `cargo bench --bench online`. The call count needs `moto_server`
//! on PATH or `MOTO_ENDPOINT`; without either it is skipped.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use rekognition_preflight::emulator::{self, EmulatorOptions, Faults, World};
use rekognition_preflight::facts::aws::session::{self, Endpoints, Session};
use rekognition_preflight::facts::aws::{self as aws_facts, IdentitySource};
use rekognition_preflight::facts::snapshot::{CheckTarget, Snapshot};
use rekognition_preflight::rules::{self, load_rules, Phase};

const TRAIN: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106";
const TEST: &str = "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/test/1690564858107";
const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let world_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/world.json")).expect("examples/world.json");
    runtime.block_on(wall_time(&world_text));
    runtime.block_on(call_count(&world_text));
}

/// Times gathering facts and evaluating every rule, as `check --emulator` does.
async fn wall_time(world_text: &str) {
    let world = World::from_json(world_text, "world.json").expect("world parses");
    let faults = Faults { latency: LATENCY, ..Faults::default() };
    let emulator = emulator::start(world, EmulatorOptions { faults, ..EmulatorOptions::default() }).await.expect("emulator starts");
    let session = session::emulator(&emulator.endpoint(), "us-east-1").await;
    let identity = IdentitySource::World(Snapshot::parse("world.json", world_text.to_string()).expect("world parses"));
    let rules = load_rules(&[], &[], &[]).expect("rules load");
    let target = CheckTarget { train: TRAIN.into(), test: TEST.into(), ..CheckTarget::default() };

    let mut times = Vec::new();
    for _ in 0..RUNS + 1 {
        let started = Instant::now();
        let gathered = aws_facts::gather(&session, &target, &identity, &[]).await.expect("facts gathered");
        let verdict = rules::evaluate(&rules, &gathered.facts, Phase::Pre, None);
        assert!(verdict.passed());
        times.push(started.elapsed());
    }
    times.remove(0); // The first run opens the connections.
    times.sort();
    let calls = emulator.calls().len() / (RUNS + 1);
    let median = times[times.len() / 2];
    println!("check against the emulator, {} ms latency per call, {RUNS} runs after one warm-up:", LATENCY.as_millis());
    println!("  Rekognition calls per check: {calls}");
    println!("  min {:.1} ms, median {:.1} ms, max {:.1} ms", ms(times[0]), ms(median), ms(times[times.len() - 1]));
    println!("  median / latency = {:.2} (target at most 4)", median.as_secs_f64() / LATENCY.as_secs_f64());
}

/// Counts each awsQuery `Action` sent through a client.
#[derive(Debug, Default, Clone)]
struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_iam::error::BoxError> {
        let body = context.request().body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
        let action = body.split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or("unknown").to_string();
        *self.0.lock().expect("counter").entry(action).or_default() += 1;
        Ok(())
    }
}

async fn call_count(world_text: &str) {
    let Some(moto) = Moto::start() else {
        println!("call count skipped: set MOTO_ENDPOINT or put moto_server on PATH");
        return;
    };
    let world_text = world_text.replace("111122223333", "123456789012");
    let world = World::from_json(&world_text, "world.json").expect("world parses");
    let emulator = emulator::start(world, EmulatorOptions::default()).await.expect("emulator starts");
    let counter = CallCounter::default();
    let credentials = Credentials::new("AKIDTESTONLYEXAMPLE1", "test-secret-not-real", None, None, "bench");

    let iam_config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .endpoint_url(&moto.endpoint)
        .interceptor(counter.clone())
        .build();
    let iam = aws_sdk_iam::Client::from_conf(iam_config);
    let role_arn = seed_role(&iam).await;
    counter.0.lock().expect("counter").clear();

    let sts_config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .endpoint_url(&moto.endpoint)
        .interceptor(counter.clone())
        .build();
    let rekognition_config = aws_sdk_rekognition::Config::builder()
        .behavior_version(BehaviorVersion::v2026_11_17())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(emulator.endpoint())
        .build();
    let session = Session {
        sts: aws_sdk_sts::Client::from_conf(sts_config),
        iam,
        rekognition: aws_sdk_rekognition::Client::from_conf(rekognition_config),
        region: Some("us-east-1".into()),
        endpoints: Endpoints::default(),
        mode: "aws",
    };
    let target = CheckTarget {
        train: TRAIN.replace("111122223333", "123456789012"),
        test: TEST.replace("111122223333", "123456789012"),
        principal: Some(role_arn),
        context: Vec::new(),
    };
    aws_facts::gather(&session, &target, &IdentitySource::Live, &[]).await.expect("facts gathered");

    let identity_calls = counter.0.lock().expect("counter").clone();
    let mut rekognition_calls: BTreeMap<String, usize> = BTreeMap::new();
    for call in emulator.calls() {
        *rekognition_calls.entry(call.operation).or_default() += 1;
    }
    println!("API calls of one check for a role with 3 attached policies and 1 inline policy:");
    println!("  STS and IAM (moto): {} {identity_calls:?}", identity_calls.values().sum::<usize>());
    println!("  Rekognition (emulator): {} {rekognition_calls:?}", rekognition_calls.values().sum::<usize>());
}

async fn seed_role(iam: &aws_sdk_iam::Client) -> String {
    let suffix = std::process::id();
    let name = format!("bench-role-{suffix}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rekognition:*","Resource":"*"}]}"#;
    let role = iam.create_role().role_name(&name).assume_role_policy_document(trust).send().await.expect("create the role");
    for index in 1..=3 {
        let policy = iam.create_policy().policy_name(format!("{name}-{index}")).policy_document(allow).send().await.expect("create a policy");
        let arn = policy.policy().and_then(|policy| policy.arn()).expect("policy ARN");
        iam.attach_role_policy().role_name(&name).policy_arn(arn).send().await.expect("attach a policy");
    }
    iam.put_role_policy().role_name(&name).policy_name("inline").policy_document(allow).send().await.expect("put an inline policy");
    role.role().map(|role| role.arn().to_string()).expect("role ARN")
}

struct Moto {
    endpoint: String,
    child: Option<Child>,
}

impl Moto {
    fn start() -> Option<Moto> {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
            return Some(Moto { endpoint, child: None });
        }
        let port = std::net::TcpListener::bind(("127.0.0.1", 0)).ok()?.local_addr().ok()?.port();
        let child = Command::new("moto_server").args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
        let moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
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

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
