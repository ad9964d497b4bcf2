//! Enum fields from Rust (issue 24): `#[derive(chakra::Enum)]` on a fieldless enum, stored as
//! its variants' text on SQLite and PostgreSQL, read back as variants, filtered with `eq` and
//! `is_in`; a stored value no variant has is a `Decode` error naming model, field and value.
//! Expected rows are checked with hand-written SQL.

mod common;

use chakra::dsl::ValueType;
use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, chakra::Enum)]
#[chakra(name = "ticket_status")]
pub enum Status {
    #[default]
    Open,
    #[chakra(value = "on hold")]
    OnHold,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, chakra::Enum)]
pub enum Priority {
    Low,
    High,
}

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "rs_enum_tickets", no_default)]
pub struct Ticket {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub status: Status,
    pub priority: Option<Priority>,
}

#[test]
fn the_derive_gives_names_and_stored_values() {
    // schema.rs writes an Enum column as text: the enum types match it.
    fn matches_schema<F: chakra::dsl::typed::SchemaColumn<C>, C>() {}
    matches_schema::<Status, String>();
    matches_schema::<Option<Priority>, Option<String>>();
    assert_eq!(Status::ENUM_NAME, "ticket_status");
    assert_eq!(Status::VALUES, ["open", "on hold", "closed"]);
    assert_eq!(Priority::ENUM_NAME, "priority");
    assert_eq!(Status::OnHold.as_str(), "on hold");
    assert_eq!(Status::from_stored("closed"), Some(Status::Closed));
    assert_eq!(Status::from_stored("Closed"), None);
    let f = &Ticket::meta().fields[1];
    assert_eq!(
        f.ty,
        chakra::dsl::FieldType::Enum {
            name: "ticket_status".into(),
            values: vec!["open".into(), "on hold".into(), "closed".into()],
        }
    );
}

#[test]
fn typed_columns_carry_the_enum_type_into_the_ir() {
    // The typed DSL's column expressions name the enum type (Option columns too), as the
    // lowering from the model's fields does; other columns name none.
    let ir = |e: chakra::dsl::Expr| match e {
        chakra::dsl::Expr::Column(c) => c.enum_type,
        other => panic!("a column, not {other:?}"),
    };
    assert_eq!(ir(Ticket::status().ir()), Some("ticket_status".to_owned()));
    assert_eq!(ir(Ticket::priority().ir()), Some("priority".to_owned()));
    assert_eq!(ir(Ticket::id().ir()), None);
}

async fn stored(pool: &chakra::Pool) -> Vec<String> {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &["SELECT status FROM rs_enum_tickets ORDER BY id"],
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_round_trip_and_filter_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
            .await
            .unwrap();
        let mut rows = vec![
            Ticket {
                id: 0,
                status: Status::Open,
                priority: None,
            },
            Ticket {
                id: 0,
                status: Status::OnHold,
                priority: Some(Priority::High),
            },
            Ticket {
                id: 0,
                status: Status::Closed,
                priority: Some(Priority::Low),
            },
        ];
        Ticket::insert_many(&pool, &mut rows).await.unwrap();
        assert_eq!(stored(&pool).await, ["open", "on hold", "closed"], "{d:?}");
        let all = Ticket::query()
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(all, rows, "{d:?}");
        let ids = |v: Vec<Ticket>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
        let held = Ticket::query()
            .filter(Ticket::status().eq(Status::OnHold))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ids(held), [rows[1].id]);
        let some = Ticket::query()
            .filter(Ticket::status().is_in([Status::Open, Status::Closed]))
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ids(some), [rows[0].id, rows[2].id]);
        let high = Ticket::query()
            .filter(Ticket::priority().eq(Priority::High))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ids(high), [rows[1].id]);
        // The database holds the column to the enum's values.
        let e = pool
            .batch_execute("INSERT INTO rs_enum_tickets (status) VALUES ('archived')")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("rs_enum_tickets_status_enum"),
            "{d:?}: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_stored_value_is_a_named_decode_error() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        // A table that lets the column hold anything: the Rust enum is narrower.
        pool.batch_execute(
            "CREATE TABLE rs_enum_tickets (id BIGINT PRIMARY KEY, status TEXT NOT NULL, \
             priority TEXT); INSERT INTO rs_enum_tickets VALUES (1, 'archived', NULL)",
        )
        .await
        .unwrap();
        let e = Ticket::query().all(&pool).await.unwrap_err().to_string();
        assert!(
            e.contains("Ticket") && e.contains("status") && e.contains("\"archived\""),
            "{d:?}: {e}"
        );
    }
}

/// Ordering and ranges compare an enum field's stored text, as Django's text column with
/// choices does, on both backends alike (not the declaration order: `open` is declared first
/// and sorts last). Expected rows come from the same rows sorted and compared in plain Rust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordering_and_ranges_follow_the_stored_text_on_both_backends() {
    let statuses = [
        Status::Open,
        Status::Closed,
        Status::OnHold,
        Status::Open,
        Status::Closed,
        Status::OnHold,
        Status::Open,
    ];
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<Ticket> = statuses
            .iter()
            .map(|s| Ticket {
                id: 0,
                status: *s,
                priority: None,
            })
            .collect();
        Ticket::insert_many(&pool, &mut rows).await.unwrap();
        let pairs = |v: Vec<Ticket>| v.into_iter().map(|t| (t.id, t.status)).collect::<Vec<_>>();

        let mut expected: Vec<(i64, Status)> = rows.iter().map(|t| (t.id, t.status)).collect();
        expected.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()).then(a.0.cmp(&b.0)));
        let got = Ticket::query()
            .order_by(Ticket::status().asc())
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(pairs(got), expected, "{d:?}: ascending");
        expected.sort_by(|a, b| b.1.as_str().cmp(a.1.as_str()).then(a.0.cmp(&b.0)));
        let got = Ticket::query()
            .order_by(Ticket::status().desc())
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(pairs(got), expected, "{d:?}: descending");

        let plain = |keep: &dyn Fn(&str) -> bool| -> Vec<i64> {
            rows.iter()
                .filter(|t| keep(t.status.as_str()))
                .map(|t| t.id)
                .collect()
        };
        let ids = |v: Vec<Ticket>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
        let gt = Ticket::query()
            .filter(Ticket::status().gt(Status::OnHold))
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ids(gt), plain(&|s| s > "on hold"), "{d:?}: gt");
        let lt = Ticket::query()
            .filter(Ticket::status().lt(Status::Open))
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ids(lt), plain(&|s| s < "open"), "{d:?}: lt");
        let between = Ticket::query()
            .filter(Ticket::status().between(Status::Closed, Status::OnHold))
            .order_by(Ticket::id().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(
            ids(between),
            plain(&|s| ("closed"..="on hold").contains(&s)),
            "{d:?}: between"
        );
        // The same rows by hand-written SQL.
        let q = chakra::migrate::history::raw(
            pool.dialect(),
            &["SELECT id FROM rs_enum_tickets WHERE status > 'on hold' ORDER BY id"],
            vec![],
            vec![ValueType::I64],
        );
        let by_sql: Vec<i64> = pool
            .fetch_compiled(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect();
        assert_eq!(by_sql, plain(&|s| s > "on hold"), "{d:?}: hand-written SQL");
    }
}

/// The text lookups and `min`/`max` of the typed DSL take enum columns (their stored text, as
/// Django's lookups on a text column with choices), on both backends; expected rows come from
/// plain Rust over the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_lookups_and_min_max_take_enum_columns_on_both_backends() {
    let data = [
        (Status::Open, None),
        (Status::OnHold, Some(Priority::High)),
        (Status::Closed, Some(Priority::Low)),
        (Status::Open, Some(Priority::High)),
    ];
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<Ticket> = data
            .iter()
            .map(|(status, priority)| Ticket {
                id: 0,
                status: *status,
                priority: *priority,
            })
            .collect();
        Ticket::insert_many(&pool, &mut rows).await.unwrap();
        let plain = |keep: &dyn Fn(&Ticket) -> bool| -> Vec<i64> {
            rows.iter().filter(|t| keep(t)).map(|t| t.id).collect()
        };
        let run = |c: chakra::dsl::typed::Condition<Ticket>| {
            let pool = pool.clone();
            async move {
                Ticket::query()
                    .filter(c)
                    .order_by(Ticket::id().asc())
                    .all(&pool)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|t| t.id)
                    .collect::<Vec<_>>()
            }
        };
        let text = |t: &Ticket| t.status.as_str().to_owned();
        assert_eq!(
            run(Ticket::status().contains("ld")).await,
            plain(&|t| text(t).contains("ld")),
            "{d:?}"
        );
        assert_eq!(
            run(Ticket::status().icontains("HOLD")).await,
            plain(&|t| text(t).contains("hold")),
            "{d:?}"
        );
        assert_eq!(
            run(Ticket::status().starts_with("c")).await,
            plain(&|t| text(t).starts_with('c')),
            "{d:?}"
        );
        assert_eq!(
            run(Ticket::status().regex("^o.*n$")).await,
            plain(&|t| text(t).starts_with('o') && text(t).ends_with('n')),
            "{d:?}"
        );
        assert_eq!(
            run(Ticket::priority().iexact("HIGH")).await,
            plain(&|t| t.priority == Some(Priority::High)),
            "{d:?}"
        );
        let (lo, hi, lo_p, hi_p) = Ticket::query()
            .aggregate(
                (
                    min(Ticket::status()),
                    max(Ticket::status()),
                    min(Ticket::priority()),
                    max(Ticket::priority()),
                ),
                &pool,
            )
            .await
            .unwrap();
        let by_text = |a: &Status, b: &Status| a.as_str().cmp(b.as_str());
        assert_eq!(lo, rows.iter().map(|t| t.status).min_by(by_text), "{d:?}");
        assert_eq!(hi, rows.iter().map(|t| t.status).max_by(by_text), "{d:?}");
        let ps = || rows.iter().filter_map(|t| t.priority);
        let p_text = |a: &Priority, b: &Priority| a.as_str().cmp(b.as_str());
        assert_eq!(lo_p, ps().min_by(p_text), "{d:?}");
        assert_eq!(hi_p, ps().max_by(p_text), "{d:?}");
    }
}

/// Reading native PostgreSQL enum columns (a table built by hand-written SQL, as the native
/// DDL will build it; rows inserted by hand, in an order where the declaration order and the
/// text order differ): rows decode as variants, `eq`/`is_in`/ranges filter and `order_by`
/// sorts on the stored text, as on a text column (the enum column is read as `::text`).
/// A value added to the type outside Chakra is a named decode error. Expected rows come from
/// plain Rust over the rows inserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_postgres_enum_columns_read_as_their_text() {
    let db = common::TestDb::new(chakra::Dialect::Postgres).await;
    let pool = db.pool().await;
    pool.batch_execute(
        "CREATE TYPE ticket_status AS ENUM ('open', 'on hold', 'closed'); \
         CREATE TYPE priority AS ENUM ('low', 'high'); \
         CREATE TABLE rs_enum_tickets (id BIGINT PRIMARY KEY, status ticket_status NOT NULL, \
         priority priority); \
         INSERT INTO rs_enum_tickets VALUES (1, 'closed', 'low'), (2, 'open', NULL), \
         (3, 'on hold', 'high'), (4, 'open', 'high')",
    )
    .await
    .unwrap();
    let rows = [
        (1, Status::Closed, Some(Priority::Low)),
        (2, Status::Open, None),
        (3, Status::OnHold, Some(Priority::High)),
        (4, Status::Open, Some(Priority::High)),
    ];
    let all = Ticket::query()
        .order_by(Ticket::id().asc())
        .all(&pool)
        .await
        .unwrap();
    let triples: Vec<_> = all.iter().map(|t| (t.id, t.status, t.priority)).collect();
    assert_eq!(triples, rows);
    let ids = |v: Vec<Ticket>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    type Row = (i64, Status, Option<Priority>);
    let plain = |keep: &dyn Fn(&Row) -> bool| -> Vec<i64> {
        rows.iter().filter(|r| keep(r)).map(|r| r.0).collect()
    };
    let held = Ticket::query()
        .filter(Ticket::status().eq(Status::OnHold))
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(ids(held), plain(&|r| r.1 == Status::OnHold));
    let some = Ticket::query()
        .filter(Ticket::status().is_in([Status::Open, Status::Closed]))
        .order_by(Ticket::id().asc())
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(
        ids(some),
        plain(&|r| matches!(r.1, Status::Open | Status::Closed))
    );
    let high = Ticket::query()
        .filter(Ticket::priority().eq(Priority::High))
        .order_by(Ticket::id().asc())
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(ids(high), plain(&|r| r.2 == Some(Priority::High)));
    let gt = Ticket::query()
        .filter(Ticket::status().gt(Status::OnHold))
        .order_by(Ticket::id().asc())
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(ids(gt), plain(&|r| r.1.as_str() > "on hold"));
    // Text order ("closed" < "on hold" < "open"), not declaration order.
    let mut expected: Vec<(i64, &str)> = rows.iter().map(|r| (r.0, r.1.as_str())).collect();
    expected.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    let sorted = Ticket::query()
        .order_by(Ticket::status().asc())
        .order_by(Ticket::id().asc())
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(
        ids(sorted),
        expected.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    // Raw SQL reading the native column: a decode error naming the column and the way out
    // (no silent text decode of unknown types); selected as `::text` it reads.
    let raw = |sql: &'static str| {
        chakra::migrate::history::raw(
            pool.dialect(),
            &[sql],
            vec![],
            vec![ValueType::I64, ValueType::Text],
        )
    };
    let e = pool
        .fetch_compiled(&raw("SELECT id, status FROM rs_enum_tickets ORDER BY id"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"status\"") && e.contains("::text"), "{e}");
    let texts: Vec<String> = pool
        .fetch_compiled(&raw(
            "SELECT id, status::text FROM rs_enum_tickets ORDER BY id",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[1].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, rows.map(|r| r.1.as_str().to_owned()));
    // A value added outside Chakra and stored: a named decode error, not a wrong variant.
    // (Two statements: a value added in a transaction is unusable until it commits.)
    pool.batch_execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
        .await
        .unwrap();
    pool.batch_execute("INSERT INTO rs_enum_tickets VALUES (5, 'archived', NULL)")
        .await
        .unwrap();
    let e = Ticket::query().all(&pool).await.unwrap_err().to_string();
    assert!(
        e.contains("Ticket") && e.contains("status") && e.contains("\"archived\""),
        "{e}"
    );
}
