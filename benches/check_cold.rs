//! Wall time of `check --snapshot` as a cold process: one process start per
//! run, on every scenario in tests/fixtures/scenarios. Run with
//! `cargo bench --bench check_cold`; it prints a Markdown table.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = env!("CARGO_BIN_EXE_rekognition-preflight");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/scenarios"))
        .expect("scenarios folder")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    scenarios.sort();

    println!("| scenario | median | p95 | max |");
    println!("| --- | ---: | ---: | ---: |");
    let mut all = Vec::new();
    for scenario in &scenarios {
        let args = scenario_args(scenario);
        // One untimed run warms the page cache, as on a CI runner that just built the tool.
        run_once(binary, &args);
        let mut times: Vec<Duration> = (0..RUNS).map(|_| run_once(binary, &args)).collect();
        times.sort();
        all.extend(times.iter().copied());
        let name = scenario.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        println!("| {name} | {} | {} | {} |", ms(percentile(&times, 50)), ms(percentile(&times, 95)), ms(times[times.len() - 1]));
    }
    all.sort();
    println!(
        "| all {} runs | {} | {} | {} |",
        all.len(),
        ms(percentile(&all, 50)),
        ms(percentile(&all, 95)),
        ms(all[all.len() - 1])
    );
}

fn scenario_args(scenario: &Path) -> Vec<String> {
    let expect: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scenario.join("expect.json")).expect("expect.json")).expect("JSON");
    let mut args = vec!["check".to_string(), "--snapshot".into(), scenario.join("world.json").display().to_string()];
    args.extend(expect["args"].as_array().expect("args").iter().filter_map(|arg| arg.as_str().map(str::to_string)));
    args.extend(["--format".to_string(), "json".into()]);
    args
}

fn run_once(binary: &str, args: &[String]) -> Duration {
    let start = Instant::now();
    let status = Command::new(binary).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("binary runs");
    let elapsed = start.elapsed();
    assert!(matches!(status.code(), Some(0 | 1)), "check exited with {status}");
    elapsed
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    sorted[(sorted.len() - 1) * percent / 100]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
