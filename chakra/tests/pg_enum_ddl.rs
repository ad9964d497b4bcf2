//! The native enum DDL (`chakra::dialect::postgres::enum_ddl`) run on PostgreSQL against a table with
//! rows, checked with hand-written SQL: a type created with its values in order, values added
//! in their declared places with rows intact, the transaction caveat of `ADD VALUE`, a value
//! removed by recreating the type (rows and the column default kept, the old type gone), the
//! recreation refused by the database while a row holds the removed value (nothing changed),
//! and the type dropped.

mod common;

use chakra::dialect::postgres::enum_ddl::{self, EnumChange, EnumColumn};
use chakra::dsl::{Value, ValueType};
use chakra::sql::Dialect;

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

async fn text(pool: &chakra::Pool, sql: &str) -> Vec<String> {
    let q = chakra::migrate::history::raw(Dialect::Postgres, &[sql], vec![], vec![ValueType::Text]);
    pool.fetch_compiled(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| match &r[0] {
            Value::Text(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The type's values in its own order, as PostgreSQL lists them.
async fn members(pool: &chakra::Pool) -> Vec<String> {
    text(
        pool,
        "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
         WHERE t.typname = 'pg enum status' ORDER BY e.enumsortorder",
    )
    .await
}

async fn rows(pool: &chakra::Pool) -> Vec<String> {
    text(
        pool,
        "SELECT id::text || ':' || status::text FROM pg_enum_tickets ORDER BY id",
    )
    .await
}

async fn script(pool: &chakra::Pool, statements: &[String]) -> chakra::Result<()> {
    pool.batch_execute(&format!("BEGIN; {}; COMMIT", statements.join("; ")))
        .await
}

const NAME: &str = "pg enum status";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_enum_types_are_created_extended_recreated_and_dropped() {
    let db = common::TestDb::new(Dialect::Postgres).await;
    let pool = db.pool().await;
    let first = v(&["open", "closed"]);
    script(&pool, &[enum_ddl::create_type(NAME, &first).unwrap()])
        .await
        .unwrap();
    assert_eq!(members(&pool).await, first);
    pool.batch_execute(
        "CREATE TABLE pg_enum_tickets (id INTEGER PRIMARY KEY, \
         status \"pg enum status\" NOT NULL DEFAULT 'open'); \
         INSERT INTO pg_enum_tickets VALUES (1, 'closed'), (2, 'open'), (3, 'closed')",
    )
    .await
    .unwrap();
    let before = rows(&pool).await;
    assert_eq!(before, ["1:closed", "2:open", "3:closed"]);

    // Added in their declared places, inside a transaction, rows intact.
    let second = v(&["new", "open", "held", "closed", "archived"]);
    let EnumChange::Add(added) = enum_ddl::change(&first, &second) else {
        panic!("an addition")
    };
    script(&pool, &enum_ddl::add_values(NAME, &added).unwrap())
        .await
        .unwrap();
    assert_eq!(members(&pool).await, second);
    assert_eq!(rows(&pool).await, before);
    // Usable once committed.
    pool.batch_execute("INSERT INTO pg_enum_tickets VALUES (4, 'held')")
        .await
        .unwrap();

    // A value added and used in one transaction: PostgreSQL refuses the use until commit,
    // and the transaction leaves nothing behind.
    let third = v(&["new", "open", "held", "closed", "archived", "lost"]);
    let EnumChange::Add(more) = enum_ddl::change(&second, &third) else {
        panic!("an addition")
    };
    let mut both = enum_ddl::add_values(NAME, &more).unwrap();
    both.push("INSERT INTO pg_enum_tickets VALUES (5, 'lost')".into());
    let e = script(&pool, &both).await.unwrap_err().to_string();
    assert!(e.contains("unsafe use of new value"), "{e}");
    pool.batch_execute("ROLLBACK").await.ok();
    assert_eq!(members(&pool).await, second);

    // Removing a value still held by a row: the database refuses the conversion and the
    // transaction leaves the type and rows as they were.
    let without_held = v(&["new", "open", "closed", "archived"]);
    assert_eq!(
        enum_ddl::change(&second, &without_held),
        EnumChange::Recreate {
            removed: v(&["held"])
        }
    );
    let columns = [EnumColumn {
        table: "pg_enum_tickets".into(),
        column: "status".into(),
        default: Some("open".into()),
    }];
    let e = script(
        &pool,
        &enum_ddl::recreate(NAME, &without_held, &columns).unwrap(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("invalid input value for enum"), "{e}");
    pool.batch_execute("ROLLBACK").await.ok();
    assert_eq!(members(&pool).await, second);
    assert_eq!(
        rows(&pool).await,
        ["1:closed", "2:open", "3:closed", "4:held"]
    );

    // Removing unused values (and reordering): the type recreated, rows and default kept,
    // the old type gone.
    pool.batch_execute("DELETE FROM pg_enum_tickets WHERE id = 4")
        .await
        .unwrap();
    let last = v(&["closed", "open"]);
    assert_eq!(
        enum_ddl::change(&second, &last),
        EnumChange::Recreate {
            removed: v(&["new", "held", "archived"])
        }
    );
    script(&pool, &enum_ddl::recreate(NAME, &last, &columns).unwrap())
        .await
        .unwrap();
    assert_eq!(members(&pool).await, last);
    assert_eq!(rows(&pool).await, before);
    pool.batch_execute("INSERT INTO pg_enum_tickets (id) VALUES (6)")
        .await
        .unwrap();
    assert_eq!(
        text(
            &pool,
            "SELECT status::text FROM pg_enum_tickets WHERE id = 6"
        )
        .await,
        ["open"]
    );
    let aside = enum_ddl::aside_name(NAME);
    assert_eq!(
        text(
            &pool,
            &format!("SELECT count(*)::text FROM pg_type WHERE typname = '{aside}'")
        )
        .await,
        ["0"]
    );

    // Dropped once no column uses it.
    pool.batch_execute("DROP TABLE pg_enum_tickets")
        .await
        .unwrap();
    script(&pool, &[enum_ddl::drop_type(NAME).unwrap()])
        .await
        .unwrap();
    assert!(members(&pool).await.is_empty());
}

/// `create_type_if_absent` (the `if_not_exists` form of `schema::create_tables`): creates a
/// missing type, leaves one with the same values alone, and refuses one with other values or
/// another order, naming the type and both lists; `drop_type_if_unused` leaves a type a table
/// still uses and drops it once none does. Checked against the catalog by hand-written SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_are_created_if_absent_and_dropped_when_unused() {
    let db = common::TestDb::new(Dialect::Postgres).await;
    let pool = db.pool().await;
    let first = v(&["open", "it's closed"]);
    let create = enum_ddl::create_type_if_absent(NAME, &first).unwrap();
    pool.batch_execute(&create).await.unwrap();
    assert_eq!(members(&pool).await, first);
    // Again: the same values, nothing changes.
    pool.batch_execute(&create).await.unwrap();
    assert_eq!(members(&pool).await, first);
    for other in [
        v(&["it's closed", "open"]),
        v(&["open"]),
        v(&["open", "it's closed", "x"]),
    ] {
        let e = pool
            .batch_execute(&enum_ddl::create_type_if_absent(NAME, &other).unwrap())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the enum type pg enum status exists with the values")
                && e.contains("{open,\"it's closed\"}"),
            "{e}"
        );
        assert_eq!(members(&pool).await, first);
    }
    pool.batch_execute(
        "CREATE TABLE pg_enum_tickets (id INTEGER PRIMARY KEY, status \"pg enum status\")",
    )
    .await
    .unwrap();
    let drop = enum_ddl::drop_type_if_unused(NAME).unwrap();
    pool.batch_execute(&drop).await.unwrap();
    assert_eq!(members(&pool).await, first, "kept while a column uses it");
    pool.batch_execute("DROP TABLE pg_enum_tickets")
        .await
        .unwrap();
    pool.batch_execute(&drop).await.unwrap();
    assert!(members(&pool).await.is_empty());
    // Dropping a type that is gone is not an error.
    pool.batch_execute(&drop).await.unwrap();
}
