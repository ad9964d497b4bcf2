//! [`MigrateHooks`]: what differs between dialects in the migration engine (`crate::migrate`):
//! the history table's text, how a step is wrapped (transaction, lock timeout, foreign keys
//! paused), which statements can run in a transaction, how a busy write lock shows. The
//! default bodies are standard SQL; [`Dialect::migrate`] hands out the `&'static`
//! implementation. What is async I/O of several statements (the migration lock, reading
//! constraints and definitions) is dispatched here by a `match` to the rooms' functions: a
//! `&'static dyn` table cannot carry an async method without boxing its future.

use super::{mysql, postgres, sqlite, Dialect};
use crate::exec::Conn;
use crate::migrate::ddl::Plan;
use crate::migrate::definitions::TableDefinitions;
use crate::migrate::drift::DbSchema;
use crate::migrate::error::MResult;
use crate::migrate::operations::Operation;
use crate::migrate::state::State;
use chakra_dsl::{Error, FieldMeta, FieldType, Result};
use std::collections::BTreeMap;
use std::time::Duration;

/// The statements that pause foreign-key enforcement around a step that rebuilds tables
/// (SQLite: `PRAGMA foreign_keys = OFF`, `PRAGMA foreign_key_check`, `… = ON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeyPause {
    /// Turns enforcement off (before the step's transaction).
    pub off: &'static str,
    /// Lists the rows that break a foreign key (inside the transaction, before `COMMIT`).
    pub check: &'static str,
    /// Turns enforcement back on (after the transaction).
    pub on: &'static str,
}

/// The per-dialect hooks of the migration engine.
pub trait MigrateHooks: Sync {
    /// The column type of the history's `applied_at`.
    fn history_timestamp_type(&self) -> &'static str;

    /// A query answering one boolean: does `table` exist? (`table` is a trusted constant.)
    fn table_exists_sql(&self, table: &str) -> String;

    /// A query answering one count: how many columns named `column` `table` has (0 or 1;
    /// both are trusted constants). Standard SQL's `information_schema` by default.
    fn column_count_sql(&self, table: &str, column: &str) -> String {
        format!(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = '{table}' AND column_name = '{column}'"
        )
    }

    /// Drift checks: how the catalog spells the type of a column of type `ty` (the
    /// introspection type table).
    fn db_type(&self, ty: &FieldType) -> String;

    /// DDL planning: whether `ALTER TABLE` cannot drop or alter a column or a constraint, so
    /// such an operation rebuilds the table (`dialect/sqlite/rebuild.rs`); false by default.
    fn rebuilds_to_alter(&self) -> bool {
        false
    }

    /// DDL planning, where the dialect [rebuilds to alter](MigrateHooks::rebuilds_to_alter):
    /// whether `ALTER TABLE … ADD COLUMN` can still add `field` in place (else the table is
    /// rebuilt): a column that is not a key or unique, and is nullable or has a default.
    fn adds_column_in_place(&self, field: &FieldMeta) -> bool {
        !field.unique && !field.primary_key && (field.nullable || field.default.is_some())
    }

    /// DDL planning: whether indexes and constraints are renamed in place (`ALTER INDEX …
    /// RENAME`, `RENAME CONSTRAINT`) when their table or column is; else an index is dropped
    /// and made again, and constraints keep their names: true by default.
    fn renames_in_place(&self) -> bool {
        true
    }

    /// Drift checks: how the catalog spells the type of field `f`'s column: its type's
    /// ([`MigrateHooks::db_type`]) by default.
    fn db_type_of(&self, f: &FieldMeta) -> String {
        self.db_type(&f.ty)
    }

    /// Drift checks: whether a column the catalog spells `have` holds field `f` as Chakra
    /// stores it: `have` is [`MigrateHooks::db_type_of`] by default (SQLite: any declared
    /// type it reads as a field type with the same storage).
    fn db_type_matches(&self, have: &str, f: &FieldMeta) -> bool {
        have == self.db_type_of(f)
    }

    /// Drift checks: a query listing each column as `(table, column, type, nullable)`.
    fn columns_sql(&self) -> &'static str;

    /// Drift checks: a query listing each index that is not a primary key or unique
    /// constraint as `(table, index)`.
    fn indexes_sql(&self) -> &'static str;

    /// Drift checks: a query listing each user-made trigger as `(table, trigger)`.
    fn triggers_sql(&self) -> &'static str;

    /// Type-change checks: decimal column `c` (quoted) as a number to compare: itself by
    /// default.
    fn decimal_as_number(&self, c: &str) -> String {
        c.to_owned()
    }

    /// Type-change checks: a predicate true where text column `c` (quoted) does not hold a
    /// whole number (that fits a 32-bit integer, when `to_i32`).
    fn text_not_integer(&self, c: &str, to_i32: bool) -> String;

    /// The statement that begins a migration's transaction: `BEGIN`.
    fn begin(&self) -> &'static str {
        "BEGIN"
    }

    /// Can `sql` run inside a transaction? Yes by default.
    fn runs_in_transaction(&self, sql: &str) -> bool {
        let _ = sql;
        true
    }

    /// The statement bounding how long a step's DDL waits for a table lock, `ms`
    /// milliseconds, run before the step; `None` where DDL has no such setting (then a lock
    /// timeout is neither retried nor explained with the lock's holders).
    fn ddl_lock_timeout_sql(&self, ms: u128) -> Option<String> {
        let _ = ms;
        None
    }

    /// Whether DDL waits for table locks under [`MigrateHooks::ddl_lock_timeout_sql`] (so a
    /// lock timeout is retried and explained with the lock's holders).
    fn has_ddl_lock_timeout(&self) -> bool {
        self.ddl_lock_timeout_sql(1).is_some()
    }

    /// A setting for the migrator's session, run (and allowed to fail) once the lock is
    /// taken; `None` by default.
    fn session_setup(&self) -> Option<&'static str> {
        None
    }

    /// Undoes [`MigrateHooks::session_setup`] and [`MigrateHooks::ddl_lock_timeout_sql`]
    /// before the connection goes back to the pool; `None` by default.
    fn session_reset(&self) -> Option<&'static str> {
        None
    }

    /// How a step that rebuilds tables pauses foreign-key enforcement; `None` where it need
    /// not (tables are altered in place).
    fn foreign_key_pause(&self) -> Option<ForeignKeyPause> {
        None
    }

    /// Whether `e` says another connection holds the database's write lock (so the migrator
    /// waits and tries again, up to its lock timeout); false by default.
    fn write_lock_busy(&self, e: &Error) -> bool {
        let _ = e;
        false
    }

    /// Whether the migration lock belongs to one server session (so a connection through a
    /// transaction pooler cannot hold it); false by default.
    fn lock_is_per_session(&self) -> bool {
        false
    }

    /// Whether DDL runs inside a transaction (so an atomic migration commits or rolls back
    /// whole); true by default. Where it does not (MySQL: each DDL statement commits), every
    /// migration runs statement by statement with its progress recorded, as `atomic = false`
    /// migrations do.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// The column type of the history's and progress record's `app`, `id` and `checksum`
    /// (two of them key the tables): `TEXT` by default.
    fn history_key_type(&self) -> &'static str {
        "TEXT"
    }

    /// The end of `INSERT INTO chakra_migration_progress (…) VALUES (…)` that replaces an
    /// existing record of the same migration: `ON CONFLICT … DO UPDATE` by default.
    fn progress_upsert_tail(&self) -> &'static str {
        ") ON CONFLICT (\"app\", \"id\") DO UPDATE SET \"checksum\" = excluded.\"checksum\", \"done\" = excluded.\"done\""
    }

    /// The history's next `seq`, as an expression in `INSERT INTO chakra_migrations`.
    fn next_seq_sql(&self) -> &'static str {
        "(SELECT coalesce(max(\"seq\"), 0) + 1 FROM \"chakra_migrations\")"
    }

    /// DDL planning: the statements of `op` (from state `before` to `after`) where this
    /// dialect writes them itself; `Ok(None)` (the default) leaves them to the planner's
    /// standard forms (`migrate/ddl.rs`).
    fn plan_operation(
        &self,
        op: &Operation,
        before: &State,
        after: &State,
    ) -> MResult<Option<Plan>> {
        let _ = (op, before, after);
        Ok(None)
    }

    /// Whether a failure of `sql`, re-run after a crash may have cut it off, says its effect
    /// is already there (the table or column exists, the index is gone …), so the step
    /// counts as done; false by default (where DDL is transactional nothing is half-done).
    fn already_done(&self, sql: &str, e: &Error) -> bool {
        let _ = (sql, e);
        false
    }

    /// Whether a resumed statement that may have been cut off runs in its idempotent form
    /// (`CREATE INDEX IF NOT EXISTS`, [`crate::migrate::plan::idempotent_form`]); true by
    /// default.
    fn idempotent_ddl_forms(&self) -> bool {
        true
    }

    /// Drift checks: whether the catalog lists a unique index as a unique key, not as an
    /// index (MySQL: the two are one thing), so a declared unique index is compared as a
    /// unique key; false by default.
    fn unique_indexes_are_keys(&self) -> bool {
        false
    }

    /// Drift checks: whether the database makes an index for a foreign-key constraint that
    /// has none, named after the constraint (MySQL), so such an index is the key's, not
    /// drift; false by default.
    fn foreign_keys_make_indexes(&self) -> bool {
        false
    }

    /// The function counting a text's characters: `length`.
    fn char_length_fn(&self) -> &'static str {
        "length"
    }

    /// The type a value is cast to to read it as text (`CAST(c AS TEXT)`).
    fn text_cast(&self) -> &'static str {
        "TEXT"
    }

    /// The type a value is cast to to read it as a 64-bit integer (`CAST(… AS BIGINT)`).
    fn integer_cast(&self) -> &'static str {
        "BIGINT"
    }

    /// What `migrate sql` prints before the script so that pasting it runs it as Chakra's
    /// connections would (MySQL: the session's `sql_mode`); `None` by default.
    fn script_preamble(&self) -> Option<String> {
        None
    }

    /// `lint`: a warning for operation `op` that copies the whole table on this dialect
    /// (blocking writes while it runs), `None` where it does not.
    fn copies_table(&self, op: &Operation, before: &State) -> Option<String> {
        let _ = (op, before);
        None
    }
}

impl Dialect {
    /// The dialect's migration hooks (a `&'static` table).
    pub fn migrate(self) -> &'static dyn MigrateHooks {
        match self {
            Dialect::Postgres => &postgres::Postgres,
            Dialect::Sqlite => &sqlite::Sqlite,
            Dialect::Mysql => &mysql::Mysql,
        }
    }
}

/// Takes the migration lock on `conn`, polling until `timeout`; `notify` hears once that the
/// lock is busy and who holds it. PostgreSQL: a session advisory lock; MySQL: `GET_LOCK` (a
/// session lock); SQLite: nothing here (each migration's `BEGIN IMMEDIATE` is the database's
/// write lock). A match rather than a
/// hook: the lock is async I/O, which a `&'static dyn` table cannot carry without boxing.
pub async fn lock(
    conn: &mut Conn,
    timeout: Duration,
    notify: &(dyn Fn(&str) + Send + Sync),
) -> Result<()> {
    match conn.dialect() {
        Dialect::Postgres => postgres::migrate_lock::lock(conn, timeout, notify).await,
        Dialect::Sqlite => Ok(()),
        Dialect::Mysql => mysql::migrate_lock::lock(conn, timeout, notify).await,
    }
}

/// Releases the migration lock [`lock`] took.
pub async fn unlock(conn: &mut Conn) -> Result<()> {
    match conn.dialect() {
        Dialect::Postgres => postgres::migrate_lock::unlock(conn).await,
        Dialect::Sqlite => Ok(()),
        Dialect::Mysql => mysql::migrate_lock::unlock(conn).await,
    }
}

/// Drift checks: fills the defaults, unique constraints, foreign keys and CHECK counts of
/// every table in `out` (each already set to empty).
pub async fn read_constraints(conn: &mut Conn, out: &mut DbSchema) -> Result<()> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::read_constraints(conn, out).await,
        Dialect::Sqlite => sqlite::introspect::read_constraints(conn, out).await,
        Dialect::Mysql => mysql::introspect::read_constraints(conn, out).await,
    }
}

/// `migrate inspect`: fills every table of `cat` (columns already read) with what its room
/// reads: field types, keys, foreign keys, indexes, CHECK constraints.
pub async fn read_catalog(
    conn: &mut Conn,
    cat: &mut crate::migrate::inspect::Catalog,
) -> Result<()> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::read_catalog(conn, cat).await,
        Dialect::Sqlite => sqlite::introspect::read_catalog(conn, cat).await,
        Dialect::Mysql => mysql::introspect::read_catalog(conn, cat).await,
    }
}

/// Drift checks: the native enum types of the current schema with their values in order
/// (PostgreSQL's `pg_enum`), `None` where enums are not native types (SQLite's CHECKs are read
/// with the other constraints).
pub async fn read_enum_types(conn: &mut Conn) -> Result<Option<BTreeMap<String, Vec<String>>>> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::read_enum_types(conn).await.map(Some),
        Dialect::Sqlite | Dialect::Mysql => Ok(None),
    }
}

/// Drift checks: the definitions of the indexes and CHECK constraints the database has, by
/// table, in the database's own words.
pub async fn read_definitions(conn: &mut Conn) -> Result<TableDefinitions> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::read_definitions(conn).await,
        Dialect::Sqlite => sqlite::introspect::read_definitions(conn).await,
        Dialect::Mysql => mysql::introspect::read_definitions(conn).await,
    }
}

/// Drift checks: the definitions of the indexes and CHECK constraints `state` declares, in
/// the words [`read_definitions`] reads the database's (PostgreSQL: made on scratch
/// temporary tables and read back; SQLite: its `CREATE` text normalized).
pub async fn declared_definitions(conn: &mut Conn, state: &State) -> Result<TableDefinitions> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::declared_definitions(conn, state).await,
        Dialect::Sqlite => Ok(sqlite::introspect::declared_sqlite(state)),
        Dialect::Mysql => Ok(mysql::introspect::declared_definitions(state)),
    }
}

/// The sessions holding locks on `tables`, as `(table, "pid (application, state: query)")`,
/// where the dialect can tell (PostgreSQL's `pg_locks`; MySQL's metadata locks, else its open
/// transactions); empty on SQLite, whose only lock is the database's.
pub async fn table_lock_holders(
    conn: &mut Conn,
    tables: &[String],
) -> Result<Vec<(String, String)>> {
    match conn.dialect() {
        Dialect::Postgres => postgres::migrate_lock::table_lock_holders(conn, tables).await,
        Dialect::Mysql => mysql::migrate_lock::table_lock_holders(conn, tables).await,
        Dialect::Sqlite => Ok(Vec::new()),
    }
}

/// Whether the current schema has an invalid index named `name` (left by an interrupted
/// `CREATE INDEX CONCURRENTLY` on PostgreSQL); false where indexes cannot be invalid.
pub async fn invalid_index_exists(conn: &mut Conn, name: &str) -> Result<bool> {
    match conn.dialect() {
        Dialect::Postgres => postgres::introspect::invalid_index_exists(conn, name).await,
        Dialect::Sqlite | Dialect::Mysql => Ok(false),
    }
}
