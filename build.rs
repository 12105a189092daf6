//! Embeds every `rules/*.toml` file into the binary as the default rule pack.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let mut names: Vec<String> = std::fs::read_dir("rules")
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());

    let mut code = String::from("/// The default rule pack: (file name, contents).\npub const DEFAULT_RULES: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = Path::new(&manifest_dir).join("rules").join(name);
        let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string());
    }
    code.push_str("];\n");

    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(error) = std::fs::write(Path::new(&out).join("default_rules.rs"), code) {
        panic!("cannot write the default rule list: {error}");
    }
}
