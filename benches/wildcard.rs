//! Time per text byte of wildcard matching on adversarial patterns, to show
//! that it stays flat as the text grows from 1 kB to 1 MB.
//!
//! Run: `cargo bench --no-default-features --bench wildcard`

use std::hint::black_box;
use std::time::{Duration, Instant};

use rekognition_preflight::iam::matching::Pattern;

/// Minimum measured time per batch, so that short texts run many times.
const BATCH_TIME: Duration = Duration::from_millis(200);
/// Batches per cell; the fastest one is reported, which filters out time
/// lost to other processes on a shared machine.
const BATCHES: usize = 3;

const SIZES: [usize; 3] = [1_000, 10_000, 1_000_000];

struct Case {
    label: String,
    pattern: Pattern,
    ignore_case: bool,
    /// The text unit repeated to the target size.
    unit: &'static str,
}

fn star_segments(count: usize, last: &str) -> String {
    let mut pattern = "*a".repeat(count);
    pattern.push('*');
    pattern.push_str(last);
    pattern
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for count in [8, 32] {
        // `b` anchored at the end: rejected after comparing the ends.
        let pattern = star_segments(count, "b");
        cases.push(Case { label: format!("`*a` x{count} then `*b`"), pattern: Pattern::parse(&pattern), ignore_case: false, unit: "a" });
        // `b` as a middle segment: the search scans the whole text.
        let pattern = star_segments(count, "b*");
        cases.push(Case { label: format!("`*a` x{count} then `*b*`"), pattern: Pattern::parse(&pattern), ignore_case: false, unit: "a" });
    }
    // A long middle segment that almost matches at every position. Without
    // `?` and case-sensitive, it goes to `str::find`; with `?` or ignoring
    // case, the search compares up to 16 bytes per text position.
    let long = "*aaaaaaaaaaaaaaab*";
    let long_any = "*aaaaaaa?aaaaaaab*";
    cases.push(Case { label: format!("`{long}`"), pattern: Pattern::parse(long), ignore_case: false, unit: "a" });
    cases.push(Case { label: format!("`{long}` ignoring case"), pattern: Pattern::parse(long), ignore_case: true, unit: "a" });
    cases.push(Case { label: format!("`{long_any}`"), pattern: Pattern::parse(long_any), ignore_case: false, unit: "a" });
    // Non-ASCII text with `?`: the char form, which first collects the chars.
    let non_ascii = "*é?é*b*";
    cases.push(Case { label: format!("`{non_ascii}` on `é` text"), pattern: Pattern::parse(non_ascii), ignore_case: false, unit: "é" });
    cases
}

/// Returns nanoseconds per text byte for the fastest of `BATCHES` batches.
fn measure(case: &Case, text: &str) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..BATCHES {
        let mut iterations = 0u64;
        let start = Instant::now();
        while start.elapsed() < BATCH_TIME {
            let pattern = black_box(&case.pattern);
            let matched = if case.ignore_case { pattern.matches_ignore_case(black_box(text)) } else { pattern.matches(black_box(text)) };
            assert!(!matched);
            iterations += 1;
        }
        let nanoseconds = start.elapsed().as_nanos() as f64;
        best = best.min(nanoseconds / (iterations as f64 * text.len() as f64));
    }
    best
}

fn main() {
    println!("| pattern | 1 kB | 10 kB | 1 MB |");
    println!("|---|---:|---:|---:|");
    for case in cases() {
        let mut row = format!("| {} |", case.label);
        for size in SIZES {
            let text = case.unit.repeat(size / case.unit.len());
            row.push_str(&format!(" {:.3} |", measure(&case, &text)));
        }
        println!("{row}");
    }
    println!();
    println!("Values are nanoseconds per text byte (lower is better), fastest of {BATCHES} batches of at least {BATCH_TIME:?}.");
}
