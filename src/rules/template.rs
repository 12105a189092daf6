//! Message templates: `{test.arn|short}` style placeholders over the facts
//! model. `{{` and `}}` stand for literal braces.

use serde_json::{Map, Value};

/// Filters a placeholder may apply after `|`.
const FILTERS: &[&str] = &["short", "counts"];

/// The variables the facts model has at its top level.
pub const ROOTS: &[&str] = &["train", "test", "project", "principal", "permissions", "client", "pre", "post"];

/// A placeholder that does not name a known root variable or filter, with
/// its byte range in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub span: std::ops::Range<usize>,
}

/// Checks every placeholder of a template without rendering it.
pub fn validate(template: &str) -> Result<Vec<String>, TemplateError> {
    let mut paths = Vec::new();
    for piece in pieces(template) {
        let Piece::Placeholder { path, filter, span } = piece? else { continue };
        let root = path.split('.').next().unwrap_or_default();
        if !ROOTS.contains(&root) {
            return Err(TemplateError {
                message: format!("unknown fact `{path}`; facts start with one of: {}", ROOTS.join(", ")),
                span,
            });
        }
        if let Err(message) = crate::facts::model::check_path(path) {
            return Err(TemplateError { message, span });
        }
        if let Some(filter) = filter.filter(|filter| !FILTERS.contains(filter)) {
            return Err(TemplateError { message: format!("unknown filter `{filter}`; known filters: {}", FILTERS.join(", ")), span });
        }
        paths.push(path.to_string());
    }
    Ok(paths)
}

/// Renders a template. Facts that are not known render as `<unknown>`.
pub fn render(template: &str, model: &Map<String, Value>) -> String {
    let mut out = String::new();
    for piece in pieces(template) {
        match piece {
            Ok(Piece::Text(text)) => out.push_str(text),
            Ok(Piece::Placeholder { path, filter, .. }) => {
                let value = lookup(model, path);
                let text = match (filter, value) {
                    (_, None) => "<unknown>".to_string(),
                    (Some("short"), Some(value)) => shorten(&display(value)),
                    (Some("counts"), Some(value)) => counts(value),
                    (_, Some(value)) => display(value),
                };
                out.push_str(&text);
            }
            Err(error) => {
                out.push_str(&template[error.span.start..]);
                break;
            }
        }
    }
    out
}

/// Looks up a dotted path such as `test.total_entries`.
pub fn lookup<'m>(model: &'m Map<String, Value>, path: &str) -> Option<&'m Value> {
    let mut parts = path.split('.');
    let mut current = model.get(parts.next()?)?;
    for part in parts {
        current = match current {
            Value::Object(fields) => fields.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Renders a label list as `scratch: 40, crack: 3`.
fn counts(value: &Value) -> String {
    let Value::Array(items) = value else {
        return display(value);
    };
    let entries: Vec<String> = items
        .iter()
        .map(|item| {
            let name = item.get("name").map_or_else(|| "?".to_string(), display);
            let count = item.get("entry_count").map_or_else(|| "unknown".to_string(), display);
            format!("{name}: {count}")
        })
        .collect();
    entries.join(", ")
}

/// Shortens an ARN to its last two path segments: `…/test/1690564858107`.
fn shorten(text: &str) -> String {
    let segments: Vec<&str> = text.rsplitn(3, '/').collect();
    match segments.as_slice() {
        [last, second, _rest] => format!("…/{second}/{last}"),
        _ => text.to_string(),
    }
}

enum Piece<'t> {
    Text(&'t str),
    Placeholder { path: &'t str, filter: Option<&'t str>, span: std::ops::Range<usize> },
}

fn pieces(template: &str) -> impl Iterator<Item = Result<Piece<'_>, TemplateError>> {
    let mut position = 0;
    std::iter::from_fn(move || {
        let rest = &template[position..];
        if rest.is_empty() {
            return None;
        }
        if rest.starts_with("{{") {
            position += 2;
            return Some(Ok(Piece::Text("{")));
        }
        if rest.starts_with("}}") {
            position += 2;
            return Some(Ok(Piece::Text("}")));
        }
        if rest.starts_with('{') {
            let start = position;
            let Some(length) = rest.find('}') else {
                position = template.len();
                return Some(Err(TemplateError { message: "`{` has no closing `}`".into(), span: start..template.len() }));
            };
            position += length + 1;
            let inner = rest[1..length].trim();
            let (path, filter) = match inner.split_once('|') {
                Some((path, filter)) => (path.trim(), Some(filter.trim())),
                None => (inner, None),
            };
            return Some(Ok(Piece::Placeholder { path, filter, span: start..position }));
        }
        // A lone `}` is one byte; otherwise the text runs to the next brace.
        let length = match rest.find(['{', '}']) {
            Some(0) => 1,
            Some(next) => next,
            None => rest.len(),
        };
        position += length;
        Some(Ok(Piece::Text(&rest[..length])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Map<String, Value> {
        let Value::Object(model) = json!({"test": {"arn": "arn:aws:rekognition:us-east-1:111122223333:project/p/dataset/test/1690564858107", "total_entries": 30}}) else {
            unreachable!()
        };
        model
    }

    #[test]
    fn placeholders_render_facts() {
        let text = render("test dataset {test.arn|short} holds {test.total_entries} entries", &model());
        assert_eq!(text, "test dataset …/test/1690564858107 holds 30 entries");
    }

    #[test]
    fn unknown_fact_renders_marker() {
        assert_eq!(render("{test.status} {{x}}", &model()), "<unknown> {x}");
    }

    #[test]
    fn validation_rejects_unknown_roots() {
        let error = validate("a {tset.arn} b").unwrap_err();
        assert_eq!(error.span, 2..12);
        assert!(validate("{test.arn|upper}").is_err());
        assert_eq!(validate("{test.arn|short}").unwrap(), vec!["test.arn".to_string()]);
    }
}
