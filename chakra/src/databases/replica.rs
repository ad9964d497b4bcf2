//! [`Replica`]: one read replica's pool and its health: replayed WAL position, lag, and when
//! it was last found down or lagging (skipped until `replica_retry` has passed). Every
//! change of state is said on the `chakra::replicas` tracing target.

use super::wal::{replay_query, Lsn};
use crate::exec::Pool;
use chakra_dsl::{Result, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a replica is being skipped.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// It could not be reached, or a read on it failed: the error.
    Down(String),
    /// It lags the primary by more than `max_replica_lag`.
    Lagging(Duration),
}

#[derive(Debug, Default)]
struct Health {
    /// Skipped until then, and why.
    skipped: Option<(Instant, Skip)>,
    /// The last replay position read (`None`: not a standby, so always current).
    replayed: Option<Lsn>,
    /// The server is not in recovery (a primary named as its own replica).
    not_standby: bool,
    /// When the replay position was last read.
    checked: Option<Instant>,
}

/// One replica of a database.
#[derive(Debug)]
pub struct Replica {
    url: String,
    pool: Pool,
    health: Mutex<Health>,
}

/// How often a replica's lag is read again when reads need no particular position.
const RECHECK: Duration = Duration::from_millis(500);

/// What a replica's state says about one read.
pub(crate) enum Ready {
    /// Read on it now.
    Yes,
    /// It has not replayed far enough yet.
    NotYet,
    /// Skip it.
    No,
}

impl Replica {
    /// A replica at `url` (not connected until first used).
    pub fn new(url: String, pool: Pool) -> Replica {
        Replica {
            url,
            pool,
            health: Mutex::new(Health::default()),
        }
    }

    /// Its URL with the password hidden.
    pub fn url(&self) -> String {
        crate::config::redact(&self.url)
    }

    /// Its pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Why it is skipped now, if it is.
    pub fn skipped(&self) -> Option<Skip> {
        let h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        h.skipped
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, why)| why.clone())
    }

    /// Marks it down (a failed connection or read) for `retry`.
    pub fn mark_down(&self, why: &str, retry: Duration) {
        let mut h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if h.skipped.is_none() {
            tracing::warn!(target: "chakra::replicas", replica = %self.url(), error = why,
                retry_in_ms = retry.as_millis() as u64, "replica down: reads go elsewhere");
        }
        h.skipped = Some((Instant::now() + retry, Skip::Down(why.to_owned())));
        // What it had replayed before it went down says nothing of it after: the first read
        // after `retry` checks it again (and says it is usable again).
        h.checked = None;
        h.replayed = None;
    }

    /// Reads its replay position and lag now; marks it down or lagging (for `retry`) when
    /// it cannot be read or lags more than `max_lag`.
    async fn check(&self, max_lag: Duration, retry: Duration) -> Result<()> {
        let rows = match self.pool.fetch_compiled(&replay_query()).await {
            Ok(r) => r,
            Err(e) => {
                self.mark_down(&e.to_string(), retry);
                return Err(e);
            }
        };
        let row = rows.into_iter().next().unwrap_or_default();
        let replayed = match row.first() {
            Some(Value::Text(t)) => Lsn::parse(t),
            _ => None,
        };
        let standby = matches!(row.get(1), Some(Value::Bool(true)));
        let lag_ms = match row.get(2) {
            Some(Value::F64(ms)) if *ms > 0.0 => *ms,
            _ => 0.0,
        };
        let lag = Duration::from_millis(lag_ms as u64);
        let mut h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        h.replayed = replayed;
        h.not_standby = !standby;
        h.checked = Some(Instant::now());
        if standby && lag > max_lag {
            if !matches!(h.skipped, Some((_, Skip::Lagging(_)))) {
                tracing::warn!(target: "chakra::replicas", replica = %self.url(),
                    lag_ms = lag.as_millis() as u64, max_lag_ms = max_lag.as_millis() as u64,
                    "replica lagging: reads go elsewhere");
            }
            h.skipped = Some((Instant::now() + retry, Skip::Lagging(lag)));
        } else if h.skipped.take().is_some() {
            tracing::info!(target: "chakra::replicas", replica = %self.url(), "replica usable again");
        }
        Ok(())
    }

    /// Whether a read that needs position `need` (`None`: any) can run on it now. Reads the
    /// replay position only when the one last read does not already answer: an exact read
    /// after an older write costs no round trip.
    pub(crate) async fn ready(
        &self,
        need: Option<Lsn>,
        max_lag: Duration,
        retry: Duration,
    ) -> Ready {
        if self.skipped().is_some() {
            return Ready::No;
        }
        let answered = {
            let h = self.health.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = h.checked.is_some_and(|t| t.elapsed() < RECHECK);
            match need {
                _ if h.not_standby && h.checked.is_some() => fresh.then_some(true),
                Some(lsn) if h.replayed.is_some_and(|r| r >= lsn) => Some(true),
                Some(_) => None,
                None => fresh.then_some(true),
            }
        };
        if answered == Some(true) {
            return Ready::Yes;
        }
        if self.check(max_lag, retry).await.is_err() || self.skipped().is_some() {
            return Ready::No;
        }
        let h = self.health.lock().unwrap_or_else(|e| e.into_inner());
        match need {
            _ if h.not_standby => Ready::Yes,
            Some(lsn) if h.replayed.is_none_or(|r| r < lsn) => Ready::NotYet,
            _ => Ready::Yes,
        }
    }
}
