//! Field-level findings of the pure rules. They know nothing of HTTP: `crate::error` turns a
//! non-empty `Validations` into a 422 `validation_failed` problem.

use serde::Serialize;
use utoipa::ToSchema;

/// One field-level problem in a 422 answer.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Collects field errors so a client learns about every bad field at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validations {
    errors: Vec<FieldError>,
}

impl Validations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut v = Self::new();
        v.add(field, message);
        v
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Adds an error for `field` unless `ok` holds.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// The fields named, in order (for tests and logs).
    pub fn fields(&self) -> Vec<&str> {
        self.errors.iter().map(|e| e.field.as_str()).collect()
    }

    /// `Ok` when nothing was found; otherwise the findings (`?` in a handler makes them a 422).
    pub fn finish(self) -> Result<(), Validations> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}
