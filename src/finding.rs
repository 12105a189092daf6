//! The one diagnostic type of the crate. Rule failures, input errors and
//! policy explanations are all a `Finding`: a message, labelled spans in one
//! source text, a help line with the next step, and related findings
//! for spans in other sources.

use std::fmt;
use std::ops::Range;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::source::SourceText;

#[derive(Debug, Clone)]
pub struct Finding {
    /// A stable code: the rule name for rule findings, `input::…` or
    /// `policy::…` for errors in what the user gave.
    pub code: String,
    pub severity: miette::Severity,
    pub message: String,
    pub help: Option<String>,
    pub source: Option<SourceText>,
    pub labels: Vec<Label>,
    pub related: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct Label {
    pub span: Range<usize>,
    pub text: Option<String>,
    pub primary: bool,
}

impl Finding {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            severity: miette::Severity::Error,
            message: message.into(),
            help: None,
            source: None,
            labels: Vec::new(),
            related: Vec::new(),
        }
    }

    pub fn with_severity(mut self, severity: miette::Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_source(mut self, source: SourceText) -> Self {
        self.source = Some(source);
        self
    }

    /// Adds a label. The first label added is the primary one.
    pub fn with_label(mut self, span: Range<usize>, text: impl Into<String>) -> Self {
        let primary = self.labels.is_empty();
        self.labels.push(Label { span, text: Some(text.into()), primary });
        self
    }

    /// Labels a span in `source`. When the finding already points into
    /// another source, the label goes into a related finding instead, because
    /// one miette diagnostic renders one source.
    pub fn with_label_in(mut self, source: &SourceText, span: Range<usize>, text: impl Into<String>) -> Self {
        match &self.source {
            None => self.with_source(source.clone()).with_label(span, text),
            Some(current) if current.same(source) => self.with_label(span, text),
            Some(_) => {
                let text = text.into();
                let related = self.related.iter_mut().find(|related| related.source.as_ref().is_some_and(|s| s.same(source)));
                match related {
                    Some(related) => related.labels.push(Label { span, text: Some(text), primary: false }),
                    None => {
                        let related = Finding::error(self.code.clone(), format!("see {}", source.name()))
                            .with_severity(miette::Severity::Advice)
                            .with_source(source.clone())
                            .with_label(span, text);
                        self.related.push(related);
                    }
                }
                self
            }
        }
    }

    /// Renders with miette's graphical handler, without colour, wrapped at
    /// `width` columns: stable text for snapshots and plain terminals.
    pub fn render_plain(&self, width: usize) -> String {
        render(self, width, false)
    }

    /// Returns the source name and the 1-based line and column of the primary
    /// label, for reporters that need a position (GitHub annotations).
    pub fn position(&self) -> Option<(String, usize, usize)> {
        let source = self.source.as_ref()?;
        let label = self.labels.iter().find(|label| label.primary).or(self.labels.first())?;
        let (line, column) = source.line_column(label.span.start);
        Some((source.name().to_string(), line, column))
    }
}

/// Renders a diagnostic with miette's graphical handler at `width` columns.
/// Lines wrap only at spaces, never inside an ARN, a rule name or a command,
/// so that every name in a message can be copied whole.
pub fn render(diagnostic: &dyn miette::Diagnostic, width: usize, color: bool) -> String {
    let theme = if color { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.to_string();
    }
    out
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Finding {}

impl Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.source.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().map(|label| {
            let span = label.span.clone();
            if label.primary {
                LabeledSpan::new_primary_with_span(label.text.clone(), span)
            } else {
                LabeledSpan::new_with_span(label.text.clone(), span)
            }
        })))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|related| related as &dyn Diagnostic)))
    }
}
