//! Enum fields in migrations (issue 24): declared once in a migration file with their stored
//! values, a text column the database itself holds to those values (a CHECK on both
//! backends), and a value added by an `AlterField` on a table that already has rows.

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::Migrator;
use chakra::Pool;
use common::migrations::migration_dir;
use common::{TestDb, BOTH};
use std::path::Path;

const INITIAL: &str = r#"[migration]
id = "0001_initial"
app = "tickets"
dependencies = []

[[operations]]
type = "CreateModel"
name = "Ticket"
table = "tickets"

[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true

[[operations.fields]]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed"]
default = "open"
"#;

const ADD_VALUE: &str = r#"[migration]
id = "0002_status_on_hold"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "AlterField"
table = "tickets"

[operations.field]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed", "on hold"]
default = "open"
"#;

async fn statuses(pool: &Pool) -> Vec<String> {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &["SELECT status FROM tickets ORDER BY id"],
        vec![],
        vec![ValueType::Text],
    );
    pool.fetch_compiled(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_owned())
        .collect()
}

/// Applies the folder, then checks that the database matches the history (`check`).
async fn migrate(pool: &Pool, dir: &Path) {
    let m = Migrator::from_dir(pool.clone(), dir).unwrap();
    m.apply(None).await.unwrap();
    let drift = m.check_database().await.unwrap();
    assert!(drift.is_empty(), "{:?}: {drift:#?}", pool.dialect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enum_column_holds_only_its_values_and_gains_one_with_rows_in_place() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir("enums", &[("tickets/0001_initial.toml", INITIAL)]);
        migrate(&pool, &dir).await;
        pool.batch_execute(
            "INSERT INTO tickets (status) VALUES ('open'), ('closed'); \
             INSERT INTO tickets DEFAULT VALUES",
        )
        .await
        .unwrap();
        assert_eq!(statuses(&pool).await, ["open", "closed", "open"], "{d:?}");
        // The database refuses what the enum does not hold, even from raw SQL.
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('on hold')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("tickets_status_enum"), "{d:?}: {e}");

        std::fs::write(dir.join("tickets/0002_status_on_hold.toml"), ADD_VALUE).unwrap();
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO tickets (status) VALUES ('on hold')")
            .await
            .unwrap();
        assert_eq!(
            statuses(&pool).await,
            ["open", "closed", "open", "on hold"],
            "{d:?}: the rows survive the new value"
        );
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('Open')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("tickets_status_enum"), "{d:?}: {e}");
        if d == chakra::Dialect::Postgres {
            // The enum's CHECK dropped behind Chakra's back is drift.
            pool.batch_execute("ALTER TABLE tickets DROP CONSTRAINT tickets_status_enum")
                .await
                .unwrap();
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            let drift = m.check_database().await.unwrap();
            assert!(drift.iter().any(|x| x.contains("CHECK")), "{drift:#?}");
        }
    }
}

#[test]
fn a_bad_enum_declaration_is_refused_with_its_line() {
    let bad = INITIAL.replace(r#"["open", "closed"]"#, r#"["open", "open"]"#);
    let dir = migration_dir("enums_bad", &[("tickets/0001_initial.toml", &bad)]);
    let e = chakra::migrate::loader::load_dir(&dir)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("repeats the value \"open\"") && e.contains(":21"),
        "{e}"
    );
}

const RENAME: &str = r#"[migration]
id = "0002_rename"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "RenameField"
table = "tickets"
name = "status"
new_name = "state"

[[operations]]
type = "RenameModel"
table = "tickets"
new_table = "issues"
new_name = "Issue"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_an_enum_field_or_its_table_renames_its_check() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir(
            "enums_rename",
            &[
                ("tickets/0001_initial.toml", INITIAL),
                ("tickets/0002_rename.toml", RENAME),
            ],
        );
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO issues (state) VALUES ('closed')")
            .await
            .unwrap();
        let e = pool
            .batch_execute("INSERT INTO issues (state) VALUES ('gone')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("issues_state_enum"), "{d:?}: {e}");
    }
}
