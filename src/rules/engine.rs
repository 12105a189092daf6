//! Runs rules over facts and turns each conclusion into a result with a
//! diagnostic.

use serde_json::{Map, Value};

use super::builtin::{self, PermissionCheck};
use super::condition::{self, Undecided};
use super::template::render;
use super::{Condition, Outcome, Phase, Rule, RuleResult, RuleSet, Severity};
use crate::facts::{self, Facts, Known, Role};
use crate::finding::Finding;

/// The results of one run of the rules, in rule order.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub results: Vec<RuleResult>,
}

impl Verdict {
    /// True when every error-severity rule passed. A skipped error rule
    /// blocks too, because a check that did not run proved nothing, and so
    /// does a verdict without any result.
    pub fn passed(&self) -> bool {
        !self.results.is_empty()
            && self
                .results
                .iter()
                .filter(|result| result.severity == Severity::Error)
                .all(|result| result.outcome == Outcome::Pass)
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.results.iter().filter(|result| result.outcome == outcome).count()
    }
}

/// Evaluates the rules of `phase` over `facts`. For the `post` phase,
/// `before` contains the facts from before the split and becomes the `pre`
/// variable, while `facts` becomes `post` as well as `train` and `test`.
pub fn evaluate(rules: &RuleSet, facts: &Facts, phase: Phase, before: Option<&Facts>) -> Verdict {
    let permissions = match phase {
        Phase::Pre => builtin::permission_evaluations(facts),
        Phase::Post => PermissionCheck::Unavailable("permissions are not evaluated after the split".into()),
    };
    let mut model = facts::to_model(facts);
    model.insert("permissions".into(), permissions.model());
    if let Some(before) = before {
        model.insert("pre".into(), Value::Object(facts::to_model(before)));
        model.insert("post".into(), Value::Object(facts::to_model(facts)));
    }

    let results = rules
        .rules
        .iter()
        .filter(|rule| rule.phase == phase)
        .map(|rule| evaluate_rule(rule, facts, &model, &permissions))
        .collect();
    Verdict { results }
}

fn evaluate_rule(rule: &Rule, facts: &Facts, model: &Map<String, Value>, permissions: &PermissionCheck) -> RuleResult {
    let result = |outcome, message: String, finding| RuleResult {
        rule: rule.name.clone(),
        severity: rule.severity,
        summary: rule.summary.clone(),
        outcome,
        message,
        finding,
    };

    if let Some(flag) = unparsable_need(rule, facts) {
        return result(Outcome::Skip, format!("skipped because the {flag} ARN does not parse"), None);
    }
    if let Some(flag) = missing_dataset(rule, facts) {
        return result(Outcome::Skip, format!("skipped because the {flag} dataset does not exist"), None);
    }

    match &rule.condition {
        Condition::Builtin(check) => {
            let checked = builtin::run(*check, facts, permissions);
            let finding = match (checked.outcome, checked.finding) {
                (Outcome::Pass | Outcome::Skip, _) => None,
                (_, Some(finding)) => Some(decorate(rule, model, finding)),
                (outcome, None) => {
                    let mut finding = rule_finding(rule, facts, model, checked.message.clone(), outcome);
                    // The check's message already names what is missing and how to supply it.
                    finding.help = None;
                    Some(finding)
                }
            };
            result(checked.outcome, checked.message, finding)
        }
        Condition::Cel { program, .. } => match condition::execute(program, model) {
            Ok(true) => result(Outcome::Pass, rule.summary.clone(), None),
            Ok(false) => {
                let message = render(&rule.message, model);
                let finding = rule_finding(rule, facts, model, message.clone(), Outcome::Fail);
                result(Outcome::Fail, message, Some(finding))
            }
            Err(undecided) => {
                let failed_condition = matches!(undecided, Undecided::Failed(_));
                let (reason, help) = match undecided {
                    Undecided::MissingFact(key) => (
                        format!("the fact `{key}` is not known"),
                        "a fact this rule needs is missing; in a snapshot, add the AWS CLI output it comes from (see the README's snapshot format)".to_string(),
                    ),
                    Undecided::Failed(error) => (
                        format!("the condition failed: {error}"),
                        format!("fix the condition in {}; it must compare values of the same type and return a boolean", rule.origin),
                    ),
                };
                let message = format!("cannot decide: {reason}");
                let mut finding = match (&rule.condition_span, failed_condition) {
                    // A condition that fails on known facts is a bug in the rule file, so point there.
                    (Some(span), true) => decorate(rule, model, Finding::error(rule.name.clone(), message.clone()))
                        .with_label_in(&rule.source, span.clone(), "this condition failed"),
                    _ => rule_finding(rule, facts, model, message.clone(), Outcome::Error),
                };
                finding.help = Some(help);
                result(Outcome::Error, message, Some(finding))
            }
        },
    }
}

/// Names the flag of a dataset the rule needs whose ARN does not parse.
fn unparsable_need(rule: &Rule, facts: &Facts) -> Option<&'static str> {
    [Role::Train, Role::Test].into_iter().find_map(|role| {
        let needed = rule.needs.iter().any(|need| need == role.key());
        (needed && facts.dataset(role).arn.is_err()).then_some(role.flag())
    })
}

/// Names the flag of a dataset the rule needs that is known not to exist.
fn missing_dataset(rule: &Rule, facts: &Facts) -> Option<&'static str> {
    [Role::Train, Role::Test].into_iter().find_map(|role| {
        let needed = rule.needs_found.iter().any(|need| need == role.key());
        (needed && facts.dataset(role).description == Known::NotFound).then_some(role.flag())
    })
}

/// Builds the diagnostic of a failed or undecided rule: the rule's labels on
/// the facts it names, or else the ARN arguments it needs.
fn rule_finding(rule: &Rule, facts: &Facts, model: &Map<String, Value>, message: String, outcome: Outcome) -> Finding {
    let mut finding = decorate(rule, model, Finding::error(rule.name.clone(), message));
    let arguments = Arguments::new(facts);

    // The rule's labels describe a failure; an undecided rule points at the
    // datasets it needs instead.
    if outcome == Outcome::Fail {
        for (path, label) in &rule.labels {
            let text = render(label, model);
            if let Some(span) = arguments.span_of(path) {
                finding = finding.with_label_in(&arguments.source, span, text);
            } else if let Some(location) = facts.locations.get(path) {
                finding = finding.with_label_in(&location.source, location.span.clone(), text);
            }
        }
    }

    if finding.labels.is_empty() {
        for role in [Role::Train, Role::Test] {
            if rule.needs.iter().any(|need| need == role.key()) {
                let path = format!("{}.arn", role.key());
                if let Some(span) = arguments.span_of(&path) {
                    finding = finding.with_label_in(&arguments.source, span, format!("the {} dataset", role.key()));
                }
            }
        }
    }
    finding
}

/// Both ARN arguments as one source text, `--train ARN` and `--test ARN` on
/// a line each, so that one diagnostic can underline either or both.
struct Arguments {
    source: crate::source::SourceText,
    train: std::ops::Range<usize>,
    test: std::ops::Range<usize>,
}

impl Arguments {
    fn new(facts: &Facts) -> Self {
        let train_start = "--train ".len();
        let train_end = train_start + facts.train.arn_text().len();
        let test_start = train_end + "\n--test ".len();
        let test_end = test_start + facts.test.arn_text().len();
        let text = format!("--train {}\n--test {}", facts.train.arn_text(), facts.test.arn_text());
        Self { source: crate::source::SourceText::new("arguments", text), train: train_start..train_end, test: test_start..test_end }
    }

    fn span_of(&self, path: &str) -> Option<std::ops::Range<usize>> {
        match path {
            "train.arn" => Some(self.train.clone()),
            "test.arn" => Some(self.test.clone()),
            _ => None,
        }
    }
}

/// Gives a finding the rule's code, severity and help.
fn decorate(rule: &Rule, model: &Map<String, Value>, mut finding: Finding) -> Finding {
    finding.code = rule.name.clone();
    finding.severity = rule.severity.to_miette();
    if finding.help.is_none() {
        finding.help = rule.help.as_ref().map(|help| render(help, model));
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(severity: Severity, outcome: Outcome) -> RuleResult {
        RuleResult { rule: "rule".into(), severity, summary: String::new(), outcome, message: String::new(), finding: None }
    }

    #[test]
    fn empty_verdict_does_not_pass() {
        assert!(!Verdict { results: Vec::new() }.passed());
    }

    #[test]
    fn skipped_error_rule_blocks() {
        let verdict = Verdict { results: vec![result(Severity::Error, Outcome::Pass), result(Severity::Error, Outcome::Skip)] };
        assert!(!verdict.passed());
    }

    #[test]
    fn failed_warning_does_not_block() {
        let verdict = Verdict { results: vec![result(Severity::Error, Outcome::Pass), result(Severity::Warning, Outcome::Fail)] };
        assert!(verdict.passed());
    }
}
