//! Runs every case file in tests/fixtures/iam through the evaluator, and once
//! through the built binary's `simulate --format json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rekognition_preflight::iam::simulate::load_cases;
use rekognition_preflight::source::SourceText;

/// Cases shared with the rest of the project, plus tests/fixtures/iam/extra.json.
const SHARED_CASES: usize = 96;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam").join(name)
}

/// Evaluates every case of one file and returns how many ran.
fn run_file(name: &str) -> usize {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let source = SourceText::new(path.display().to_string(), text);
    let file = load_cases(&source).unwrap_or_else(|finding| panic!("{name}: {finding:?}"));

    let mut failures = Vec::new();
    for case in &file.cases {
        let expected = case.expected.unwrap_or_else(|| panic!("{name}: case `{}` has no expected decision", case.name));
        let evaluation = case.evaluate();
        if evaluation.decision != expected {
            failures.push(format!("`{}`: expected {expected}, got {} (blocked by {:?})", case.name, evaluation.decision, evaluation.blocked_by));
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
    file.cases.len()
}

#[test]
fn basics_cases_decide() {
    run_file("basics.json");
}

#[test]
fn conditions_cases_decide() {
    run_file("conditions.json");
}

#[test]
fn policy_types_cases_decide() {
    run_file("policy_types.json");
}

#[test]
fn resources_cases_decide() {
    run_file("resources.json");
}

#[test]
fn variables_cases_decide() {
    run_file("variables.json");
}

#[test]
fn extra_cases_decide() {
    let count = run_file("extra.json");
    assert!(count >= 25, "extra.json has {count} cases, expected at least 25");
}

#[test]
fn all_shared_cases_ran() {
    let count: usize = ["basics.json", "conditions.json", "policy_types.json", "resources.json", "variables.json"].into_iter().map(run_file).sum();
    assert_eq!(count, SHARED_CASES);
}

#[test]
fn binary_simulate_matches_everywhere() {
    for name in ["basics.json", "conditions.json", "policy_types.json", "resources.json", "variables.json", "extra.json"] {
        let output = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
            .args(["simulate", "--format", "json"])
            .arg(fixture(name))
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(0), "{name}: stderr {}", String::from_utf8_lossy(&output.stderr));

        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
        let cases = report.as_array().expect("an array input gives an array output");
        assert!(!cases.is_empty(), "{name}: no cases in output");
        for case in cases {
            assert_eq!(case["matches"], serde_json::Value::Bool(true), "{name}: {case}");
        }
    }
}

fn simulate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rekognition-preflight")).arg("simulate").args(args).output().expect("the binary runs")
}

fn simulate_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/simulate").join(name).display().to_string()
}

#[test]
fn simulate_single_case_gives_object() {
    let output = simulate(&["--format", "json", &simulate_fixture("single.json")]);
    assert_eq!(output.status.code(), Some(0));

    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(report["name"], "single case with a Sid");
    assert_eq!(report["decision"], "Allowed");
    assert_eq!(report["matches"], true);
    assert_eq!(report["blockedBy"], serde_json::Value::Null);

    let statements = report["matchedStatements"].as_array().expect("matchedStatements is an array");
    assert_eq!(statements.len(), 2, "{statements:?}");
    assert_eq!(statements[0]["policyType"], "serviceControlPolicy");
    assert_eq!(statements[0]["level"], "r-root");
    assert_eq!(statements[0]["sid"], "FullAccess");
    assert_eq!(statements[1]["policy"], "identityPolicies[0]");
    assert_eq!(statements[1]["sid"], "AllowSplit");
    assert_eq!(statements[1]["statement"], 0);
    assert_eq!(statements[1]["effect"], "Allow");
    assert_eq!(statements[1]["line"], 12);
    assert_eq!(statements[1]["column"], 9);
}

#[test]
fn simulate_mismatch_exits_one() {
    let output = simulate(&["--format", "json", &simulate_fixture("mismatch.json")]);
    assert_eq!(output.status.code(), Some(1));

    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(report[0]["matches"], false);
    assert_eq!(report[0]["expected"], "Allowed");
    assert_eq!(report[0]["decision"], "ImplicitlyDenied");
    assert_eq!(report[0]["blockedBy"], "identity");
    assert!(report[1].get("matches").is_none(), "a case without expectation has no `matches`");
}

#[test]
fn simulate_human_states_mismatch() {
    let output = simulate(&[&simulate_fixture("mismatch.json")]);
    assert_eq!(output.status.code(), Some(1));

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("expects Allowed but nothing allows: ImplicitlyDenied — MISMATCH: expected Allowed"), "{stdout}");
    assert!(stdout.contains("1 of 2 cases did not decide as expected"), "{stdout}");
    assert!(stdout.contains("iam::implicitly-denied"), "{stdout}");
}
