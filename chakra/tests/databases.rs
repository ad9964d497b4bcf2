//! Several named databases in one process (two SQLite files; two PostgreSQL databases):
//! models bound to each, rows landing where they belong (checked with hand-written SQL on
//! each database's own connection), queries and `get` routed, a session on a named
//! database, a query joining across databases refused by name, an unknown name refused.

mod common;

use chakra::databases::{DatabaseConfig, Databases};
use chakra::prelude::*;
use chakra::Session;
use common::TestDb;

#[derive(Debug, Clone, Model)]
#[chakra(table = "ndb_accounts")]
pub struct Account {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    #[chakra(relation = OneToMany, foreign_key = "account_id")]
    pub events: Related<Vec<Event>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "ndb_events")]
pub struct Event {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub account_id: i64,
    #[chakra(max_length = 40)]
    pub kind: String,
}

/// `SELECT COUNT(*)` of `table` written by hand, on a connection of the test's own; `None`
/// when the table does not exist there.
async fn count(db: &TestDb, table: &str) -> Option<i64> {
    match db.dialect {
        chakra::Dialect::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_owned();
            let c = rusqlite::Connection::open(path).unwrap();
            c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .ok()
        }
        _ => {
            let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let h = tokio::spawn(conn);
            let n = c
                .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                .await
                .ok()
                .map(|r| r.get::<_, i64>(0));
            drop(c);
            let _ = h.await;
            n
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_named_databases_hold_their_own_models() {
    for d in common::BOTH {
        let main = TestDb::new(d).await;
        let analytics = TestDb::new(d).await;
        let dbs = Databases::builder()
            .database("default", &main.url)
            .database_with("analytics", DatabaseConfig::new(&analytics.url))
            .bind::<Event>("analytics")
            .connect()
            .await
            .unwrap();
        chakra::schema::create_tables(
            dbs.get("default").unwrap().primary(),
            &[Account::meta()],
            false,
        )
        .await
        .unwrap();
        chakra::schema::create_tables(
            dbs.get("analytics").unwrap().primary(),
            &[Event::meta()],
            false,
        )
        .await
        .unwrap();

        let mut acc = Account {
            id: 0,
            name: "ada".into(),
            events: Default::default(),
        };
        acc.save(dbs.for_write::<Account>().unwrap()).await.unwrap();
        for kind in ["login", "logout", "login"] {
            let mut e = Event {
                id: 0,
                account_id: acc.id,
                kind: kind.into(),
            };
            e.save(dbs.for_write::<Event>().unwrap()).await.unwrap();
        }
        // A session on the named database writes there.
        let analytics_db = dbs.get("analytics").unwrap();
        let session = Session::new(analytics_db.primary());
        let mut late = Event {
            id: 0,
            account_id: acc.id,
            kind: "late".into(),
        };
        session.add(&mut late);
        session.commit().await.unwrap();

        // Rows landed where their model is bound, and nowhere else.
        assert_eq!(count(&main, "ndb_accounts").await, Some(1), "{d:?}");
        assert_eq!(
            count(&main, "ndb_events").await,
            None,
            "{d:?}: no events table on default"
        );
        assert_eq!(count(&analytics, "ndb_events").await, Some(4), "{d:?}");
        assert_eq!(count(&analytics, "ndb_accounts").await, None, "{d:?}");

        // Reads are routed to the model's database.
        let q = Event::query().filter(Event::kind().eq("login"));
        let logins = q.clone().all(dbs.route(&q).unwrap()).await.unwrap();
        assert_eq!(logins.len(), 2, "{d:?}");
        let got = Event::get(dbs.for_read::<Event>().unwrap(), late.id)
            .await
            .unwrap();
        assert_eq!(got.kind, "late");
        let q = Account::query();
        assert_eq!(q.clone().count(dbs.route(&q).unwrap()).await.unwrap(), 1);

        // A query following a relation into another database is refused by name.
        let q = Account::query().filter(Account::events().any(Event::kind().eq("login")));
        match dbs.route(&q) {
            Err(Error::CrossDatabase {
                model,
                database,
                other_model,
                other_database,
                ..
            }) => {
                assert_eq!((model.as_str(), database.as_str()), ("Account", "default"));
                assert_eq!(
                    (other_model.as_str(), other_database.as_str()),
                    ("Event", "analytics")
                );
            }
            other => panic!("{d:?}: expected CrossDatabase, got {other:?}"),
        }

        // The same check runs whichever way the query reaches a database: `for_read`, a
        // database by name, a scope, and for count and exists too.
        let refused = |r: Result<u64, Error>, how: &str| match r {
            Err(Error::CrossDatabase {
                model, other_model, ..
            }) => assert_eq!((model.as_str(), other_model.as_str()), ("Account", "Event")),
            other => panic!("{d:?} {how}: expected CrossDatabase, got {other:?}"),
        };
        let for_read = dbs.for_read::<Account>().unwrap();
        refused(
            q.clone().all(for_read).await.map(|v| v.len() as u64),
            "for_read all",
        );
        refused(q.clone().count(for_read).await, "for_read count");
        refused(
            q.clone()
                .exists(dbs.get("default").unwrap())
                .await
                .map(u64::from),
            "get(default) exists",
        );
        let scope = dbs.get("default").unwrap().scope();
        refused(
            q.clone().all(&scope).await.map(|v| v.len() as u64),
            "scope all",
        );
        // Sent to the other database, the query still spans two: refused as well.
        refused(
            q.clone()
                .all(dbs.get("analytics").unwrap())
                .await
                .map(|v| v.len() as u64),
            "get(analytics) all",
        );
        // A database's bare pool (`primary()`, a clone of it, a session on it) refuses too.
        let bare = dbs.get("default").unwrap().primary().clone();
        refused(
            q.clone().all(&bare).await.map(|v| v.len() as u64),
            "primary() all",
        );
        refused(q.clone().count(&bare).await, "primary() count");
        // A query of one model on a database chosen by hand runs (`using`).
        let plain = Account::query().count(dbs.get("default").unwrap()).await;
        assert_eq!(plain.unwrap(), 1, "{d:?}");

        // An unknown name is refused, naming the configured ones.
        match dbs.get("analytcs") {
            Err(e @ Error::UnknownDatabase { .. }) => {
                let m = e.to_string();
                assert!(
                    m.contains("analytcs") && m.contains("analytics, default"),
                    "{m}"
                );
            }
            other => panic!("expected UnknownDatabase, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_to_an_undeclared_database_is_refused() {
    let main = TestDb::sqlite().await;
    let err = Databases::builder()
        .database("default", &main.url)
        .bind::<Event>("analytics")
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownDatabase { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_must_be_postgres() {
    let main = TestDb::sqlite().await;
    let err = Databases::builder()
        .database_with(
            "default",
            DatabaseConfig::new(&main.url).replica("sqlite://other.db"),
        )
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("PostgreSQL standbys")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_database_name_applies_to_that_database() {
    let work = common::migrations::migration_dir(
        "ndb_cli",
        &[(
            "migrations/users/0001_initial.toml",
            common::migrations::SEED,
        )],
    );
    let a = work.join("main.db");
    let b = work.join("analytics.db");
    std::fs::write(
        work.join("chakra.toml"),
        format!(
            "[databases.default]\nurl = \"sqlite://{}\"\n\n[databases.analytics]\nurl = \"sqlite://{}\"\n",
            a.display(),
            b.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
            .args(args)
            .current_dir(&work)
            .env("NO_COLOR", "1")
            .env_remove("CHAKRA_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["migrate", "apply", "--database", "analytics"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The users table is in analytics.db; main.db was not created.
    let c = rusqlite::Connection::open(&b).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert!(!a.exists(), "the default database was touched");
    // An undeclared name is refused by name.
    let out = run(&["migrate", "apply", "--database", "analytcs"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown database \"analytcs\"") && err.contains("analytics, default"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// Event rows live in analytics, everything else in default (Django's router hooks).
struct EventsElsewhere;

impl chakra::databases::Router for EventsElsewhere {
    fn db_for_read(&self, model: &chakra::dsl::ModelMeta) -> Option<String> {
        (model.name == "Event").then(|| "analytics".to_owned())
    }
    fn db_for_write(&self, model: &chakra::dsl::ModelMeta) -> Option<String> {
        self.db_for_read(model)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_decides_where_models_live() {
    let main = TestDb::sqlite().await;
    let analytics = TestDb::sqlite().await;
    let dbs = Databases::builder()
        .database("default", &main.url)
        .database("analytics", &analytics.url)
        .router(EventsElsewhere)
        .connect()
        .await
        .unwrap();
    assert_eq!(dbs.for_read::<Event>().unwrap().name(), "analytics");
    assert_eq!(dbs.for_write::<Event>().unwrap().name(), "analytics");
    assert_eq!(dbs.for_read::<Account>().unwrap().name(), "default");
    chakra::schema::create_tables(
        dbs.for_write::<Event>().unwrap().primary(),
        &[Event::meta()],
        false,
    )
    .await
    .unwrap();
    let mut e = Event {
        id: 0,
        account_id: 1,
        kind: "login".into(),
    };
    e.save(dbs.for_write::<Event>().unwrap()).await.unwrap();
    assert_eq!(count(&analytics, "ndb_events").await, Some(1));
    let q = Account::query().filter(Account::events().any(Event::kind().eq("login")));
    assert!(matches!(dbs.route(&q), Err(Error::CrossDatabase { .. })));
}

/// A database's settings bind models too (`models = [...]` in chakra.toml, `.model(…)`),
/// at run time as for the migration commands; a model bound twice is refused by name.
#[tokio::test]
async fn models_named_in_a_databases_settings_are_bound_to_it() {
    let main = TestDb::sqlite().await;
    let analytics = TestDb::sqlite().await;
    let dbs = Databases::builder()
        .database("default", &main.url)
        .database_with(
            "analytics",
            DatabaseConfig::new(&analytics.url).model("Event"),
        )
        .connect()
        .await
        .unwrap();
    assert_eq!(dbs.for_read::<Event>().unwrap().name(), "analytics");
    assert_eq!(dbs.for_write::<Event>().unwrap().name(), "analytics");
    assert_eq!(dbs.for_read::<Account>().unwrap().name(), "default");
    let q = Account::query().filter(Account::events().any(Event::kind().eq("login")));
    assert!(matches!(dbs.route(&q), Err(Error::CrossDatabase { .. })));
    let twice = Databases::builder()
        .database("default", &main.url)
        .database_with(
            "analytics",
            DatabaseConfig::new(&analytics.url).model("Event"),
        )
        .bind::<Event>("default")
        .connect()
        .await;
    match twice {
        Err(Error::Config(m)) => assert!(
            m.contains("Event") && m.contains("\"default\"") && m.contains("\"analytics\""),
            "{m}"
        ),
        other => panic!("expected a Config error, got {other:?}"),
    }
}
