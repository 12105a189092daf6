//! Timings of the IAM policy parser and evaluator on the AWS managed policies
//! corpus in benches/data. Run with `cargo bench --no-default-features --bench iam`.
//!
//! (a) parses the corpus file and every policy document, (b) evaluates one
//! request against all 1,594 policies taken as identity policies, and (c)
//! evaluates one request against a principal with five policies. (a) reads
//! the corpus array one element at a time with `json::array_items`, so only
//! one element's JSON tree exists at a time. Peak memory of (a) is measured
//! in a child process (this binary, re-run with `IAM_BENCH_CHILD=parse`)
//! that reads VmHWM from /proc/self/status before and after parsing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rekognition_preflight::iam::{evaluate, parse_policy, Context, Policy, PolicySet, Request};
use rekognition_preflight::json;
use rekognition_preflight::source::SourceText;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/aws-managed-policies.json");
const CHILD_VARIABLE: &str = "IAM_BENCH_CHILD";

fn main() {
    if let Ok(mode @ ("parse" | "tree")) = std::env::var(CHILD_VARIABLE).as_deref() {
        measure_parse_memory(mode);
        return;
    }
    // Runs only `parse_policy`, 100 times, for a profiler such as `perf record`.
    if std::env::var(CHILD_VARIABLE).as_deref() == Ok("profile") {
        let text = std::fs::read_to_string(CORPUS).expect("benches/data/aws-managed-policies.json is readable");
        let source = SourceText::new("aws-managed-policies.json", text);
        let root = json::parse(source.text()).expect("the corpus is valid JSON");
        for _ in 0..100 {
            black_box(policies_from(&root, &source));
        }
        return;
    }

    let text = std::fs::read_to_string(CORPUS).expect("benches/data/aws-managed-policies.json is readable");
    let source = SourceText::new("aws-managed-policies.json", text);

    let parse = time("(a) parse corpus", 20, || parse_corpus(&source));
    time("    of which JSON parsing, trees dropped", 20, || {
        json::array_items(source.text()).fold(0, |count, item| {
            drop(item.expect("the corpus is valid JSON"));
            count + 1
        })
    });
    let root = json::parse(source.text()).expect("the corpus is valid JSON");
    time("    of which parse_policy", 20, || policies_from(&root, &source));
    drop(root);
    let policies = parse_corpus(&source);
    assert_eq!(policies.len(), 1594, "the corpus holds 1,594 policies");

    let request = distribute_request();
    let corpus_set = PolicySet { identity: policies.clone(), ..PolicySet::default() };
    let corpus_decision = evaluate(&corpus_set, &request).decision;
    let evaluate_corpus = time("(b) evaluate against corpus", 200, || evaluate(&corpus_set, &request).decision);
    println!("    decision against the corpus: {corpus_decision}");
    println!("(a)+(b) = {:.3} ms (target < 30 ms)", (parse + evaluate_corpus).as_secs_f64() * 1e3);

    let typical = typical_principal(&policies);
    let typical_decision = evaluate(&typical, &request).decision;
    let single = time("(c) evaluate 5 policies", 100_000, || evaluate(&typical, &request).decision);
    println!("    decision for the typical principal: {typical_decision} (target < 5 µs: {:.2} µs)", single.as_secs_f64() * 1e6);

    report_memory(source.text().len());
}

/// Runs `work` `runs` times and prints the median and minimum time of one
/// run. What `work` returns is dropped after the clock stops, so freeing
/// memory is not timed.
fn time<T>(label: &str, runs: usize, mut work: impl FnMut() -> T) -> Duration {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let value = black_box(work());
            let elapsed = start.elapsed();
            drop(value);
            elapsed
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    println!("{label}: median {median:?}, min {:?} over {runs} runs", samples[0]);
    median
}

/// Parses the corpus one array element at a time, dropping each element's
/// JSON tree once its policy is built.
fn parse_corpus(source: &SourceText) -> Vec<Policy> {
    json::array_items(source.text()).map(|entry| policy_from(&entry.expect("the corpus is valid JSON"), source)).collect()
}

/// Parses every policy of a corpus tree built with `json::parse`.
fn policies_from(root: &json::Node, source: &SourceText) -> Vec<Policy> {
    let entries = root.as_array().expect("the corpus is an array");
    entries.iter().map(|entry| policy_from(entry, source)).collect()
}

fn policy_from(entry: &json::Node, source: &SourceText) -> Policy {
    let name = entry.get("PolicyName").and_then(json::Node::as_str).unwrap_or("unnamed");
    let document = entry.get("Document").expect("every entry has a Document");
    parse_policy(name, document, source).unwrap_or_else(|finding| panic!("{name}: {}", finding.render_plain(100)))
}

/// Builds a DistributeDatasetEntries call by a CI role session, with the
/// context keys that IAM sets for it.
fn distribute_request() -> Request {
    let mut context = Context::new();
    context.insert("aws:RequestedRegion", "us-east-1");
    context.insert("aws:PrincipalArn", "arn:aws:iam::111122223333:role/ml-pipeline");
    context.insert("aws:PrincipalAccount", "111122223333");
    context.insert("aws:PrincipalType", "AssumedRole");
    context.insert("aws:SecureTransport", "true");
    context.insert("aws:CurrentTime", "2026-12-04T12:00:00Z");
    context.insert("aws:EpochTime", "1796385600");
    context.insert("aws:SourceIp", "203.0.113.7");
    context.insert("aws:PrincipalTag/team", "vision");
    context.insert("aws:MultiFactorAuthPresent", "false");
    Request {
        context,
        ..Request::new(
            "arn:aws:sts::111122223333:assumed-role/ml-pipeline/ci-run",
            "rekognition:DistributeDatasetEntries",
            "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/train/1690564858106",
        )
    }
}

/// Five managed policies a Custom Labels pipeline role might carry.
fn typical_principal(policies: &[Policy]) -> PolicySet {
    let names = [
        "AmazonRekognitionCustomLabelsFullAccess",
        "AmazonS3ReadOnlyAccess",
        "CloudWatchLogsReadOnlyAccess",
        "AmazonRekognitionReadOnlyAccess",
        "AWSCloudTrail_ReadOnlyAccess",
    ];
    let identity: Vec<Policy> = names
        .iter()
        .map(|name| policies.iter().find(|policy| policy.name == *name).unwrap_or_else(|| panic!("the corpus has no {name}")).clone())
        .collect();
    PolicySet { identity, ..PolicySet::default() }
}

/// Reads VmHWM (peak resident set size) in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child mode `parse`: prints the peak RSS before reading the corpus, after
/// reading it, and after parsing every policy as (a) does, with every
/// `Policy` still alive. Child mode `tree` prints the peak RSS after reading
/// the corpus and after building the JSON tree of the whole file with
/// `json::parse`. (a) avoids that tree, so this shows what it would cost.
fn measure_parse_memory(mode: &str) {
    let baseline = peak_rss_kib();
    let text = std::fs::read_to_string(CORPUS).expect("benches/data/aws-managed-policies.json is readable");
    let source = SourceText::new("aws-managed-policies.json", text);
    let read = peak_rss_kib();
    if mode == "tree" {
        let root = json::parse(source.text()).expect("the corpus is valid JSON");
        let tree = peak_rss_kib();
        black_box(&root);
        println!("{read} {tree}");
        return;
    }
    let policies = parse_corpus(&source);
    let after = peak_rss_kib();
    black_box(&policies);
    println!("{baseline} {read} {after}");
}

/// Runs the bench binary again in child `mode` and returns the numbers it printed.
fn child_numbers(mode: &str) -> Vec<u64> {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let output = std::process::Command::new(exe).env(CHILD_VARIABLE, mode).output().expect("the child bench runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().filter_map(|number| number.parse().ok()).collect()
}

fn report_memory(corpus_bytes: usize) {
    let corpus_kib = corpus_bytes as u64 / 1024;
    let ratio = |kib: u64| kib as f64 / corpus_kib as f64;

    let parse = child_numbers("parse");
    let [baseline, read, after] = parse[..] else {
        println!("memory: the parse child printed {parse:?}");
        return;
    };
    let growth = after.saturating_sub(baseline);
    println!("memory: peak RSS {baseline} KiB before, {after} KiB after parsing the {corpus_kib} KiB corpus");
    println!("    growth {growth} KiB = {:.2}x the corpus (target < 3x)", ratio(growth));
    println!(
        "    of which the text {:.2}x, the policy model with one element's JSON tree at a time {:.2}x",
        ratio(read.saturating_sub(baseline)),
        ratio(after.saturating_sub(read))
    );

    let tree = child_numbers("tree");
    if let [read, tree] = tree[..] {
        println!("    for comparison, json::parse of the whole file: {:.2}x", ratio(tree.saturating_sub(read)));
    }
}
