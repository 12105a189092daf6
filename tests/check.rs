//! `check` end to end: the shared scenarios, each rule's rendered failure,
//! bad input, and the output formats.

#[path = "support/offline.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::{read_json, run, TEST, TRAIN};

/// Maps rule name to outcome from `--format json` output.
fn outcomes(stdout: &str) -> BTreeMap<String, String> {
    let report: Value = serde_json::from_str(stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {stdout}"));
    report["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|result| (result["rule"].as_str().unwrap().to_string(), result["outcome"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn scenarios_match_their_expectations() {
    let dir = support::root().join("tests/fixtures/scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 19, "every scenario is copied into the fixtures");

    for name in &names {
        let expect = read_json(Path::new(&format!("tests/fixtures/scenarios/{name}/expect.json")));
        let world = format!("tests/fixtures/scenarios/{name}/world.json");
        let mut args: Vec<&str> = vec!["check", "--snapshot", &world, "--format", "json"];
        args.extend(expect["args"].as_array().unwrap().iter().map(|arg| arg.as_str().unwrap()));
        let output = run(&args);

        let expected_exit = expect["expect"]["exit"].as_i64().unwrap() as i32;
        assert_eq!(output.code, expected_exit, "{name}: exit code\n{}{}", output.stdout, output.stderr);
        let outcomes = outcomes(&output.stdout);
        for (list, outcome) in [("fail", "fail"), ("pass", "pass")] {
            for rule in expect["expect"][list].as_array().unwrap() {
                let rule = rule.as_str().unwrap();
                assert_eq!(outcomes.get(rule).map(String::as_str), Some(outcome), "{name}: {rule}");
            }
        }
    }
}

#[test]
fn rule_failures_render_as_diagnostics() {
    let cases = read_json(Path::new("tests/fixtures/check-cases.json"));
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let world = case["world"].as_str().unwrap();
        let train = case["train"].as_str().unwrap_or(TRAIN);
        let test = case["test"].as_str().unwrap_or(TEST);
        let extra: Vec<&str> = case["extra"].as_array().map(|extra| extra.iter().map(|arg| arg.as_str().unwrap()).collect()).unwrap_or_default();
        let mut args = vec!["check", "--snapshot", world, "--train", train, "--test", test];
        args.extend(&extra);

        let json = run(&[args.as_slice(), &["--format", "json"]].concat());
        assert_eq!(json.code, case["exit"].as_i64().unwrap() as i32, "{name}: exit code\n{}{}", json.stdout, json.stderr);
        let outcomes = outcomes(&json.stdout);
        for (rule, expected) in case["outcomes"].as_object().unwrap() {
            assert_eq!(outcomes.get(rule).map(String::as_str), expected.as_str(), "{name}: outcome of {rule}");
        }

        let human = run(&args);
        assert_eq!(human.code, json.code, "{name}: human and JSON exit codes agree");
        insta::assert_snapshot!(format!("check_{name}"), human.stdout);
    }
}

#[test]
fn bad_input_gets_located_diagnostics() {
    let cases = read_json(Path::new("tests/fixtures/bad-input.json"));
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let case_args: Vec<&str> = case["args"].as_array().unwrap().iter().map(|arg| arg.as_str().unwrap()).collect();
        let mut args = vec!["check", "--train", TRAIN, "--test", TEST];
        // A later --train or --test in the case replaces the default one.
        for flag in ["--train", "--test"] {
            if case_args.contains(&flag) {
                let index = args.iter().position(|arg| *arg == flag).unwrap();
                args.drain(index..index + 2);
            }
        }
        args.extend(&case_args);

        let output = run(&args);
        assert_eq!(output.code, case["exit"].as_i64().unwrap() as i32, "{name}: exit code\n{}{}", output.stdout, output.stderr);
        assert!(!output.stderr.contains("panicked"), "{name}: panicked\n{}", output.stderr);
        insta::assert_snapshot!(format!("bad_input_{name}"), format!("exit {}\n--- stdout\n{}--- stderr\n{}", output.code, output.stdout, output.stderr));
    }
}

#[test]
fn json_report_has_documented_shape() {
    let output = run(&["check", "--snapshot", "tests/fixtures/scenarios/test-not-empty/world.json", "--train", TRAIN, "--test", TEST, "--format", "json"]);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["train"], TRAIN);
    let failed = report["results"].as_array().unwrap().iter().find(|result| result["outcome"] == "fail").unwrap();
    assert_eq!(failed["rule"], "test-dataset-empty");
    assert_eq!(failed["severity"], "error");
    assert_eq!(failed["message"], "the dataset given as --test (…/test/1690564858107) holds 30 entries; the test dataset must be empty");
    assert_eq!(failed["locations"][0]["source"], "tests/fixtures/scenarios/test-not-empty/world.json");
    assert_eq!(failed["locations"][0]["line"], 167);
    assert!(output.stderr.is_empty(), "stdout carries only JSON; stderr: {}", output.stderr);
}

#[test]
fn passing_check_exits_zero() {
    let output = run(&["check", "--snapshot", "examples/snapshot.json", "--train", TRAIN, "--test", TEST, "--format", "json"]);
    assert_eq!(output.code, 0, "{}", output.stdout);
    let report: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "pass");
    assert!(report["results"].as_array().unwrap().iter().all(|result| result["outcome"] == "pass"));
}

#[test]
fn github_format_escapes_annotations() {
    let output = run(&["check", "--snapshot", "tests/fixtures/scenarios/test-not-empty/world.json", "--train", TRAIN, "--test", TEST, "--format", "github"]);
    assert_eq!(output.code, 1);
    insta::assert_snapshot!("github_test_not_empty", output.stdout);
    let malformed = run(&["check", "--snapshot", "examples/snapshot.json", "--train", TRAIN, "--test", "arn:aws:rekognition:us-east-1:111122223333:project/shelf-defects/dataset/validation/1690564858107", "--format", "github"]);
    insta::assert_snapshot!("github_malformed_arn", malformed.stdout);
}

#[test]
fn rules_list_and_explain() {
    let list = run(&["rules", "list"]);
    assert_eq!(list.code, 0);
    insta::assert_snapshot!("rules_list", list.stdout);

    let explain = run(&["rules", "explain", "test-dataset-empty"]);
    assert_eq!(explain.code, 0);
    insta::assert_snapshot!("rules_explain_test_dataset_empty", explain.stdout);

    let unknown = run(&["rules", "explain", "no-such-rule"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("unknown rule `no-such-rule`"), "{}", unknown.stderr);

    let with_user_rules = run(&["rules", "list", "--rules", "tests/fixtures/rules/valid"]);
    assert!(with_user_rules.stdout.contains("train-at-least-200"), "{}", with_user_rules.stdout);
}

#[test]
fn every_default_rule_is_documented() {
    let list = run(&["rules", "list"]);
    for line in list.stdout.lines() {
        let name = line.split_whitespace().next().unwrap();
        let explain = run(&["rules", "explain", name]);
        assert_eq!(explain.code, 0, "{name}");
        assert!(explain.stdout.contains("How to fix"), "{name} docs say how to fix a failure");
    }
}

#[test]
fn full_stdout_exits_three() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists on Linux");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(["check", "--snapshot", "examples/snapshot.json", "--train", TRAIN, "--test", TEST])
        .current_dir(support::root())
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("the binary runs");

    assert_eq!(status.status.code(), Some(3), "a lost report must not exit 0");
    assert!(String::from_utf8_lossy(&status.stderr).contains("cannot write the output to stdout"));
}

#[test]
fn rules_list_survives_closed_pipe() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(["rules", "list"])
        .current_dir(support::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Closing the read end before the child writes makes its write fail with EPIPE.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the binary exits");

    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "a reader that stops early is not an error");
}

#[test]
fn closed_stderr_does_not_panic() {
    // Reading the snapshot fails, so the diagnostic goes to a closed stderr.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(["check", "--snapshot", "tests/fixtures/worlds/no-such-file.json", "--train", TRAIN, "--test", TEST])
        .current_dir(support::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stderr.take());
    let status = child.wait().expect("the binary exits");

    assert_eq!(status.code(), Some(2), "input errors exit 2 even when stderr is gone");
}

#[test]
fn input_error_reaches_machine_formats() {
    let json = run(&["check", "--snapshot", "tests/fixtures/worlds/truncated.json", "--train", TRAIN, "--test", TEST, "--format", "json"]);
    assert_eq!(json.code, 2);
    let report: Value = serde_json::from_str(&json.stdout).expect("stdout is JSON");
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["error"]["code"], "input::json");
    assert_eq!(report["error"]["locations"][0]["line"], 253);

    let github = run(&["check", "--snapshot", "tests/fixtures/worlds/truncated.json", "--train", TRAIN, "--test", TEST, "--format", "github"]);
    assert_eq!(github.code, 2);
    assert!(github.stdout.starts_with("::error file=tests/fixtures/worlds/truncated.json,line=253,col=9,title=input%3A%3Ajson::"), "{}", github.stdout);
}
