//! `chakra migrate sql` prints exactly what `apply` and `rollback` then run, statement for
//! statement (checked against the `chakra::sql` tracing events of the run), on both backends.

mod common;

use chakra::migrate::{Migrator, RollbackTarget, Step};
use chakra::Dialect;
use common::migrations::SEED;
use common::{TestDb, BOTH};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const ALTER: &str = r#"
[migration]
id = "0002_alter"
app = "users"
dependencies = [["users", "0001_initial"]]

[[operations]]
type = "AddField"
table = "users"
[operations.field]
name = "age"
type = "Integer"
nullable = true

[[operations]]
type = "AlterField"
table = "users"
[operations.field]
name = "age"
type = "Integer"
default = 0

[[operations]]
type = "RenameField"
table = "users"
name = "username"
new_name = "login"
"#;

type Seen = Arc<Mutex<Vec<String>>>;

struct Capture(Seen);

struct Sql(Option<String>);

impl Visit for Sql {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "sql" {
            self.0 = Some(format!("{value:?}"));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "sql" {
            self.0 = Some(value.to_owned());
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "chakra::sql" {
            let mut s = Sql(None);
            event.record(&mut s);
            if let Some(sql) = s.0 {
                self.0.lock().unwrap().push(sql);
            }
        }
    }
}

/// The statements of a run, without the migrator's own bookkeeping (history table, lock).
fn ddl_only(seen: &Seen) -> Vec<String> {
    let bookkeeping = [
        "chakra_migrations",
        "pg_try_advisory_lock",
        "pg_advisory_unlock",
        "pg_backend_pid",
        "client_connection_check_interval",
        "sqlite_master",
        // The standby probe migrations run before their lock (`Migrator` refuses a standby).
        "pg_is_in_recovery",
    ];
    std::mem::take(&mut *seen.lock().unwrap())
        .into_iter()
        .filter(|s| !bookkeeping.iter().any(|b| s.contains(b)))
        .collect()
}

fn scripts(steps: &[Step], d: Dialect) -> Vec<String> {
    steps.iter().flat_map(|s| s.script(d)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_is_what_apply_and_rollback_execute() {
    let seen: Seen = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Capture(seen.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir =
            std::env::temp_dir().join(format!("chakra_sqlmatch_{}_{:?}", std::process::id(), d));
        std::fs::create_dir_all(dir.join("users")).unwrap();
        std::fs::write(dir.join("users/0001_initial.toml"), SEED).unwrap();
        std::fs::write(dir.join("users/0002_alter.toml"), ALTER).unwrap();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();

        let planned = m.plan_apply(None).await.unwrap();
        ddl_only(&seen);
        m.apply(None).await.unwrap();
        let ran = ddl_only(&seen);
        assert_eq!(ran, scripts(&planned, d), "{d:?}: apply");
        if d == Dialect::Sqlite {
            assert!(
                ran.contains(&"PRAGMA foreign_key_check".to_owned()),
                "a rebuild ran"
            );
        }

        let target = RollbackTarget::Steps(2);
        let planned = m.plan_rollback(&target).await.unwrap();
        ddl_only(&seen);
        m.rollback(&target).await.unwrap();
        assert_eq!(ddl_only(&seen), scripts(&planned, d), "{d:?}: rollback");
        let _ = std::fs::remove_dir_all(dir);
    }
}
