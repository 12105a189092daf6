//! Loading rule files: the compiled-in default pack, then each `--rules`
//! folder, then the `--ignore` and `--severity` overrides.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::builtin::Check;
use super::{condition, template, Condition, Phase, Rule, Severity, DEFAULT_RULES};
use crate::facts::snapshot::{decode_utf8, read_file};
use crate::finding::Finding;
use crate::source::SourceText;

/// The rules that will run, in load order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.name == name)
    }
}

/// The fields of a rule file. Unknown fields are rejected so that a typo
/// such as `severty` does not silently fall back to a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Spanned<String>,
    severity: Spanned<String>,
    #[serde(default)]
    phase: Phase,
    summary: String,
    docs: String,
    help: Option<String>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    needs_found: Vec<Spanned<String>>,
    condition: Option<Spanned<String>>,
    check: Option<Spanned<String>>,
    message: Spanned<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Loads the default pack and the rules in `dirs`, then applies overrides.
/// Every problem is an input error that points at the file and the text.
pub fn load_rules(dirs: &[PathBuf], ignore: &[String], severity: &[String]) -> Result<RuleSet, Finding> {
    let mut set = RuleSet::default();
    for (file, text) in DEFAULT_RULES {
        add_rule(&mut set, parse_rule(SourceText::new(format!("built in (rules/{file})"), *text))?)?;
    }
    for dir in dirs {
        for path in rule_files(dir)? {
            let name = path.display().to_string();
            let text = decode_utf8(&name, read_file(&path, "rule file")?)?;
            add_rule(&mut set, parse_rule(SourceText::new(name, text))?)?;
        }
    }

    // Severities first, so that --severity may name a rule that --ignore drops.
    for setting in severity {
        let Some((name, level)) = setting.split_once('=') else {
            return Err(Finding::error("input::usage", format!("--severity `{setting}` is not NAME=LEVEL"))
                .with_help("write it as e.g. --severity labels-complete=error"));
        };
        let Some(level) = Severity::parse(level.trim()) else {
            return Err(Finding::error("input::usage", format!("--severity `{setting}`: `{level}` is not a severity"))
                .with_help("use error, warning or info"));
        };
        let Some(rule) = set.rules.iter_mut().find(|rule| rule.name == name.trim()) else {
            return Err(unknown_rule(&set, name.trim(), "--severity"));
        };
        rule.severity = level;
    }
    for name in ignore {
        let Some(index) = set.rules.iter().position(|rule| &rule.name == name) else {
            return Err(unknown_rule(&set, name, "--ignore"));
        };
        set.rules.remove(index);
    }
    Ok(set)
}

fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, Finding> {
    let name = dir.display();
    if !dir.exists() {
        return Err(Finding::error("input::rules", format!("--rules `{name}` was not found"))
            .with_help("check the path; it is relative to the current directory"));
    }
    if !dir.is_dir() {
        return Err(Finding::error("input::rules", format!("--rules `{name}` is not a folder"))
            .with_help("give a folder that holds *.toml rule files"));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|error| Finding::error("input::rules", format!("cannot read rule folder `{name}`: {error}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn add_rule(set: &mut RuleSet, rule: Rule) -> Result<(), Finding> {
    if let Some(existing) = set.get(&rule.name) {
        return Err(Finding::error("input::rules", format!("rule `{}` is defined twice", rule.name))
            .with_label_in(&rule.source, rule.name_span.clone(), "this name is taken")
            .with_help(format!(
                "`{}` is already defined in {}; rename this rule, or use --ignore {} and give yours another name",
                rule.name, existing.origin, rule.name
            )));
    }
    set.rules.push(rule);
    Ok(())
}

/// Parses and validates one rule file.
pub fn parse_rule(source: SourceText) -> Result<Rule, Finding> {
    let file: RuleFile = toml::from_str(source.text()).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().to_string();
        Finding::error("input::rules", format!("{}: invalid rule file: {message}", source.name()))
            .with_label_in(&source, span, message)
            .with_help("rule files are TOML with name, severity, summary, docs, message and either condition or check; see `rules explain test-dataset-empty` and the README")
    })?;
    let invalid = |span: Range<usize>, message: String, help: &str| {
        Finding::error("input::rules", format!("{}: {message}", source.name()))
            .with_label_in(&source, span, message)
            .with_help(help.to_string())
    };

    let name = file.name.get_ref().clone();
    if !is_kebab_case(&name) {
        return Err(invalid(file.name.span(), format!("rule name `{name}` is not kebab-case"), "use lowercase words joined by `-`, such as `test-dataset-empty`"));
    }
    let Some(severity) = Severity::parse(file.severity.get_ref()) else {
        let found = file.severity.get_ref();
        return Err(invalid(file.severity.span(), format!("severity must be error, warning or info, found `{found}`"), "pick one of error, warning, info"));
    };
    for need in file.needs.iter().chain(&file.needs_found) {
        if !matches!(need.get_ref().as_str(), "train" | "test") {
            return Err(invalid(need.span(), format!("`needs` names `{}`, which is not a dataset", need.get_ref()), "list `train`, `test` or both"));
        }
    }

    let condition = match (&file.condition, &file.check) {
        (Some(text), None) => compile_condition(&source, text)?,
        (None, Some(check)) => match Check::parse(check.get_ref()) {
            Some(check) => Condition::Builtin(check),
            None => {
                let known = Check::NAMES.join(", ");
                return Err(invalid(check.span(), format!("unknown built-in check `{}`", check.get_ref()), &format!("built-in checks: {known}")));
            }
        },
        (Some(text), Some(_)) => {
            return Err(invalid(text.span(), "a rule has either `condition` or `check`, not both".into(), "remove one of them"));
        }
        (None, None) => {
            return Err(invalid(file.name.span(), format!("rule `{name}` has neither `condition` nor `check`"), "add a CEL `condition` such as `test.total_entries == 0`"));
        }
    };

    if let Some(text) = &file.condition {
        check_condition_facts(&source, text)?;
    }
    validate_template(&source, &file.message)?;
    let labels: Vec<(String, String)> = file.labels.into_iter().collect();
    for (path, _) in &labels {
        if let Err(message) = crate::facts::model::check_path(path) {
            return Err(invalid(file.name.span(), format!("label: {message}"), "label keys are fact paths such as `test.total_entries`"));
        }
    }

    Ok(Rule {
        name,
        severity,
        phase: file.phase,
        summary: file.summary.trim().to_string(),
        docs: file.docs.trim().to_string(),
        help: file.help.map(|help| help.trim().to_string()),
        needs: file.needs.into_iter().map(Spanned::into_inner).collect(),
        needs_found: file.needs_found.into_iter().map(Spanned::into_inner).collect(),
        condition,
        message: file.message.into_inner().trim().to_string(),
        labels,
        origin: source.name().to_string(),
        name_span: file.name.span(),
        condition_span: file.condition.as_ref().map(Spanned::span),
        source,
    })
}

fn compile_condition(source: &SourceText, text: &Spanned<String>) -> Result<Condition, Finding> {
    let condition = text.get_ref();
    match condition::compile(condition) {
        Ok(program) => Ok(Condition::Cel { program: Arc::new(program), text: condition.clone() }),
        Err(errors) => {
            let base = content_start(source, text.span(), condition);
            let mut finding = Finding::error("input::rules", format!("{}: the condition is not valid CEL", source.name()))
                .with_help("conditions are CEL expressions over train, test, project, principal, permissions and client; see the README");
            for error in errors.errors.iter().take(3) {
                let offset = offset_of(condition, error.pos.0, error.pos.1);
                let start = (base + offset).min(text.span().end);
                let end = next_char_boundary(source.text(), start + 1).min(text.span().end.max(start));
                finding = finding.with_label_in(source, start..end, error.msg.clone());
            }
            Err(finding)
        }
    }
}

/// Rejects a condition that reads a field the facts model never has, such
/// as `train.total_entreis`, which would otherwise make the rule undecided on
/// every run.
fn check_condition_facts(source: &SourceText, text: &Spanned<String>) -> Result<(), Finding> {
    let condition = text.get_ref();
    let base = content_start(source, text.span(), condition);
    for (path, range) in fact_paths(condition) {
        if let Err(message) = crate::facts::model::check_path(&path) {
            return Err(Finding::error("input::rules", format!("{}: {message}", source.name()))
                .with_label_in(source, base + range.start..base + range.end, "not a fact")
                .with_help("the README lists the facts model; `rules explain NAME` shows the conditions of the default rules"));
        }
    }
    Ok(())
}

/// Finds the dotted paths in a CEL condition that start at a variable of the
/// facts model, with their byte ranges. String literals are skipped, and a
/// trailing method name (`train.labels.all(…)`) is not part of the path.
fn fact_paths(condition: &str) -> Vec<(String, Range<usize>)> {
    let bytes = condition.as_bytes();
    let mut paths = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'"' || byte == b'\'' {
            index = skip_string(bytes, index);
            continue;
        }
        let starts_identifier = (byte.is_ascii_alphabetic() || byte == b'_') && (index == 0 || !is_path_byte(bytes[index - 1]));
        if !starts_identifier {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && is_path_byte(bytes[index]) {
            index += 1;
        }
        let mut path = &condition[start..index];
        if bytes.get(index) == Some(&b'(') {
            path = path.rsplit_once('.').map_or("", |(receiver, _)| receiver);
        }
        let root = path.split('.').next().unwrap_or_default();
        if path.contains('.') && template::ROOTS.contains(&root) {
            paths.push((path.to_string(), start..start + path.len()));
        }
    }
    paths
}

fn is_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.'
}

/// Returns the index just past the string literal that starts at `start`,
/// which may be triple-quoted and may contain backslash escapes.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let triple = bytes.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let mut index = start + if triple { 3 } else { 1 };
    while index < bytes.len() {
        if bytes[index] == b'\\' {
            index += 2;
            continue;
        }
        if triple {
            if bytes.get(index..index + 3) == Some(&[quote, quote, quote][..]) {
                return index + 3;
            }
        } else if bytes[index] == quote {
            return index + 1;
        }
        index += 1;
    }
    bytes.len()
}

fn validate_template(source: &SourceText, message: &Spanned<String>) -> Result<(), Finding> {
    let Err(error) = template::validate(message.get_ref()) else {
        return Ok(());
    };
    let base = content_start(source, message.span(), message.get_ref());
    let span = base + error.span.start..base + error.span.end;
    Err(Finding::error("input::rules", format!("{}: {}", source.name(), error.message))
        .with_label_in(source, span, error.message.clone())
        .with_help("placeholders look like {test.total_entries} or {test.arn|short}; write {{ and }} for literal braces"))
}

/// Finds where a string value's text starts inside its TOML literal, which
/// may open with `"`, `'`, `"""` or `'''` and a newline.
fn content_start(source: &SourceText, span: Range<usize>, value: &str) -> usize {
    let literal = source.text().get(span.clone()).unwrap_or_default();
    let first_line = value.lines().next().unwrap_or_default();
    if first_line.is_empty() {
        return span.start;
    }
    span.start + literal.find(first_line).unwrap_or(0)
}

/// Converts a 1-based line and column (as the CEL parser reports them) to a byte offset.
fn offset_of(text: &str, line: isize, column: isize) -> usize {
    let line = usize::try_from(line.max(1)).unwrap_or(1);
    let column = usize::try_from(column.max(0)).unwrap_or(0);
    let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let line_text = text[line_start.min(text.len())..].lines().next().unwrap_or_default();
    let within: usize = line_text.chars().take(column).map(char::len_utf8).sum();
    (line_start + within).min(text.len())
}

fn next_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

fn is_kebab_case(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
        })
        && name.as_bytes()[0].is_ascii_lowercase()
}

fn unknown_rule(set: &RuleSet, name: &str, flag: &str) -> Finding {
    let closest = crate::suggest::closest(name, set.rules.iter().map(|rule| rule.name.as_str()));
    let help = match closest {
        Some(suggestion) => format!("did you mean `{suggestion}`? `rules list` shows every rule"),
        None => "`rules list` shows every rule".to_string(),
    };
    Finding::error("input::usage", format!("{flag} names unknown rule `{name}`")).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pack_parses_cleanly() {
        let set = load_rules(&[], &[], &[]).unwrap();
        assert!(set.get("test-dataset-empty").is_some());
    }

    #[test]
    fn kebab_case_names_only() {
        assert!(is_kebab_case("test-dataset-empty"));
        assert!(!is_kebab_case("Test-Dataset"));
        assert!(!is_kebab_case("test--empty"));
        assert!(!is_kebab_case("-test"));
    }

    #[test]
    fn condition_paths_skip_strings_and_methods() {
        let paths: Vec<String> = fact_paths(r#"train.labels.all(l, l.entry_count >= 5) && "test.x" in test.tags && d.status == 'post.y'"#)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(paths, vec!["train.labels".to_string(), "test.tags".to_string()]);
    }

    #[test]
    fn cel_position_maps_to_offset() {
        assert_eq!(offset_of("a &&\n  b ==", 2, 2), 7);
    }
}
