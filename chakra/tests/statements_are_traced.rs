//! Every statement the typed front door runs is a `tracing` event (target `chakra::sql`) with
//! its SQL, bind count, row count and duration; a failed one carries its error
//! (`docs/logging.md`).

mod common;
mod fixtures;

use chakra::prelude::*;
use common::ALL3;
use fixtures::{seeded, user, User};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_statement_is_an_event_with_sql_binds_rows_and_duration() {
    let (events, subscriber) = common::trace::statements();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for d in ALL3 {
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

        // A statement the database refuses is an event too, with its error, before the
        // error is returned.
        events.lock().unwrap().clear();
        let mut again = user("a");
        let e = again.save(&pool).await.unwrap_err();
        assert!(matches!(e, chakra::Error::UniqueViolation(_)), "{d:?}: {e}");
        let got = events.lock().unwrap().clone();
        let failed: Vec<_> = got.iter().filter(|e| e.contains_key("error")).collect();
        assert_eq!(failed.len(), 1, "{d:?}: {got:?}");
        assert!(
            failed[0]["sql"].starts_with("INSERT INTO \"users\""),
            "{failed:?}"
        );
        assert_eq!(failed[0]["message"], "statement failed", "{failed:?}");
        assert!(
            failed[0]["error"].to_lowercase().contains("unique"),
            "{d:?}: {failed:?}"
        );
        assert!(failed[0]["elapsed_us"].parse::<u64>().is_ok());
    }
}
