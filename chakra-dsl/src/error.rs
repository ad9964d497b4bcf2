//! The one error enum of Chakra. Front doors (Rust typed layer, Python) and the executor
//! report through it; the Python package maps each variant to an exception class.

use std::fmt;

/// Result alias using [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Details of a constraint violation reported by the database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Violation {
    /// Constraint name, when the database reports one (PostgreSQL always does for unique,
    /// foreign-key and check constraints; SQLite names the columns instead).
    pub constraint: Option<String>,
    /// Table involved, when known.
    pub table: Option<String>,
    /// Column involved, when known.
    pub column: Option<String>,
    /// The database's own message.
    pub message: String,
    /// The database's detail (PostgreSQL's `DETAIL`, e.g. `Key (username)=(bob) already
    /// exists.`), else its message (boxed: errors stay small).
    pub detail: Option<Box<str>>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.constraint {
            write!(f, "constraint {c:?}")?;
        } else if let (Some(t), Some(c)) = (&self.table, &self.column) {
            write!(f, "{t}.{c}")?;
        } else if let Some(c) = &self.column {
            write!(f, "column {c:?}")?;
        } else if let Some(t) = &self.table {
            write!(f, "a constraint of table {t:?}")?;
        } else {
            f.write_str("unnamed constraint")?;
        }
        if let Some(t) = &self.table {
            if self.constraint.is_some() {
                write!(f, " on table {t:?}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// A failure the database reported that is about concurrency or time (a deadlock, a
/// serialization failure, a lost connection, a timeout), with what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Failure {
    /// The table involved: the one the database named, else the one the failing statement
    /// writes or reads first.
    pub table: Option<String>,
    /// The SQLSTATE code (`40P01`, `40001`, `55P03`, `57014`, `57P01`, `08006`), when the
    /// backend has one (SQLite has none).
    pub sqlstate: Option<String>,
    /// The database's (or driver's) own message.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.table {
            write!(f, " on table {t:?}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(c) = &self.sqlstate {
            write!(f, " (SQLSTATE {c})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in Chakra, told apart so callers can react to each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A query that must return one row returned none.
    #[error("{model} matching query does not exist{}", detail_suffix(.detail))]
    NotFound {
        /// Model name.
        model: String,
        /// What was looked for (e.g. `id=1`), when known.
        detail: Option<String>,
    },
    /// A query that must return one row returned several.
    #[error("get() returned more than one {model}: it returned {}", count_text(*.count))]
    MultipleObjectsReturned {
        /// Model name.
        model: String,
        /// How many rows matched (at least 2; 21 means "more than 20", the most counted).
        count: usize,
    },
    /// A UNIQUE or PRIMARY KEY constraint was violated.
    #[error("unique violation on {0}")]
    UniqueViolation(Violation),
    /// A FOREIGN KEY constraint was violated.
    #[error("foreign key violation on {0}")]
    ForeignKeyViolation(Violation),
    /// A NOT NULL constraint was violated.
    #[error("not-null violation on {0}")]
    NotNullViolation(Violation),
    /// A CHECK constraint was violated.
    #[error("check violation on {0}")]
    CheckViolation(Violation),
    /// A field name that the model does not have.
    #[error("{model} has no field named {field:?}; choices are: {}", .choices.join(", "))]
    UnknownField {
        /// Model name.
        model: String,
        /// The unknown name.
        field: String,
        /// The valid field names.
        choices: Vec<String>,
    },
    /// A lookup that does not exist or does not apply to the field's type.
    #[error("unsupported lookup {lookup:?} for {model}.{field}; choices are: {}", .choices.join(", "))]
    UnknownLookup {
        /// Model name.
        model: String,
        /// Field name.
        field: String,
        /// The bad lookup.
        lookup: String,
        /// Lookups valid for this field.
        choices: Vec<String>,
    },
    /// A value that does not fit the column it is meant for.
    #[error("bad value for {model}.{field}: {value} is not a valid {expected}{}", detail_suffix(.reason))]
    BadValue {
        /// Model name.
        model: String,
        /// Field name.
        field: String,
        /// The offending value, printed.
        value: String,
        /// The expected canonical type.
        expected: String,
        /// Why, when there is more to say.
        reason: Option<String>,
    },
    /// An aggregate over a field it does not apply to (`Sum` of a text field).
    #[error("{function}({model}.{field}): {reason}")]
    InvalidAggregate {
        /// Model name.
        model: String,
        /// The aggregated field (`*` for `Count("*")`).
        field: String,
        /// The function (`Sum`).
        function: String,
        /// Why it does not apply.
        reason: String,
    },
    /// An annotation whose name cannot be used (it is taken by a field, a relation or
    /// another annotation).
    #[error("annotation {name:?} on {model}: {reason}")]
    AnnotationConflict {
        /// Model name.
        model: String,
        /// The annotation's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// An identifier (table, column, alias) that cannot be used safely.
    #[error("invalid identifier {ident:?}: {reason}")]
    InvalidIdentifier {
        /// The identifier.
        ident: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A database URL that cannot be used.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (password removed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Configuration that cannot be used (`chakra.toml`, environment).
    #[error("configuration error: {0}")]
    Config(String),
    /// The database could not be reached, or the pool could not hand out a connection.
    #[error("connection error: {0}")]
    Connection(String),
    /// A query the IR cannot express on this backend, or an IR that does not make sense.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Any other error reported by the database, with its message and the statement.
    #[error("database error: {message}{}", detail_suffix(.sql))]
    Database {
        /// The database's message.
        message: String,
        /// The SQL that failed, when known.
        sql: Option<String>,
    },
    /// A row value could not be decoded into the expected type.
    #[error("cannot decode column {column:?}: {reason}")]
    Decode {
        /// Column name or index.
        column: String,
        /// Why.
        reason: String,
    },
    /// A relation field was read before it was loaded.
    #[error("{owner}.{relation} (related {model} rows) is not loaded: load it with select_related() or prefetch_related(), or fetch it explicitly")]
    NotLoaded {
        /// The model holding the relation (`User`).
        owner: String,
        /// The relation's name (`posts`).
        relation: String,
        /// The related model's name (`Post`).
        model: String,
    },
    /// A relation names a model that is not registered.
    #[error("{referenced_by} points at model {model:?}, which is not registered (define it, or import the module that does, before using the relation)")]
    UnknownModel {
        /// The missing model's name.
        model: String,
        /// Who names it (`Post.author`).
        referenced_by: String,
    },
    /// A relation name that the model does not have.
    #[error("{model} has no relation named {relation:?}; relations are: {}", .choices.join(", "))]
    UnknownRelation {
        /// Model name.
        model: String,
        /// The unknown name.
        relation: String,
        /// The valid relation names.
        choices: Vec<String>,
    },
    /// A relation declared in a way that cannot work (a missing key column, a missing
    /// primary key, a one-to-many asked for where one row is needed).
    #[error("relation {model}.{relation}: {reason}")]
    InvalidRelation {
        /// Model name.
        model: String,
        /// Relation name.
        relation: String,
        /// What is wrong.
        reason: String,
    },
    /// A delete (or key update) refused because other rows still reference the row
    /// (`ON DELETE RESTRICT` / `NO ACTION`). Nothing was deleted.
    #[error("delete restricted by {0}")]
    DeleteRestricted(Violation),
    /// A transaction was used after it ended, or failed in a way that needs a rollback.
    #[error("transaction error: {0}")]
    Transaction(String),
    /// A migration file, the migration history or a migration plan that cannot be used (the
    /// message names the file and line when there is one).
    #[error("migration error: {0}")]
    Migration(String),
    /// A tracked row's UPDATE (or DELETE) matched no row: another transaction changed the
    /// columns it changed (or its version column), or deleted the row, since it was read.
    /// Nothing was written; re-running the transaction reads the new values. Retryable.
    #[error("concurrent update of {model} with key {key} (table {table:?}): the row changed or was deleted since it was read, so this write was not made; re-run the transaction")]
    ConcurrentUpdate {
        /// Model name.
        model: String,
        /// Table name.
        table: String,
        /// The row's primary key, printed.
        key: String,
    },
    /// The database broke a deadlock by failing this transaction (SQLSTATE 40P01). Retryable.
    #[error("deadlock detected{0}")]
    Deadlock(Failure),
    /// The database could not serialize this transaction with concurrent ones (SQLSTATE
    /// 40001, under `REPEATABLE READ` / `SERIALIZABLE`). Retryable.
    #[error("serialization failure{0}")]
    SerializationFailure(Failure),
    /// The connection died while a statement was sent or running (server restart,
    /// `pg_terminate_backend`, network). Outside a transaction Chakra has already retried on
    /// another connection when nothing had run; inside one the transaction is lost.
    /// Retryable (the whole transaction).
    #[error("connection lost{0}")]
    ConnectionLost(Failure),
    /// A lock could not be taken in time (PostgreSQL `lock_timeout` or `NOWAIT`, SQLSTATE
    /// 55P03; SQLite `database is locked` after its busy timeout). Retryable.
    #[error("lock not available{0}")]
    LockTimeout(Failure),
    /// A statement ran longer than the statement timeout and was cancelled (SQLSTATE 57014).
    /// Not retryable: the same statement would time out again.
    #[error("statement timeout{0}")]
    StatementTimeout(Failure),
    /// No pooled connection became free within the pool's wait timeout.
    #[error("no connection free in the pool (max_size {pool_size}) within {waited_ms} ms: raise the pool's max_size or wait_timeout, or hold connections for less time")]
    ConnectionTimeout {
        /// The pool's most connections.
        pool_size: usize,
        /// How long the caller waited, in milliseconds.
        waited_ms: u64,
    },
    /// A database name no configuration declares (`using("analytics")` with no
    /// `[databases.analytics]`).
    #[error("unknown database {name:?}: the configured databases are {known}")]
    UnknownDatabase {
        /// The name asked for.
        name: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// A query that would join tables of models bound to different databases (a filter or
    /// `select_related` across a relation whose other side lives elsewhere).
    #[error("{model} is on database {database:?} but the query also reads {other_model}, bound to database {other_database:?}: a query cannot join across databases; read each side with its own query")]
    CrossDatabase {
        /// The model the query is over.
        model: String,
        /// Its database.
        database: String,
        /// The model reached through a relation.
        other_model: String,
        /// The database it is bound to.
        other_database: String,
    },
    /// A write or migration sent to a database that only reads: a primary that became
    /// read-only (`default_transaction_read_only`, a standby promoted elsewhere), or a
    /// migration pointed at a standby (`pg_is_in_recovery()`).
    #[error("database {database} is read-only: {reason}")]
    ReadOnlyDatabase {
        /// The database (its name, or its URL without password).
        database: String,
        /// What was refused and why.
        reason: String,
    },
    /// A generated model layer (`chakra generate models`) disagrees with the migrations the
    /// database has applied: it was generated from migrations the database has not applied,
    /// or the database has applied some it was not generated from (or a changed file).
    /// Checked when a pool connects; `schema_check = "warn"` or `"off"` relaxes it.
    #[error("the generated models in {module} ({models}) are stale against database {database}: {}; regenerate them (chakra generate models) or apply the migrations (chakra migrate apply, which this check never stops), or connect with schema_check=warn or schema_check=off", .differences.join("; "))]
    StaleModels {
        /// The generated module (its Rust module path or Python module name).
        module: String,
        /// Its models, comma-separated.
        models: String,
        /// The database (its URL without password).
        database: String,
        /// Each difference, in words.
        differences: Vec<String>,
    },
    /// A model's validation hook (Rust `Hooks::validate`, Python `clean()`) refused the
    /// object before anything was written: messages per field name, `__all__` for the
    /// object as a whole (Django's `NON_FIELD_ERRORS`).
    #[error("{model} failed validation: {}", validation_text(.errors))]
    Validation {
        /// Model name.
        model: String,
        /// Messages per field name (`__all__`: about the whole object), sorted by name.
        errors: std::collections::BTreeMap<String, Vec<String>>,
    },
}

fn validation_text(errors: &std::collections::BTreeMap<String, Vec<String>>) -> String {
    errors
        .iter()
        .map(|(field, msgs)| format!("{field}: {}", msgs.join("; ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Most rows `get()` reads before it stops counting.
pub const MAX_GET_RESULTS: usize = 21;

fn count_text(n: usize) -> String {
    if n >= MAX_GET_RESULTS {
        format!("more than {}", MAX_GET_RESULTS - 1)
    } else {
        n.to_string()
    }
}

fn detail_suffix(d: &Option<String>) -> String {
    match d {
        Some(d) => format!(" ({d})"),
        None => String::new(),
    }
}

impl Error {
    /// True when re-running the transaction may succeed: a concurrent update, a deadlock, a
    /// serialization failure, a lost connection, a lock timeout.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Error::ConcurrentUpdate { .. }
                | Error::Deadlock(_)
                | Error::SerializationFailure(_)
                | Error::ConnectionLost(_)
                | Error::LockTimeout(_)
        )
    }

    /// The SQLSTATE the database reported for a concurrency or timeout failure.
    pub fn sqlstate(&self) -> Option<&str> {
        self.failure().and_then(|f| f.sqlstate.as_deref())
    }

    /// The details of a concurrency or timeout failure reported by the database.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Error::Deadlock(f)
            | Error::SerializationFailure(f)
            | Error::ConnectionLost(f)
            | Error::LockTimeout(f)
            | Error::StatementTimeout(f) => Some(f),
            _ => None,
        }
    }

    /// The constraint violation details, if this is an integrity error.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Error::UniqueViolation(v)
            | Error::ForeignKeyViolation(v)
            | Error::DeleteRestricted(v)
            | Error::NotNullViolation(v)
            | Error::CheckViolation(v) => Some(v),
            _ => None,
        }
    }
}
