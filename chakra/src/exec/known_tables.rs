//! [`KnownTables`]: the tables a pool's database was seen to hold, shared by the pool's
//! connections, so a statement that must know whether a table exists (the ORM's `on_delete`
//! steps skip models whose table is absent) asks the database once per table and pool, not
//! once per statement. Only presence is remembered: an absent table is asked about again
//! (it may be created later), and a remembered table that was dropped since is forgotten
//! when a statement naming it fails ([`KnownTables::forget`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The set of table names known to exist in one pool's database. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct KnownTables(Arc<Mutex<HashSet<String>>>);

impl KnownTables {
    /// True when `table` was seen in the database.
    pub fn contains(&self, table: &str) -> bool {
        self.lock().contains(table)
    }

    /// Remembers that `table` exists.
    pub fn insert(&self, table: &str) {
        self.lock().insert(table.to_owned());
    }

    /// Forgets `tables` (a statement naming one of them failed: it may have been dropped).
    pub fn forget(&self, tables: &[String]) {
        let mut set = self.lock();
        for t in tables {
            set.remove(t);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set holds no invariant a panic could break.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
