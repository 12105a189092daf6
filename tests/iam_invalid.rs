//! Every file in tests/fixtures/iam-invalid is rejected with a located
//! diagnostic, by the library and by the `simulate` command.

use std::path::Path;
use std::process::Command;

use rekognition_preflight::iam::simulate::load_cases;
use rekognition_preflight::source::SourceText;

const INVALID_FILES: [&str; 8] = [
    "action-and-notaction",
    "bad-version",
    "effect-maybe",
    "missing-effect",
    "resource-and-notresource",
    "statement-is-string",
    "trailing-comma",
    "unknown-operator",
];

fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam-invalid").join(format!("{name}.json"))
}


#[test]
fn invalid_list_covers_fixture_folder() {
    let mut found: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam-invalid"))
        .expect("the fixture folder exists")
        .filter_map(|entry| entry.ok()?.path().file_stem()?.to_str().map(str::to_string))
        .collect();
    found.sort();
    assert_eq!(found, INVALID_FILES);
}

#[test]
fn invalid_files_render_located_diagnostics() {
    for name in INVALID_FILES {
        let text = std::fs::read_to_string(fixture_path(name)).expect("fixture is readable");
        let source = SourceText::new(format!("{name}.json"), text);
        let finding = match load_cases(&source) {
            Ok(_) => panic!("{name}: accepted"),
            Err(finding) => finding,
        };
        assert!(finding.position().is_some(), "{name}: the diagnostic has no location");
        assert!(finding.help.is_some(), "{name}: the diagnostic has no help");
        insta::assert_snapshot!(name, finding.render_plain(100));
    }
}

#[test]
fn simulate_exits_two_on_invalid() {
    for name in INVALID_FILES {
        let output = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
            .args(["simulate", "--format", "json"])
            .arg(fixture_path(name))
            .output()
            .expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}: stdout must stay empty, got {}", String::from_utf8_lossy(&output.stdout));
        assert!(String::from_utf8_lossy(&output.stderr).contains(&format!("{name}.json")), "{name}: stderr names no file");
    }
}

#[test]
fn simulate_exits_two_on_missing_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(["simulate", "tests/fixtures/iam-invalid/no-such-file.json"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn simulate_rejects_empty_case_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_rekognition-preflight"))
        .args(["simulate", "tests/fixtures/simulate/empty.json"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no cases"));
}
