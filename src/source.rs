//! Named source text that diagnostics point into: an ARN argument, a snapshot
//! file, a policy document.

use std::fmt;
use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Cheaply clonable text with the name a diagnostic shows for it (a file
/// path, or a flag such as `--test`).
#[derive(Clone)]
pub struct SourceText {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    text: String,
}

impl SourceText {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { inner: Arc::new(Inner { name: name.into(), text: text.into() }) }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// Returns the 1-based line and column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        crate::json::line_column(self.text(), offset)
    }

    /// Tells whether two handles share the same text.
    pub fn same(&self, other: &SourceText) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceText").field("name", &self.inner.name).field("length", &self.inner.text.len()).finish()
    }
}

impl SourceCode for SourceText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = self.inner.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.inner.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}
