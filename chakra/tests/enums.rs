//! Enum fields from Rust (issue 24): `#[derive(chakra::Enum)]` on a fieldless enum, stored as
//! its variants' text on SQLite and PostgreSQL, read back as variants, filtered with `eq` and
//! `is_in`; a stored value no variant has is a `Decode` error naming model, field and value.
//! Expected rows are checked with hand-written SQL.

mod common;

use chakra::dsl::ValueType;
use chakra::prelude::*;
use common::{ALL3, BOTH};

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

/// `status` as text in hand-written SQL (a native enum on PostgreSQL is cast; MySQL casts to
/// `CHAR`, having no `TEXT` cast).
fn status_text(d: chakra::Dialect) -> &'static str {
    match d {
        chakra::Dialect::Mysql => "CAST(status AS CHAR)",
        _ => "CAST(status AS TEXT)",
    }
}

async fn stored(pool: &chakra::Pool) -> Vec<String> {
    let sql = format!(
        "SELECT {} FROM rs_enum_tickets ORDER BY id",
        status_text(pool.dialect())
    );
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[sql.as_str()],
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
        // The database holds the column to the enum's values: PostgreSQL's native type, a
        // named CHECK on SQLite.
        let e = pool
            .batch_execute("INSERT INTO rs_enum_tickets (status) VALUES ('archived')")
            .await
            .unwrap_err();
        let names = match d {
            chakra::Dialect::Postgres => "enum ticket_status",
            _ => "rs_enum_tickets_status_enum",
        };
        assert!(e.to_string().contains(names), "{d:?}: {e}");
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
        let sql = format!(
            "SELECT id FROM rs_enum_tickets WHERE {} > 'on hold' ORDER BY id",
            status_text(pool.dialect())
        );
        let q = chakra::migrate::history::raw(
            pool.dialect(),
            &[sql.as_str()],
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
/// sorts on the stored text, as on a text column (the enum column is read as `::text`); raw
/// SQL reads the native column as its text. A value added to the type outside Chakra is a
/// named decode error. Expected rows come from
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
    // Raw SQL reading the native column: the enum's type is looked up by its OID and the
    // cell read as its text, on every raw path (compiled, named rows, rows as models).
    let raw = |sql: &'static str| {
        chakra::migrate::history::raw(
            pool.dialect(),
            &[sql],
            vec![],
            vec![ValueType::I64, ValueType::Text],
        )
    };
    let want: Vec<String> = rows.iter().map(|r| r.1.as_str().to_owned()).collect();
    for sql in [
        "SELECT id, status FROM rs_enum_tickets ORDER BY id",
        "SELECT id, status::text FROM rs_enum_tickets ORDER BY id",
    ] {
        let texts: Vec<String> = pool
            .fetch_compiled(&raw(sql))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r[1].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(texts, want, "{sql}");
    }
    let named = chakra::raw_fetch("SELECT status, priority FROM rs_enum_tickets ORDER BY id")
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(named.columns, ["status", "priority"]);
    let cells: Vec<(String, Option<String>)> = named
        .rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().map(str::to_owned),
            )
        })
        .collect();
    let by_hand: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| (r.1.as_str().to_owned(), r.2.map(|p| p.as_str().to_owned())))
        .collect();
    assert_eq!(cells, by_hand);
    let models = chakra::raw::<Ticket>("SELECT * FROM rs_enum_tickets ORDER BY id")
        .all(&pool)
        .await
        .unwrap();
    assert_eq!(models, all);
    // Streamed rows cannot look the type up (the stream holds the connection): a decode
    // error naming the column and the way out.
    let e = pool
        .fetch_compiled_chunked(
            &raw("SELECT id, status FROM rs_enum_tickets ORDER BY id"),
            2,
            &mut |_| {},
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("status") && e.contains("streamed") && e.contains("::text"),
        "{e}"
    );
    // A user-defined type that is not an enum: a decode error naming the column, its type
    // and the way out (no silent text decode).
    pool.batch_execute("CREATE TYPE rs_pair AS (a INTEGER, b INTEGER)")
        .await
        .unwrap();
    let e = chakra::raw_fetch("SELECT ROW(1, 2)::rs_pair AS pair")
        .all(&pool)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("pair") && e.contains("rs_pair") && e.contains("::text"),
        "{e}"
    );
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

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "rs_enum_tags", no_default)]
pub struct Tag {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(unique)]
    pub code: String,
    pub status: Status,
}

/// Every write path stores enum values in the column (on PostgreSQL a native enum type,
/// written through `CAST(… AS "type")`; text on SQLite): one-row and multi-row inserts, an
/// update's `SET`, `bulk_update`, an upsert's insert and its `DO UPDATE`. The stored values
/// are read back by hand-written SQL and compared with the values written; on PostgreSQL the
/// catalog says the column's type is the enum type, created with the declared values in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_stores_enum_values_on_both_backends() {
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Tag::meta()], false)
            .await
            .unwrap();
        let stored = || {
            let pool = pool.clone();
            async move {
                let q = chakra::migrate::history::raw(
                    pool.dialect(),
                    &["SELECT code || '=' || CAST(status AS TEXT) FROM rs_enum_tags ORDER BY code"],
                    vec![],
                    vec![ValueType::Text],
                );
                pool.fetch_compiled(&q)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r[0].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        let tag = |code: &str, status| Tag {
            id: 0,
            code: code.into(),
            status,
        };
        let mut one = tag("a", Status::OnHold);
        one.save(&pool).await.unwrap();
        let mut many = vec![tag("b", Status::Closed), tag("c", Status::Open)];
        Tag::insert_many(&pool, &mut many).await.unwrap();
        assert_eq!(stored().await, ["a=on hold", "b=closed", "c=open"], "{d:?}");

        let n = Tag::query()
            .filter(Tag::code().eq("b"))
            .update()
            .set(Tag::status(), Status::OnHold)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(
            stored().await,
            ["a=on hold", "b=on hold", "c=open"],
            "{d:?}"
        );

        many[0].status = Status::Open;
        many[1].status = Status::Closed;
        let n = chakra::bulk_update(&many, Tag::status())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(stored().await, ["a=on hold", "b=open", "c=closed"], "{d:?}");

        let mut up = vec![tag("a", Status::Closed), tag("d", Status::OnHold)];
        chakra::upsert(&mut up)
            .on_conflict(Tag::code())
            .do_update(Tag::status())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(
            stored().await,
            ["a=closed", "b=open", "c=closed", "d=on hold"],
            "{d:?}"
        );
        // A tracked row saved again (its compare-and-set UPDATE).
        one = Tag::get(&pool, one.id).await.unwrap();
        one.status = Status::Open;
        one.save(&pool).await.unwrap();
        assert_eq!(
            stored().await,
            ["a=open", "b=open", "c=closed", "d=on hold"],
            "{d:?}"
        );

        if d == chakra::Dialect::Postgres {
            let q = chakra::migrate::history::raw(
                d,
                &["SELECT format_type(a.atttypid, a.atttypmod) || ':' || \
                   (SELECT string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) \
                    FROM pg_enum e WHERE e.enumtypid = a.atttypid) \
                   FROM pg_attribute a WHERE a.attrelid = 'rs_enum_tags'::regclass \
                   AND a.attname = 'status'"],
                vec![],
                vec![ValueType::Text],
            );
            let ty = pool.fetch_compiled(&q).await.unwrap();
            assert_eq!(ty[0][0].as_str(), Some("ticket_status:open,on hold,closed"));
        }
        // Dropping the tables drops the type with its last user.
        chakra::schema::drop_tables(&pool, &[Tag::meta()])
            .await
            .unwrap();
        if d == chakra::Dialect::Postgres {
            let q = chakra::migrate::history::raw(
                d,
                &["SELECT count(*) FROM pg_type WHERE typname = 'ticket_status'"],
                vec![],
                vec![ValueType::I64],
            );
            assert_eq!(
                pool.fetch_compiled(&q).await.unwrap()[0][0].as_i64(),
                Some(0)
            );
        }
    }
}

/// PostgreSQL: `eq` and `is_in` on a native enum column match the stored text, as on SQLite,
/// in a form an index on the column serves (the value looked up among the type's labels once,
/// not the column read as text): with sequential scans off, the plan scans the index. The rows
/// found are checked against plain Rust over the rows inserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_equality_filters_use_an_index_on_postgres() {
    let db = common::TestDb::new(chakra::Dialect::Postgres).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
        .await
        .unwrap();
    let mut rows: Vec<Ticket> = [Status::Open, Status::OnHold, Status::Closed, Status::OnHold]
        .into_iter()
        .map(|status| Ticket {
            id: 0,
            status,
            priority: None,
        })
        .collect();
    Ticket::insert_many(&pool, &mut rows).await.unwrap();
    pool.batch_execute("CREATE INDEX rs_enum_tickets_status_idx ON rs_enum_tickets (status)")
        .await
        .unwrap();
    let eq = Ticket::query()
        .filter(Ticket::status().eq(Status::OnHold))
        .order_by(Ticket::id().asc());
    let any = Ticket::query()
        .filter(Ticket::status().is_in([Status::Open, Status::Closed]))
        .order_by(Ticket::id().asc());
    let ids = |v: Vec<Ticket>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let plain = |keep: &dyn Fn(Status) -> bool| -> Vec<i64> {
        rows.iter()
            .filter(|t| keep(t.status))
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(
        ids(eq.all(&pool).await.unwrap()),
        plain(&|s| s == Status::OnHold)
    );
    assert_eq!(
        ids(any.all(&pool).await.unwrap()),
        plain(&|s| matches!(s, Status::Open | Status::Closed))
    );
    let mut tx = pool.begin().await.unwrap();
    tx.batch_execute("SET LOCAL enable_seqscan = off")
        .await
        .unwrap();
    // Unordered (an ordering by id would make the primary key's index the cheaper scan).
    let eq = Ticket::query().filter(Ticket::status().eq(Status::OnHold));
    let any = Ticket::query().filter(Ticket::status().is_in([Status::Open, Status::Closed]));
    for (what, plan) in [
        ("eq", eq.explain(&mut tx).await.unwrap()),
        ("is_in", any.explain(&mut tx).await.unwrap()),
    ] {
        assert!(
            plan.contains("rs_enum_tickets_status_idx"),
            "{what}: {plan}"
        );
    }
    tx.rollback().await.unwrap();
}

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "rs_enum_other", no_default)]
pub struct Other {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub status: Status,
}

/// Tables sharing an enum created one at a time (`create_tables` per model): the second
/// uses the type the first created; a type that exists with other values is refused by name,
/// nothing created. Both backends; the catalog read by hand on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_created_one_at_a_time_share_the_enum_type() {
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
            .await
            .unwrap();
        chakra::schema::create_tables(&pool, &[Other::meta()], false)
            .await
            .unwrap();
        let mut o = Other {
            id: 0,
            status: Status::Closed,
        };
        o.save(&pool).await.unwrap();
        assert_eq!(
            Other::query().all(&pool).await.unwrap(),
            [o.clone()],
            "{d:?}"
        );
        // Dropping one table keeps the type the other uses.
        chakra::schema::drop_tables(&pool, &[Ticket::meta()])
            .await
            .unwrap();
        assert_eq!(Other::query().count(&pool).await.unwrap(), 1, "{d:?}");
        if d == chakra::Dialect::Postgres {
            chakra::schema::drop_tables(&pool, &[Other::meta()])
                .await
                .unwrap();
            pool.batch_execute("CREATE TYPE ticket_status AS ENUM ('open', 'closed')")
                .await
                .unwrap();
            let e = chakra::schema::create_tables(&pool, &[Ticket::meta()], false)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("ticket_status") && e.contains("{open,closed}"),
                "{e}"
            );
            let q = chakra::migrate::history::raw(
                d,
                &["SELECT count(*) FROM pg_class WHERE relname = 'rs_enum_tickets'"],
                vec![],
                vec![ValueType::I64],
            );
            assert_eq!(
                pool.fetch_compiled(&q).await.unwrap()[0][0].as_i64(),
                Some(0)
            );
        }
    }
}
