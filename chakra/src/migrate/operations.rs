//! The parsed form of a migration file: [`Migration`] and its [`Operation`]s.
//!
//! Operations name tables, not model classes: a Python service and a Rust service share the
//! tables, not the class names. Fields are [`FieldMeta`], the same description the model
//! registry holds, so the state replay and the autodetector compare like with like.

use crate::Dialect;
use chakra_dsl::table_options::{Cond, IndexExpr};
use chakra_dsl::FieldMeta;
use chakra_dsl::OnDelete;

/// A dependency of a migration on another migration (`["users", "0001_initial"]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dependency {
    /// The app holding the migration.
    pub app: String,
    /// The migration id (`0001_initial`).
    pub id: String,
}

/// One migration file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The migration id, equal to the file name without `.toml` (`0001_initial`).
    pub id: String,
    /// The app the migration belongs to (its folder name).
    pub app: String,
    /// Migrations that must be applied first.
    pub dependencies: Vec<Dependency>,
    /// False for a migration that cannot run inside a transaction (`CREATE INDEX
    /// CONCURRENTLY`); true (the default) runs the whole migration and its history row in one.
    pub atomic: bool,
    /// PostgreSQL: how long each of its statements may wait for a table lock
    /// (`lock_timeout = "10s"`); `None`: the migrator's (`--ddl-lock-timeout`, default 5 s).
    pub lock_timeout: Option<std::time::Duration>,
    /// The operations, in order.
    pub operations: Vec<Operation>,
}

impl Migration {
    /// The `(app, id)` key of this migration.
    pub fn key(&self) -> Dependency {
        Dependency {
            app: self.app.clone(),
            id: self.id.clone(),
        }
    }
}

/// A named index over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexDef {
    /// Index name (unique in the database).
    pub name: String,
    /// Indexed columns, in order.
    pub columns: Vec<String>,
    /// Keys computed from the row, after the columns (an expression index: `lower(email)`,
    /// over field names, compiled per dialect).
    pub expressions: Vec<IndexExpr>,
    /// A UNIQUE index.
    pub unique: bool,
    /// A partial index: only rows where this lookup condition holds (over the table's
    /// fields, compiled per dialect).
    pub condition: Option<Cond>,
}

/// What a table constraint enforces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConstraintKind {
    /// `UNIQUE (columns…)`.
    Unique {
        /// The columns.
        columns: Vec<String>,
    },
    /// `CHECK (expression)`; the expression is SQL both dialects accept.
    Check {
        /// The SQL expression.
        check: String,
    },
    /// `CHECK (condition)` with the condition in the lookup language (`{ age__gte = 18 }`),
    /// compiled per dialect: what models declare (`CheckConstraint`).
    CheckLookup {
        /// The condition every row must satisfy.
        condition: Cond,
    },
    /// `FOREIGN KEY (columns…) REFERENCES table (columns…) ON DELETE …`.
    ForeignKey {
        /// Referencing columns.
        columns: Vec<String>,
        /// Referenced table.
        table: String,
        /// Referenced columns.
        referenced: Vec<String>,
        /// `ON DELETE` behaviour.
        on_delete: OnDelete,
    },
}

/// A named table constraint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConstraintDef {
    /// Constraint name.
    pub name: String,
    /// What it enforces.
    pub kind: ConstraintKind,
}

/// SQL text for `RunSQL`: one text for every dialect, or one per dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialectSql {
    /// The same SQL on every dialect.
    All(String),
    /// Per dialect; a dialect without text runs nothing.
    PerDialect {
        /// PostgreSQL text.
        postgres: Option<String>,
        /// SQLite text.
        sqlite: Option<String>,
        /// MySQL/MariaDB text.
        mysql: Option<String>,
    },
}

impl DialectSql {
    /// The text for a dialect, if any.
    pub fn for_dialect(&self, d: Dialect) -> Option<&str> {
        match self {
            DialectSql::All(s) => Some(s),
            DialectSql::PerDialect {
                postgres,
                sqlite,
                mysql,
            } => match d {
                Dialect::Postgres => postgres.as_deref(),
                Dialect::Sqlite => sqlite.as_deref(),
                Dialect::Mysql => mysql.as_deref(),
            },
        }
    }
}

/// What a `RunSQL` says it creates (`creates = ["index users_email_ci"]`), so the history
/// knows it: `check` does not report it, and a rollback without `reverse_sql` drops it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawObject {
    /// An index, by name.
    Index(String),
    /// A trigger, by name.
    Trigger(String),
}

impl RawObject {
    /// Reads `"index <name>"` / `"trigger <name>"`.
    pub fn parse(text: &str) -> Result<RawObject, String> {
        let mut words = text.split_whitespace();
        let (kind, name) = match (words.next(), words.next(), words.next()) {
            (Some(k), Some(n), None) => (k, n),
            _ => {
                return Err(format!(
                    "{text:?}: write \"index <name>\" or \"trigger <name>\""
                ))
            }
        };
        chakra_dsl::ident::validate(name).map_err(|e| format!("{text:?}: {e}"))?;
        match kind.to_ascii_lowercase().as_str() {
            "index" => Ok(RawObject::Index(name.to_owned())),
            "trigger" => Ok(RawObject::Trigger(name.to_owned())),
            other => Err(format!(
                "{text:?}: RunSQL can declare an index or a trigger, not {other:?}"
            )),
        }
    }
}

impl std::fmt::Display for RawObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawObject::Index(n) => write!(f, "index {n}"),
            RawObject::Trigger(n) => write!(f, "trigger {n}"),
        }
    }
}

/// One schema change.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Creates a table.
    CreateModel {
        /// Model name (`User`), kept for the autodetector and messages.
        name: String,
        /// Table name.
        table: String,
        /// Columns, in order.
        fields: Vec<FieldMeta>,
        /// Indexes created with the table.
        indexes: Vec<IndexDef>,
        /// Table constraints created with the table.
        constraints: Vec<ConstraintDef>,
    },
    /// Drops a table.
    DeleteModel {
        /// Table name.
        table: String,
    },
    /// Renames a table (and its model).
    RenameModel {
        /// Current table name.
        table: String,
        /// New table name.
        new_table: String,
        /// New model name; unchanged when `None`.
        new_name: Option<String>,
    },
    /// Adds a column.
    AddField {
        /// Table name.
        table: String,
        /// The new field.
        field: FieldMeta,
    },
    /// Drops a column.
    RemoveField {
        /// Table name.
        table: String,
        /// Field name.
        name: String,
    },
    /// Changes a column to a new definition (type, nullability, default, unique, index,
    /// foreign key). The field keeps its name and column.
    AlterField {
        /// Table name.
        table: String,
        /// The complete new definition.
        field: FieldMeta,
        /// `lossy = true`: a type change that may change or fail on existing values runs
        /// without the check against the data (`lint` reports it, DT102).
        lossy: bool,
        /// `using = "…"`: how existing values convert, an SQL expression over the table's
        /// columns as they were (`CAST(replace(price, ',', '') AS INTEGER)`), used by
        /// PostgreSQL's `USING` and SQLite's rebuild copy alike; it replaces the check
        /// against the data.
        using: Option<String>,
    },
    /// Renames a field; its column follows when the column was named like the field.
    RenameField {
        /// Table name.
        table: String,
        /// Current field name.
        name: String,
        /// New field name.
        new_name: String,
    },
    /// Creates an index.
    AddIndex {
        /// Table name.
        table: String,
        /// The index.
        index: IndexDef,
    },
    /// Drops an index.
    RemoveIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
    },
    /// Adds a table constraint.
    AddConstraint {
        /// Table name.
        table: String,
        /// The constraint.
        constraint: ConstraintDef,
    },
    /// Drops a table constraint.
    RemoveConstraint {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// Raw SQL, per dialect, with an optional reverse. Does not change the schema state.
    RunSql {
        /// Forward SQL.
        sql: DialectSql,
        /// Reverse SQL; without it the operation cannot be rolled back, unless it only
        /// creates indexes it declares in `creates` (then they are dropped).
        reverse_sql: Option<DialectSql>,
        /// The indexes and triggers it creates (`creates = ["index name", …]`), known to
        /// the history.
        creates: Vec<RawObject>,
    },
}

impl Operation {
    /// The `type = …` name written in migration files.
    pub fn type_name(&self) -> &'static str {
        match self {
            Operation::CreateModel { .. } => "CreateModel",
            Operation::DeleteModel { .. } => "DeleteModel",
            Operation::RenameModel { .. } => "RenameModel",
            Operation::AddField { .. } => "AddField",
            Operation::RemoveField { .. } => "RemoveField",
            Operation::AlterField { .. } => "AlterField",
            Operation::RenameField { .. } => "RenameField",
            Operation::AddIndex { .. } => "AddIndex",
            Operation::RemoveIndex { .. } => "RemoveIndex",
            Operation::AddConstraint { .. } => "AddConstraint",
            Operation::RemoveConstraint { .. } => "RemoveConstraint",
            Operation::RunSql { .. } => "RunSQL",
        }
    }

    /// A one-line description for messages (`AddField users.email`).
    pub fn describe(&self) -> String {
        match self {
            Operation::CreateModel { table, .. } | Operation::DeleteModel { table } => {
                format!("{} {table}", self.type_name())
            }
            Operation::RenameModel {
                table, new_table, ..
            } => format!("RenameModel {table} -> {new_table}"),
            Operation::AddField { table, field } | Operation::AlterField { table, field, .. } => {
                format!("{} {table}.{}", self.type_name(), field.name)
            }
            Operation::RemoveField { table, name } => format!("RemoveField {table}.{name}"),
            Operation::RenameField {
                table,
                name,
                new_name,
            } => format!("RenameField {table}.{name} -> {new_name}"),
            Operation::AddIndex { table, index } => format!("AddIndex {table}.{}", index.name),
            Operation::RemoveIndex { table, name } => format!("RemoveIndex {table}.{name}"),
            Operation::AddConstraint { table, constraint } => {
                format!("AddConstraint {table}.{}", constraint.name)
            }
            Operation::RemoveConstraint { table, name } => {
                format!("RemoveConstraint {table}.{name}")
            }
            Operation::RunSql { .. } => "RunSQL".into(),
        }
    }
}
