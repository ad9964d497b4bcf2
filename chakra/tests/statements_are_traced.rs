//! Every statement the typed front door runs is a `tracing` event (target `chakra::sql`) with
//! its SQL, bind count, row count and duration.

mod common;
mod fixtures;

use chakra::prelude::*;
use common::BOTH;
use fixtures::{seeded, user, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

type Events = Arc<Mutex<Vec<HashMap<String, String>>>>;

struct Capture(Events);

struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "chakra::sql" {
            let mut f = Fields(HashMap::new());
            event.record(&mut f);
            self.0.lock().unwrap().push(f.0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_statement_is_an_event_with_sql_binds_rows_and_duration() {
    let events: Events = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Capture(events.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for d in BOTH {
        let (_db, pool) = seeded(d).await;
        events.lock().unwrap().clear();
        let mut users = vec![user("a"), user("b")];
        User::insert_many(&pool, &mut users).await.unwrap();
        let found = User::query()
            .filter(User::username().starts_with("a"))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        let got = events.lock().unwrap().clone();
        let insert = got
            .iter()
            .find(|e| e["sql"].starts_with("INSERT INTO \"users\""))
            .unwrap_or_else(|| panic!("{d:?}: no insert event in {got:?}"));
        // The bind count of the statement as compiled for this backend (one per value on
        // SQLite, one array per column on PostgreSQL).
        let stmt = chakra::dsl::Statement::Insert(
            chakra::model::write::insert_statement(
                User::meta(),
                true,
                vec![user("a").to_values(), user("b").to_values()],
            )
            .unwrap(),
        );
        let binds = chakra::compile(&stmt, d).unwrap().binds.len();
        assert!(binds > 0);
        assert_eq!(insert["binds"], binds.to_string(), "{d:?}");
        assert_eq!(insert["rows"], "2");
        let select = got
            .iter()
            .find(|e| e["sql"].starts_with("SELECT") && e["sql"].contains("LIKE"))
            .unwrap_or_else(|| panic!("{d:?}: no select event in {got:?}"));
        assert_eq!(
            (select["binds"].as_str(), select["rows"].as_str()),
            ("1", "1")
        );
        assert!(select["elapsed_us"].parse::<u64>().is_ok(), "{select:?}");
    }
}
