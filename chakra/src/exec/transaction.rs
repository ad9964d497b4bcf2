//! [`Transaction`]: a connection held for one database transaction, with savepoints.
//!
//! Dropping a transaction that was neither committed nor rolled back (a cancelled future, a
//! panic, an early `?`) closes its connection instead of returning it to the pool: the
//! database rolls the work back and the next user of the pool never lands inside it.

use super::conn::{Conn, Row, RowByRow};
use crate::sql::{compile_parts, CompiledQuery, Dialect};
use chakra_dsl::{Error, Result, Statement};

/// How isolated a transaction is from concurrent ones. SQLite transactions are always
/// serializable (Chakra starts them with `BEGIN IMMEDIATE`, which serialises writers), so
/// every level is accepted there and changes nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// The server's default (PostgreSQL: `READ COMMITTED` unless configured otherwise).
    #[default]
    Default,
    /// `READ COMMITTED`.
    ReadCommitted,
    /// `REPEATABLE READ`: one snapshot for the whole transaction; a write to a row changed
    /// since fails with [`Error::SerializationFailure`].
    RepeatableRead,
    /// `SERIALIZABLE`: as if transactions ran one after the other; a conflict fails with
    /// [`Error::SerializationFailure`].
    Serializable,
}

impl Isolation {
    /// Parses `read committed`, `repeatable_read`, `serializable`, `default`
    /// (case-insensitive; spaces, `-` and `_` alike).
    pub fn parse(text: &str) -> Option<Isolation> {
        let t: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == '-' || c == ' ' { '_' } else { c })
            .collect();
        Some(match t.as_str() {
            "default" => Isolation::Default,
            "read_committed" => Isolation::ReadCommitted,
            "repeatable_read" => Isolation::RepeatableRead,
            "serializable" => Isolation::Serializable,
            _ => return None,
        })
    }
}

/// Options of a transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// The isolation level.
    pub isolation: Isolation,
}

/// An open transaction.
pub struct Transaction {
    conn: Option<Conn>,
    /// The connection's dialect, fixed when the transaction began.
    dialect: Dialect,
    savepoints: u32,
    /// Set when a statement fails: the savepoint depth at which it failed and its message.
    /// PostgreSQL aborts the transaction on any error while SQLite only undoes the statement;
    /// Chakra treats both alike so a commit never silently keeps half the work.
    failed: Option<(u32, String)>,
    /// Set while a statement runs: still set afterwards means its future was dropped
    /// mid-statement (a cancelled task): the statement was sent a cancel request and its
    /// outcome is unknown, so the transaction can only be rolled back, by closing its
    /// connection (a late cancel must not hit a later statement).
    in_flight: bool,
    /// Set when the server itself rolled the whole transaction back (a MySQL deadlock,
    /// [`super::ExecCaps::deadlock_ends_transaction`]): a later statement would run outside
    /// any transaction and commit at once, so every statement is refused until rollback.
    ended_by_server: Option<String>,
    /// The read-your-writes scope this transaction's commit is recorded in (a pool made
    /// with [`super::Pool::marking`]): after COMMIT, when it wrote, the primary's WAL
    /// position is read on the same connection ([`crate::databases::wal`]).
    mark: Option<crate::databases::wal::WalMark>,
    /// The connection is behind a transaction pooler (how the WAL position is read).
    pooled: bool,
    /// Something that may have written ran (anything but a plain `SELECT`); checked only
    /// while `mark` is set (nothing else reads it).
    wrote: bool,
    /// A statement ran unchecked (no mark set then): one that returns rows may have written
    /// (`INSERT … RETURNING`), so a mark set afterwards counts it as a write.
    unchecked: bool,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("open", &self.conn.is_some())
            .field("savepoints", &self.savepoints)
            .finish()
    }
}

impl Transaction {
    /// Begins a transaction on `conn` (`BEGIN IMMEDIATE` on SQLite, so two writers queue on
    /// the busy timeout instead of failing on lock upgrade).
    pub async fn begin(conn: Conn) -> Result<Transaction> {
        Transaction::begin_with(conn, TxOptions::default()).await
    }

    /// Begins a transaction with options. When `BEGIN` fails the connection is closed.
    pub async fn begin_with(conn: Conn, opts: TxOptions) -> Result<Transaction> {
        Transaction::begin_with_setup(conn, opts, None).await
    }

    /// Begins a transaction and runs `setup` (transaction-local settings such as
    /// `SET LOCAL statement_timeout`) in the same round trip.
    pub(crate) async fn begin_with_setup(
        conn: Conn,
        opts: TxOptions,
        setup: Option<&str>,
    ) -> Result<Transaction> {
        let begin = conn.begin_sql(opts.isolation);
        let dialect = conn.dialect();
        let sql = match setup {
            Some(s) => std::borrow::Cow::Owned(format!("{begin}; {s}")),
            None => std::borrow::Cow::Borrowed(begin),
        };
        // Owned by the transaction from the start: dropped mid-BEGIN, it is closed.
        let mut t = Transaction {
            conn: Some(conn),
            dialect,
            savepoints: 0,
            failed: None,
            in_flight: false,
            ended_by_server: None,
            mark: None,
            pooled: false,
            wrote: false,
            unchecked: false,
        };
        if let Err(e) = t.conn()?.batch_execute(&sql).await {
            if let Some(c) = t.conn.take() {
                c.discard();
            }
            return Err(e);
        }
        Ok(t)
    }

    /// Records this transaction's commit in `mark` (see [`super::Pool::marking`]).
    /// `pooled`: the connection is behind a transaction pooler.
    /// Meant for right after `BEGIN`: whether a statement may write is checked only while a
    /// mark is set ([`Transaction::note_writes`]); set later, after statements ran
    /// unchecked, the transaction counts as having written (its commit is recorded).
    pub(crate) fn set_mark(&mut self, mark: Option<crate::databases::wal::WalMark>, pooled: bool) {
        if mark.is_some() && self.unchecked {
            self.wrote = true;
        }
        self.mark = mark;
        self.pooled = pooled;
    }

    /// Notes that `q` may have written (anything but a plain `SELECT`), for the commit's WAL
    /// position. Asked only when that position will be recorded (a mark is set) and nothing
    /// that wrote has run yet: [`CompiledQuery::is_plain_select`] upper-cases and searches
    /// the statement's text (1.6–3.0 k instructions for a get's or a filtered query's).
    fn note_writes(&mut self, q: &CompiledQuery) {
        if self.mark.is_none() {
            self.unchecked = true;
        } else if !self.wrote {
            self.wrote = !q.is_plain_select();
        }
    }

    fn conn(&mut self) -> Result<&mut Conn> {
        if let Some(why) = &self.ended_by_server {
            return Err(Error::Transaction(format!(
                "the database rolled this transaction back ({why}): it can only be rolled back"
            )));
        }
        if self.in_flight {
            return Err(Error::Transaction(
                "a statement of this transaction was cancelled while it ran: the transaction can only be rolled back".into(),
            ));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::Transaction("the transaction has already ended".into()))
    }

    /// The dialect of the underlying connection (fixed when the transaction began).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The tables its pool's database was seen to hold ([`super::KnownTables`]); `None`
    /// once the transaction has ended.
    pub fn known_tables(&self) -> Option<super::KnownTables> {
        self.conn.as_ref().map(|c| c.known_tables().clone())
    }

    /// How many savepoints are open.
    pub fn savepoint_depth(&self) -> u32 {
        self.savepoints
    }

    /// Runs a statement and returns its rows.
    pub async fn fetch(&mut self, stmt: &Statement) -> Result<Vec<Row>> {
        if let Some(each) = RowByRow::of(stmt, self.dialect())? {
            return Ok(self.fetch_each(&each, true).await?.0);
        }
        let mut out = Vec::new();
        for q in &compile_parts(stmt, self.dialect())? {
            out.extend(self.fetch_compiled(q).await?);
        }
        Ok(out)
    }

    /// Runs a statement and returns the affected-row count.
    pub async fn execute(&mut self, stmt: &Statement) -> Result<u64> {
        if let Some(each) = RowByRow::of(stmt, self.dialect())? {
            return Ok(self.fetch_each(&each, false).await?.1);
        }
        let mut n = 0;
        for q in &compile_parts(stmt, self.dialect())? {
            n += self.execute_compiled(q).await?;
        }
        Ok(n)
    }

    fn track<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e @ Error::Deadlock(_)) = &r {
            if super::caps(self.dialect).deadlock_ends_transaction {
                self.ended_by_server = Some(e.to_string());
            }
        }
        if let Err(e) = &r {
            if !matches!(e, Error::Decode { .. }) && self.failed.is_none() {
                self.failed = Some((self.savepoints, e.to_string()));
            }
        }
        r
    }

    /// The error that put the transaction in the failed state, if any. A failed transaction
    /// can only be rolled back (or the failing savepoint rolled back).
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_ref().map(|(_, m)| m.as_str())
    }

    /// Runs a compiled statement and returns its rows.
    pub async fn fetch_compiled(&mut self, q: &CompiledQuery) -> Result<Vec<Row>> {
        self.conn()?;
        self.note_writes(q);
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.fetch(q).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs a compiled statement that returns rows, each read into an `M` by its generated
    /// row reader ([`Conn::fetch_models`]).
    pub async fn fetch_compiled_models<M: chakra_dsl::typed::ReadRow>(
        &mut self,
        q: &CompiledQuery,
    ) -> Result<Vec<M>> {
        self.conn()?;
        self.note_writes(q);
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.fetch_models(q).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs a multi-row insert as its one-row statement once per row ([`RowByRow`]): the
    /// rows returned (when `want_rows`), in order, and the number of rows inserted.
    pub async fn fetch_each(
        &mut self,
        each: &RowByRow<'_>,
        want_rows: bool,
    ) -> Result<(Vec<Row>, u64)> {
        self.conn()?;
        self.wrote = true;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.fetch_each(each, want_rows).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs a compiled statement and returns its rows with their column names.
    pub async fn fetch_named_compiled(
        &mut self,
        q: &CompiledQuery,
    ) -> Result<super::row::NamedRows> {
        self.conn()?;
        self.wrote = true;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.fetch_named(q).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs a compiled statement and returns the affected-row count.
    pub async fn execute_compiled(&mut self, q: &CompiledQuery) -> Result<u64> {
        self.conn()?;
        self.wrote = true;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.execute(q).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs statements in order and returns each one's affected-row count, in order; on
    /// PostgreSQL pipelined, one round trip for all of them ([`Conn::execute_pipelined`]).
    /// The first failure is returned and fails the transaction, as for [`Self::execute`].
    pub async fn execute_pipelined(&mut self, stmts: &[Statement]) -> Result<Vec<u64>> {
        let dialect = self.dialect();
        if !self.conn()?.pipelines() {
            // No round trips to save: one after another, each as `execute` runs it.
            let mut out = Vec::with_capacity(stmts.len());
            for stmt in stmts {
                out.push(self.execute(stmt).await?);
            }
            return Ok(out);
        }
        let mut qs = Vec::with_capacity(stmts.len());
        let mut parts_of = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            let parts = compile_parts(stmt, dialect)?;
            parts_of.push(parts.len());
            qs.extend(parts);
        }
        self.conn()?;
        self.wrote = true;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.execute_pipelined(&qs).await;
        self.in_flight = false;
        let counts = self.track(r)?;
        // A statement compiled to several parts (a multi-row insert split by the bind limit)
        // counts the sum of its parts.
        let mut it = counts.into_iter();
        Ok(parts_of
            .into_iter()
            .map(|k| it.by_ref().take(k).sum())
            .collect())
    }

    /// Runs SQL text without parameters.
    pub async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        self.conn()?;
        self.wrote = true;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.batch_execute(sql).await;
        self.in_flight = false;
        self.track(r)
    }

    /// Runs savepoint control SQL (not a statement that fails the transaction, but one that
    /// is marked in flight while it runs).
    async fn control(&mut self, sql: &str) -> Result<()> {
        self.conn()?;
        self.in_flight = true;
        let conn = self.conn.as_mut().expect("checked by conn()");
        let r = conn.batch_execute(sql).await;
        self.in_flight = false;
        r
    }

    /// Opens a savepoint (a nested transaction).
    pub async fn savepoint(&mut self) -> Result<()> {
        let name = format!("SAVEPOINT chakra_sp_{}", self.savepoints + 1);
        self.control(&name).await?;
        self.savepoints += 1;
        Ok(())
    }

    /// Releases (keeps) the innermost savepoint's work.
    pub async fn release_savepoint(&mut self) -> Result<()> {
        if self.savepoints == 0 {
            return Err(Error::Transaction("no savepoint is open".into()));
        }
        let sql = format!("RELEASE SAVEPOINT chakra_sp_{}", self.savepoints);
        self.control(&sql).await?;
        self.savepoints -= 1;
        Ok(())
    }

    /// Undoes the innermost savepoint's work and closes it.
    pub async fn rollback_to_savepoint(&mut self) -> Result<()> {
        if self.savepoints == 0 {
            return Err(Error::Transaction("no savepoint is open".into()));
        }
        let n = self.savepoints;
        let sql = format!("ROLLBACK TO SAVEPOINT chakra_sp_{n}; RELEASE SAVEPOINT chakra_sp_{n}");
        self.control(&sql).await?;
        if matches!(self.failed, Some((depth, _)) if depth >= n) {
            self.failed = None;
        }
        self.savepoints -= 1;
        Ok(())
    }

    /// Commits. On failure the connection is closed (the database rolls back). A
    /// transaction in which a statement failed is rolled back instead, and the error says so.
    ///
    /// On PostgreSQL the COMMIT runs to its end even when this future is dropped once it was
    /// sent (a `tokio::time::timeout`, a cancelled task): it is never cancelled half-way, and
    /// its outcome is logged at WARN on the `chakra::sql` target ("COMMIT finished after its
    /// caller stopped waiting: the transaction committed" / "did not commit"). A dropped commit
    /// therefore never means a rollback: check the log or the data.
    pub async fn commit(mut self) -> Result<()> {
        if self.in_flight {
            self.rollback_inner().await?;
            return Err(Error::Transaction(
                "not committed: a statement of the transaction was cancelled while it ran, so it was rolled back".into(),
            ));
        }
        if let Some((_, msg)) = self.failed.take() {
            self.rollback_inner().await?;
            return Err(Error::Transaction(format!(
                "not committed: the transaction was rolled back because a statement in it failed ({msg})"
            )));
        }
        let conn = self
            .conn
            .take()
            .ok_or_else(|| Error::Transaction("the transaction has already ended".into()))?;
        if conn.closes_when_abandoned() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                // Once COMMIT is sent its outcome is the database's: the COMMIT runs on a task
                // of its own, so dropping this future (a timeout, a cancelled task) cannot
                // cancel it half-way or leave its outcome untold (it is logged).
                let (tell, told) = tokio::sync::oneshot::channel();
                let mark = self.mark.take().filter(|_| self.wrote);
                let pooled = self.pooled;
                rt.spawn(async move {
                    let r = commit_on(conn, mark, pooled).await;
                    if let Err(r) = tell.send(r) {
                        match r {
                            Ok(()) => tracing::warn!(target: "chakra::sql",
                                "COMMIT finished after its caller stopped waiting: the transaction committed"),
                            Err(e) => tracing::warn!(target: "chakra::sql", error = %e,
                                "COMMIT finished after its caller stopped waiting: the transaction did not commit"),
                        }
                    }
                });
                return told.await.unwrap_or_else(|_| {
                    Err(Error::Transaction(
                        "outcome unknown: the COMMIT's task ended without an answer".into(),
                    ))
                });
            }
        }
        let mark = self.mark.take().filter(|_| self.wrote);
        commit_on(conn, mark, self.pooled).await
    }

    /// Rolls back. On failure the connection is closed (the database rolls back).
    pub async fn rollback(mut self) -> Result<()> {
        self.rollback_inner().await
    }

    async fn rollback_inner(&mut self) -> Result<()> {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| Error::Transaction("the transaction has already ended".into()))?;
        if self.in_flight {
            // A statement was cancelled mid-flight: closing rolls back without racing its
            // cancel request.
            conn.discard();
            return Ok(());
        }
        match conn.batch_execute("ROLLBACK").await {
            Ok(()) => Ok(()),
            Err(e) => {
                conn.discard();
                Err(e)
            }
        }
    }
}

/// Sends COMMIT on `conn`; on failure the connection is closed (its state is unknown) and
/// the COMMIT's error is returned as it came. With a read-your-writes `mark` (PostgreSQL),
/// the primary's WAL position is read after the COMMIT and recorded in the mark (only when
/// the COMMIT succeeded): pipelined behind it on the same connection, so the read costs no
/// round trip of its own. The server runs the read only once the COMMIT has finished (the
/// protocol's messages run in order: the commit record is in the WAL, flushed as
/// `synchronous_commit` says, before the read starts), so a replica that has replayed the
/// position has the commit. A COMMIT that fails leaves the read harmless: it runs outside
/// any transaction and its answer is dropped. Behind a transaction pooler the read runs
/// after the COMMIT's answer, in a transaction of its own
/// ([`crate::databases::wal::WalMark::record_after_commit`] says why).
async fn commit_on(
    mut conn: Conn,
    mark: Option<crate::databases::wal::WalMark>,
    pooled: bool,
) -> Result<()> {
    let mark = mark.filter(|_| conn.dialect() == Dialect::Postgres);
    let committed = match &mark {
        Some(mark) if !pooled => {
            let lsn = crate::databases::wal::current_lsn_query();
            let (committed, read) = conn.batch_then_fetch("COMMIT", &lsn).await;
            if committed.is_ok() {
                mark.record_read(read);
            }
            committed
        }
        _ => conn.batch_execute("COMMIT").await,
    };
    match committed {
        Ok(()) => {
            if let Some(mark) = mark.filter(|_| pooled) {
                mark.record_after_commit(&mut conn, true).await;
            }
            Ok(())
        }
        Err(e) => {
            conn.discard();
            Err(e)
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            tracing::debug!(target: "chakra::sql", "transaction dropped while open: closing its connection");
            conn.discard();
        }
    }
}
