//! Read-your-writes bookkeeping: WAL positions ([`Lsn`]), the policy a scope follows
//! ([`ReadPolicy`]), and [`WalMark`], the shared cell a scope's writes record into and its
//! replica reads consult.

use crate::exec::{Conn, Row};
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::{Result, Value, ValueType};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A PostgreSQL WAL position (`pg_lsn`, written `16/B374D848`), as one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Parses PostgreSQL's text form `hi/lo` (two hexadecimal halves).
    pub fn parse(text: &str) -> Option<Lsn> {
        let (hi, lo) = text.trim().split_once('/')?;
        let hi = u64::from_str_radix(hi, 16).ok()?;
        let lo = u64::from_str_radix(lo, 16).ok()?;
        (hi <= u32::MAX as u64 && lo <= u32::MAX as u64).then_some(Lsn((hi << 32) | lo))
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// How a scope's replica reads follow its own writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadPolicy {
    /// After a write, a replica read waits until the replica has replayed the primary's WAL
    /// position recorded at the write's commit (`pg_last_wal_replay_lsn()`), up to the
    /// database's `replica_wait`, then reads on the primary. The default.
    #[default]
    Exact,
    /// After a write, every read of the scope goes to the primary for `sticky_for`.
    Sticky,
    /// After a write, reads go to the primary for `sticky_for`; after that, to a replica
    /// with no check (Rails' and Laravel's approximation: a guess at the lag).
    Window,
    /// Replica reads ignore the scope's writes (they may not see them).
    None,
}

impl ReadPolicy {
    /// Parses `exact`, `sticky`, `window` (or `time_window`), `none`.
    pub fn parse(text: &str) -> Option<ReadPolicy> {
        Some(
            match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "exact" => ReadPolicy::Exact,
                "sticky" => ReadPolicy::Sticky,
                "window" | "time_window" => ReadPolicy::Window,
                "none" | "off" => ReadPolicy::None,
                _ => return None,
            },
        )
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            ReadPolicy::Exact => "exact",
            ReadPolicy::Sticky => "sticky",
            ReadPolicy::Window => "window",
            ReadPolicy::None => "none",
        }
    }
}

/// What a scope has written: the highest primary WAL position recorded after its commits,
/// and when it last wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// The primary's WAL insert position read after the scope's latest commit (`None`:
    /// nothing written, or the position could not be read).
    pub lsn: Option<Lsn>,
    /// When the scope last committed a write.
    pub at: Option<Instant>,
    /// A write committed whose WAL position could not be read: exact reads go to the
    /// primary until a later write records one.
    pub unknown: bool,
}

/// The shared cell of one read-your-writes scope (a session, a Python context, a Rust
/// [`super::Scope`]). Cheap to clone; clones share the cell.
#[derive(Debug, Clone, Default)]
pub struct WalMark(Arc<Mutex<Written>>);

/// `SELECT pg_current_wal_insert_lsn()::text`: the position after every record inserted so
/// far, the commit records of transactions already committed included.
pub fn current_lsn_query() -> CompiledQuery {
    CompiledQuery {
        dialect: Dialect::Postgres,
        parts: Arc::from(vec!["SELECT pg_current_wal_insert_lsn()::text".to_owned()]),
        binds: vec![],
        cacheable: true,
        output: Arc::from(vec![ValueType::Text]),
    }
}

/// A replica's replayed position, whether it is a standby, and its replay lag in
/// milliseconds: none when it has replayed all it received (an idle primary sends nothing,
/// and its standby is not behind), else the time since the last transaction it replayed
/// committed on the primary.
pub fn replay_query() -> CompiledQuery {
    CompiledQuery {
        dialect: Dialect::Postgres,
        parts: Arc::from(vec![
            "SELECT pg_last_wal_replay_lsn()::text, pg_is_in_recovery(), \
             CASE WHEN pg_last_wal_receive_lsn() IS NULL \
                    OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0::float8 \
                  ELSE (EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000)::float8 \
             END"
                .to_owned(),
        ]),
        binds: vec![],
        cacheable: true,
        output: Arc::from(vec![ValueType::Text, ValueType::Bool, ValueType::F64]),
    }
}

/// Reads the primary's current WAL insert position on `conn`.
pub async fn read_current(conn: &mut Conn) -> Result<Option<Lsn>> {
    Ok(lsn_of(&conn.fetch(&current_lsn_query()).await?))
}

/// The position in the rows [`current_lsn_query`] returned.
fn lsn_of(rows: &[Row]) -> Option<Lsn> {
    match rows.first().and_then(|r| r.first()) {
        Some(Value::Text(t)) => Lsn::parse(t),
        _ => None,
    }
}

impl WalMark {
    /// A new, empty mark.
    pub fn new() -> WalMark {
        WalMark::default()
    }

    /// What the scope has written so far.
    pub fn written(&self) -> Written {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a committed write at `lsn` (`None`: its position is unknown).
    pub fn record(&self, lsn: Option<Lsn>) {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        w.at = Some(Instant::now());
        match lsn {
            Some(l) => {
                w.lsn = Some(w.lsn.map_or(l, |old| old.max(l)));
                w.unknown = false;
            }
            None => w.unknown = true,
        }
    }

    /// Records a write that committed on `conn` (a PostgreSQL primary): reads the WAL
    /// position there, one round trip after the commit's (the executor's own commits
    /// pipeline the read behind the commit instead: [`WalMark::record_read`]). A failure to
    /// read it is recorded as an unknown position (the scope's exact reads then go to the
    /// primary), never as an error of the write, which did commit.
    ///
    /// Behind a transaction pooler (`pooled`) the read runs in a transaction of its own
    /// (BEGIN, the read, COMMIT): diesel-async prepares the read as a named statement whose
    /// `Parse` and `Execute` must reach one server session, which only a transaction pins.
    /// That session may be another server connection than the commit's, and the position
    /// is still right: `pg_current_wal_insert_lsn()` is the server's, not the session's, and
    /// the pooler hands this client a server for its next transaction only after the
    /// commit's `ReadyForQuery`, so the read starts after the commit record is in the WAL.
    /// It is not pipelined behind the commit there: PgBouncer before 1.21 releases the
    /// server at the commit's `ReadyForQuery` even when more of the client's messages were
    /// forwarded to it (their answers would go to another client).
    pub async fn record_after_commit(&self, conn: &mut Conn, pooled: bool) {
        let read = async {
            if !pooled {
                return read_current(conn).await;
            }
            conn.batch_execute("BEGIN").await?;
            let lsn = read_current(conn).await;
            let end = conn
                .batch_execute(if lsn.is_ok() { "COMMIT" } else { "ROLLBACK" })
                .await;
            let lsn = lsn?;
            end?;
            Ok(lsn)
        };
        self.record_position(read.await);
    }

    /// Records a committed write whose [`current_lsn_query`], run after the commit (pipelined
    /// behind it: [`crate::exec::Conn::batch_then_fetch`]), returned `read`. A failed read
    /// is recorded as an unknown position, as in [`WalMark::record_after_commit`].
    pub fn record_read(&self, read: Result<Vec<Row>>) {
        self.record_position(read.map(|rows| lsn_of(&rows)));
    }

    fn record_position(&self, read: Result<Option<Lsn>>) {
        match read {
            Ok(lsn) => self.record(lsn),
            Err(e) => {
                tracing::warn!(target: "chakra::replicas", error = %e,
                    "could not read the primary's WAL position after a commit: this scope's replica reads go to the primary");
                self.record(None);
            }
        }
    }

    /// Forgets what the scope wrote.
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Written::default();
    }
}

/// What a replica read needs, by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any usable replica.
    Any,
    /// A replica that has replayed this position.
    Replayed(Lsn),
    /// The primary.
    Primary,
}

/// What a replica read of a scope that wrote `w` needs under `policy`.
pub fn requirement(policy: ReadPolicy, w: Written, sticky_for: Duration) -> Need {
    let recent = w.at.is_some_and(|t| t.elapsed() < sticky_for);
    match policy {
        ReadPolicy::None => Need::Any,
        ReadPolicy::Sticky | ReadPolicy::Window if recent => Need::Primary,
        ReadPolicy::Sticky | ReadPolicy::Window => Need::Any,
        ReadPolicy::Exact if w.unknown => Need::Primary,
        ReadPolicy::Exact => w.lsn.map_or(Need::Any, Need::Replayed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_text_round_trips_and_orders() {
        let a = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(a.0, (0x16 << 32) | 0xB374D848);
        assert_eq!(a.to_string(), "16/B374D848");
        assert!(Lsn::parse("0/3000060").unwrap() < Lsn::parse("1/0").unwrap());
        assert_eq!(Lsn::parse("nonsense"), None);
        assert_eq!(Lsn::parse("1/100000000"), None);
    }

    #[test]
    fn policies_decide_what_a_read_needs() {
        let fresh = Written {
            lsn: Some(Lsn(10)),
            at: Some(Instant::now()),
            unknown: false,
        };
        let long = Duration::from_secs(60);
        assert_eq!(
            requirement(ReadPolicy::Exact, fresh, long),
            Need::Replayed(Lsn(10))
        );
        assert_eq!(requirement(ReadPolicy::Sticky, fresh, long), Need::Primary);
        assert_eq!(
            requirement(ReadPolicy::Window, fresh, Duration::ZERO),
            Need::Any
        );
        assert_eq!(requirement(ReadPolicy::None, fresh, long), Need::Any);
        let lost = Written {
            unknown: true,
            ..fresh
        };
        assert_eq!(requirement(ReadPolicy::Exact, lost, long), Need::Primary);
        assert_eq!(
            requirement(ReadPolicy::Exact, Written::default(), long),
            Need::Any
        );
    }
}
