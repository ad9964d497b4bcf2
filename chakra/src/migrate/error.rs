//! [`MigrationError`]: what went wrong with a migration file, the history or a plan, naming
//! the file and line when there is one.

use std::fmt;

/// An error from the migration engine. Converts into [`chakra_dsl::Error::Migration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationError {
    /// The file involved (`migrations/users/0001_initial.toml`), when there is one.
    pub file: Option<String>,
    /// The 1-based line in that file, when known.
    pub line: Option<usize>,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl MigrationError {
    /// An error not tied to a file.
    pub fn new(message: impl Into<String>) -> Self {
        MigrationError {
            file: None,
            line: None,
            message: message.into(),
        }
    }

    /// An error in a file, at a line when known.
    pub fn at(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        MigrationError {
            file: Some(file.into()),
            line,
            message: message.into(),
        }
    }

    /// The same error, attributed to `file` when it names none yet.
    pub fn in_file(mut self, file: &str) -> Self {
        if self.file.is_none() {
            self.file = Some(file.to_owned());
        }
        self
    }
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for MigrationError {}

impl From<MigrationError> for chakra_dsl::Error {
    fn from(e: MigrationError) -> Self {
        chakra_dsl::Error::Migration(e.to_string())
    }
}

impl From<chakra_dsl::Error> for MigrationError {
    fn from(e: chakra_dsl::Error) -> Self {
        MigrationError::new(e.to_string())
    }
}

/// Result alias for the migration engine's pure parts.
pub type MResult<T> = std::result::Result<T, MigrationError>;
