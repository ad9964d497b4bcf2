//! Multi-row inserts: on SQLite one prepared single-row statement run once per row (the
//! rowid read back for an `INTEGER PRIMARY KEY AUTOINCREMENT` key, `RETURNING` otherwise);
//! on PostgreSQL one `unnest` statement. Both: every row stored as given, keys written back
//! in order, one statement reported to the log, all or nothing on failure.

mod common;

use chakra::exec::log::{set_listener, StatementRecord};
use chakra::prelude::*;
use chakra::Dialect;
use chrono::{DateTime, TimeZone, Utc};
use common::{TestDb, BOTH};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "bulk_items")]
pub struct Item {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40, unique)]
    pub name: String,
    pub note: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub score: f64,
    pub flag: bool,
    pub small: i32,
}

fn item(i: usize) -> Item {
    Item {
        id: 0,
        name: format!("item{i:03}"),
        // NULLs and values alternate in the same bind slots.
        note: i.is_multiple_of(2).then(|| format!("note {i} ✓")),
        at: (!i.is_multiple_of(3)).then(|| {
            Utc.timestamp_opt(1_700_000_000 + i as i64, (i as u32) * 1_000)
                .unwrap()
        }),
        score: i as f64 / 4.0,
        flag: i % 2 == 1,
        small: -(i as i32),
    }
}

type Log = Arc<Mutex<Vec<StatementRecord>>>;

fn listen() -> Log {
    let log: Log = Arc::default();
    let sink = log.clone();
    set_listener(
        Some(Arc::new(move |r: StatementRecord| {
            if r.sql.contains("bulk_items") {
                sink.lock().unwrap().push(r)
            }
        })),
        false,
    );
    log
}

async fn setup(d: Dialect) -> (TestDb, Pool) {
    let db = TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[Item::meta()], false)
        .await
        .unwrap();
    (db, pool)
}

async fn stored(pool: &Pool) -> Vec<Item> {
    Item::query()
        .order_by(Item::id().asc())
        .all(pool)
        .await
        .unwrap()
}

/// One test, so the process-wide statement listener sees only its own statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_inserts_store_every_row_and_write_keys_back_in_order() {
    let log = listen();
    for d in BOTH {
        let (_db, pool) = setup(d).await;

        // Through the pool: keys in order, every value stored as given.
        log.lock().unwrap().clear();
        let mut items: Vec<Item> = (0..7).map(item).collect();
        Item::insert_many(&pool, &mut items).await.unwrap();
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        assert_eq!(ids, (1..=7).collect::<Vec<i64>>(), "{d:?}");
        assert_eq!(stored(&pool).await, items, "{d:?}");
        let records = log.lock().unwrap().clone();
        let inserts: Vec<&StatementRecord> = records
            .iter()
            .filter(|r| r.sql.starts_with("INSERT"))
            .collect();
        assert_eq!(
            inserts.len(),
            1,
            "{d:?}: one statement reported: {records:?}"
        );
        let ins = inserts[0];
        assert_eq!(ins.rows, 7, "{d:?}");
        match d {
            Dialect::Sqlite => {
                // The one-row text, run per row; the key is the rowid, nothing returned.
                assert_eq!(
                    ins.sql,
                    "INSERT INTO \"bulk_items\" (\"name\", \"note\", \"at\", \"score\", \"flag\", \
                     \"small\") VALUES (?, ?, ?, ?, ?, ?)",
                );
                assert_eq!(ins.binds, 7 * 6, "every row's values");
            }
            Dialect::Postgres => {
                assert!(ins.sql.contains("unnest"), "{}", ins.sql);
                assert!(ins.sql.contains(" RETURNING "), "{}", ins.sql);
                assert_eq!(ins.binds, 6, "one array per column");
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        }

        // In a transaction: the caller's transaction, rolled back with it.
        let mut more: Vec<Item> = (7..12).map(item).collect();
        let mut tx = pool.begin().await.unwrap();
        Item::insert_many(&mut tx, &mut more).await.unwrap();
        assert_eq!(
            more.iter().map(|i| i.id).collect::<Vec<_>>(),
            (8..=12).collect::<Vec<i64>>(),
            "{d:?}"
        );
        tx.rollback().await.unwrap();
        assert_eq!(stored(&pool).await.len(), 7, "{d:?}");

        // A row that fails (duplicate name, in the middle): named error, nothing stored.
        let mut bad: Vec<Item> = (20..25).map(item).collect();
        bad[3].name = bad[1].name.clone();
        let err = Item::insert_many(&pool, &mut bad).await.unwrap_err();
        assert!(matches!(err, Error::UniqueViolation(_)), "{d:?}: {err:?}");
        assert_eq!(stored(&pool).await.len(), 7, "{d:?}: all or nothing");

        // Keys given: stored as given, nothing to write back.
        let mut keyed: Vec<Item> = (30..33)
            .map(|i| Item {
                id: 100 + i as i64,
                ..item(i)
            })
            .collect();
        Item::insert_many(&pool, &mut keyed).await.unwrap();
        assert_eq!(keyed[2].id, 132);
        assert_eq!(Item::get(&pool, 131).await.unwrap(), keyed[1], "{d:?}");

        // Without RETURNING: the count.
        let loose: Vec<Item> = (40..44).map(item).collect();
        assert_eq!(Item::insert_all(&pool, &loose).await.unwrap(), 4, "{d:?}");
        assert_eq!(stored(&pool).await.len(), 7 + 3 + 4, "{d:?}");
    }
    set_listener(None, false);
    for d in BOTH {
        returning_every_column_gives_the_stored_rows(d).await;
    }
    sqlite_keys_come_back_through_returning_when_not_autoincrement().await;
}

/// A SQLite key that is the rowid without `AUTOINCREMENT` (a table Chakra did not create):
/// the keys come back through `RETURNING`, in order.
async fn sqlite_keys_come_back_through_returning_when_not_autoincrement() {
    let db = TestDb::new(Dialect::Sqlite).await;
    let pool = db.pool().await;
    pool.batch_execute(
        "CREATE TABLE \"bulk_items\" (\"id\" INTEGER PRIMARY KEY, \"name\" TEXT NOT NULL UNIQUE, \
         \"note\" TEXT, \"at\" TEXT, \"score\" REAL NOT NULL, \"flag\" INTEGER NOT NULL, \
         \"small\" INTEGER NOT NULL)",
    )
    .await
    .unwrap();
    pool.batch_execute("INSERT INTO \"bulk_items\" VALUES (41, 'first', NULL, NULL, 0, 0, 0)")
        .await
        .unwrap();
    let mut items: Vec<Item> = (0..5).map(item).collect();
    Item::insert_many(&pool, &mut items).await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![42, 43, 44, 45, 46]
    );
    assert_eq!(stored(&pool).await[1..].to_vec(), items);
}

/// An insert returning every column (as a session's batch and Python's `bulk_create` do):
/// the rows returned are the rows stored, also when a column is left to its default.
async fn returning_every_column_gives_the_stored_rows(d: Dialect) {
    use chakra::dsl::{Statement, Value};
    use chakra::model::write::{insert_statement, returning_all};
    let (_db, pool) = setup(d).await;
    let rows: Vec<Vec<Value>> = (0..6).map(|i| item(i).to_values()).collect();
    let ins = insert_statement(Item::meta(), true, rows).unwrap();
    let returned = pool.fetch(&Statement::Insert(ins.clone())).await.unwrap();
    let read: Vec<Vec<Value>> = stored(&pool).await.iter().map(Item::to_values).collect();
    assert_eq!(returned, read, "{d:?}");
    assert_eq!(returned[5][0], Value::I64(6), "{d:?}");

    // `note` left to the database (NULL): two columns not sent, RETURNING decides.
    let mut partial = ins;
    let note = partial.columns.iter().position(|c| c == "note").unwrap();
    partial.columns.remove(note);
    for (i, row) in partial.rows.iter_mut().enumerate() {
        row.remove(note);
        row[0] = Value::Text(format!("other{i}"));
    }
    partial.returning = returning_all(Item::meta());
    let returned = pool.fetch(&Statement::Insert(partial)).await.unwrap();
    assert_eq!(returned.len(), 6, "{d:?}");
    assert_eq!(returned[0][0], Value::I64(7), "{d:?}");
    assert!(returned.iter().all(|r| r[2].is_null()), "{d:?}");
    let read: Vec<Vec<Value>> = stored(&pool).await.iter().map(Item::to_values).collect();
    assert_eq!(returned, read[6..].to_vec(), "{d:?}");
}
