//! The policy model and its parser. PLACEHOLDER: the IAM evaluator work fills this in.

use std::ops::Range;

use crate::finding::Finding;
use crate::json;
use crate::source::SourceText;

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub source: SourceText,
    pub span: Range<usize>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub span: Range<usize>,
    pub effect: Effect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Parses a policy document that is a JSON value inside `source`.
pub fn parse_policy(name: &str, node: &json::Node, source: &SourceText) -> Result<Policy, Finding> {
    let _ = (name, node, source);
    todo!()
}

/// Parses a policy document given as text, URL-encoded or not, as the IAM
/// API returns it. `source_name` names it in diagnostics.
pub fn parse_policy_text(name: &str, text: &str, source_name: &str) -> Result<Policy, Finding> {
    let _ = (name, text, source_name);
    todo!()
}
