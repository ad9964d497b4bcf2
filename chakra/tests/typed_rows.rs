//! Rows read straight into the model struct (issue 20): `all`, `first`, `get`, on a pool, in
//! a transaction and in a session's transaction, give back exactly the values hand-written
//! SQL stored, and a column whose type does not fit its field (a table Chakra did not create)
//! is a `Decode` error naming the model, the field and the column's type; a column of a
//! narrower type whose values fit reads back. Expected values are written here in plain Rust.

mod common;
mod fixtures;

use chakra::prelude::*;
use chrono::NaiveDate;
use common::ALL3;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "gauges")]
pub struct Gauge {
    #[chakra(primary_key)]
    pub id: i64,
    pub level: i32,
    pub label: String,
    pub ratio: f64,
    pub seen: Option<NaiveDate>,
}

fn expected() -> Vec<Gauge> {
    vec![
        Gauge {
            id: 1,
            level: i32::MIN,
            label: "it's".into(),
            ratio: 0.1,
            seen: None,
        },
        Gauge {
            id: 2,
            level: i32::MAX,
            label: String::new(),
            ratio: -1.5e300,
            seen: Some(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
        },
        Gauge {
            id: 3,
            level: 0,
            label: "ü ☃ \u{1F600}".into(),
            ratio: 0.0,
            seen: Some(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()),
        },
    ]
}

const ROWS: &str = "INSERT INTO gauges (id, level, label, ratio, seen) VALUES \
    (1, -2147483648, 'it''s', 0.1, NULL), \
    (2, 2147483647, '', -1.5e300, '2024-02-29'), \
    (3, 0, 'ü ☃ \u{1F600}', 0.0, '0001-01-01')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_gives_back_what_sql_stored() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Gauge::meta()]).await;
        pool.batch_execute(ROWS).await.unwrap();
        let want = expected();

        let all = Gauge::query()
            .order_by(Gauge::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(all, want, "{d:?}");
        let first = Gauge::query()
            .order_by(Gauge::id().desc())
            .first(&pool)
            .await
            .unwrap();
        assert_eq!(first.as_ref(), want.last(), "{d:?}");
        for g in &want {
            assert_eq!(&Gauge::get(&pool, g.id).await.unwrap(), g, "{d:?}");
        }
        let e = Gauge::get(&pool, 4).await.unwrap_err();
        assert!(matches!(e, chakra::Error::NotFound { .. }), "{d:?}: {e}");

        let mut tx = pool.begin().await.unwrap();
        assert_eq!(Gauge::get(&mut tx, 2).await.unwrap(), want[1], "{d:?}");
        let filtered = Gauge::query()
            .filter(Gauge::level().gt(-1))
            .order_by(Gauge::id().asc())
            .all(&mut tx)
            .await
            .unwrap();
        assert_eq!(filtered, want[1..].to_vec(), "{d:?}");
        tx.rollback().await.unwrap();

        // A session's transaction (`&Tx`).
        let session = Session::new(&pool);
        let (all, one) = session
            .transaction(|tx| async move {
                let all = Gauge::query().order_by(Gauge::id().asc()).all(&tx).await?;
                let one = Gauge::get(&tx, 3).await?;
                Ok((all, one))
            })
            .await
            .unwrap();
        assert_eq!(all, want, "{d:?}");
        assert_eq!(one, want[2], "{d:?}");
    }
}

/// A table made by hand on PostgreSQL: `level` of `col_type`, holding `value`.
async fn hand_made(pool: &Pool, col_type: &str, value: &str) {
    pool.batch_execute(&format!(
        "CREATE TABLE gauges (id bigint PRIMARY KEY, level {col_type}, label text, \
         ratio double precision NOT NULL, seen date); \
         INSERT INTO gauges VALUES (1, {value}, 'a', 1.5, NULL)"
    ))
    .await
    .unwrap();
}

fn assert_named(e: &chakra::Error, field: &str, words: &[&str]) {
    let msg = e.to_string();
    assert!(
        matches!(e, chakra::Error::Decode { column, .. } if column == field),
        "{msg}"
    );
    for w in words {
        assert!(msg.contains(w), "{w:?} not in {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_that_does_not_fit_is_named_on_postgres() {
    // A column of another type than the field's.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made(&pool, "text", "'high'").await;
    let e = Gauge::query().all(&pool).await.unwrap_err();
    assert_named(&e, "Gauge.level", &["Gauge.level", "text", "high"]);
    let e = Gauge::get(&pool, 1).await.unwrap_err();
    assert_named(&e, "Gauge.level", &["text"]);
    drop(pool);
    drop(db);

    // A bigint whose value does not fit an i32 field.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made(&pool, "bigint", "4294967296").await;
    let e = Gauge::query().all(&pool).await.unwrap_err();
    assert_named(&e, "Gauge.level", &["bigint", "4294967296"]);
    drop(pool);
    drop(db);

    // A NULL in a non-nullable field.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made(&pool, "integer", "NULL").await;
    let e = Gauge::get(&pool, 1).await.unwrap_err();
    assert_named(&e, "Gauge.level", &["NULL"]);
    drop(pool);
    drop(db);

    // Narrower columns whose values fit read back (smallint into i32), in a transaction too.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made(&pool, "smallint", "-32768").await;
    let want = Gauge {
        id: 1,
        level: -32768,
        label: "a".into(),
        ratio: 1.5,
        seen: None,
    };
    assert_eq!(Gauge::query().all(&pool).await.unwrap(), vec![want.clone()]);
    let mut tx = pool.begin().await.unwrap();
    assert_eq!(Gauge::get(&mut tx, 1).await.unwrap(), want);
    tx.commit().await.unwrap();
}

/// Gauges 1..=300 made by hand on PostgreSQL with `level` of `level_type` (the value
/// `level_sql` of `i`) and `seen` of `seen_type` (NULL but in row `seen_at`, where it is
/// `seen_sql`).
async fn hand_made_rows(
    pool: &Pool,
    level_type: &str,
    level_sql: &str,
    seen_type: &str,
    seen_at: i64,
    seen_sql: &str,
) {
    pool.batch_execute(&format!(
        "CREATE TABLE gauges (id bigint PRIMARY KEY, level {level_type} NOT NULL, \
         label text NOT NULL, ratio double precision NOT NULL, seen {seen_type}); \
         INSERT INTO gauges SELECT i, {level_sql}, 'g' || i, i * 0.5, \
           CASE WHEN i = {seen_at} THEN {seen_sql} END FROM generate_series(1, 300) AS i"
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_a_result_is_read_by_its_columns_types_on_postgres() {
    // Each column's type is checked once per result: a column whose cells are NULL until
    // row 250 is checked at row 250, where its drifted type is a named error.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made_rows(&pool, "integer", "i", "text", 250, "'yesterday'").await;
    let e = Gauge::query()
        .order_by(Gauge::id().asc())
        .all(&pool)
        .await
        .unwrap_err();
    assert_named(&e, "Gauge.seen", &["Gauge.seen", "text", "yesterday"]);
    drop(pool);
    drop(db);

    // A narrower column (smallint into i32) reads through the runtime-typed path in every
    // row, not the direct read of the type checked in the first one; a date column first
    // seen in row 299 reads back there.
    let db = common::TestDb::postgres().await;
    let pool = db.pool().await;
    hand_made_rows(
        &pool,
        "smallint",
        "(i * 97 - 15000)::smallint",
        "date",
        299,
        "DATE '2024-02-29'",
    )
    .await;
    let want: Vec<Gauge> = (1..=300i64)
        .map(|i| Gauge {
            id: i,
            level: (i * 97 - 15000) as i32,
            label: format!("g{i}"),
            ratio: i as f64 * 0.5,
            seen: (i == 299).then(|| NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
        })
        .collect();
    for _ in 0..2 {
        let got = Gauge::query()
            .order_by(Gauge::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(got, want);
    }
    let mut tx = pool.begin().await.unwrap();
    let got = Gauge::query()
        .order_by(Gauge::id().asc())
        .all(&mut tx)
        .await
        .unwrap();
    assert_eq!(got, want);
    tx.commit().await.unwrap();
}
