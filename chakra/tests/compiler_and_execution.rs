//! Every IR construct: the SQL each dialect compiles it to, and the same IR executed against
//! a real SQLite file, a real PostgreSQL database and a real MySQL/MariaDB database with the
//! same result.

mod common;

use chakra::dsl::*;
use chakra::{compile, Dialect, Pool};
use common::fixtures::*;
use common::TestDb;

struct Dbs {
    _pg: TestDb,
    _lite: TestDb,
    _my: TestDb,
    pg: Pool,
    lite: Pool,
    my: Pool,
}

async fn dbs() -> Dbs {
    let pg_db = TestDb::postgres().await;
    let lite_db = TestDb::sqlite().await;
    let my_db = TestDb::mysql().await;
    let pg = pg_db.pool().await;
    let lite = lite_db.pool().await;
    let my = my_db.pool().await;
    seed(&pg).await;
    seed(&lite).await;
    seed(&my).await;
    Dbs {
        _pg: pg_db,
        _lite: lite_db,
        _my: my_db,
        pg,
        lite,
        my,
    }
}

fn sql(stmt: &Statement, d: Dialect) -> String {
    compile(stmt, d).unwrap().sql()
}

/// Asserts the SQL on both dialects, runs the statement on both databases, and returns the
/// rows (which must be equal on both).
async fn check(dbs: &Dbs, stmt: Statement, pg_sql: &str, lite_sql: &str) -> Vec<Vec<Value>> {
    assert_eq!(sql(&stmt, Dialect::Postgres), pg_sql, "PostgreSQL SQL");
    assert_eq!(sql(&stmt, Dialect::Sqlite), lite_sql, "SQLite SQL");
    let a = dbs.pg.fetch(&stmt).await.expect("PostgreSQL run");
    let b = dbs.lite.fetch(&stmt).await.expect("SQLite run");
    assert_eq!(a, b, "PostgreSQL and SQLite disagree for {pg_sql}");
    let c = dbs.my.fetch(&stmt).await.expect("MySQL run");
    assert_eq!(a, c, "PostgreSQL and MySQL disagree for {pg_sql}");
    a
}

const SEL: &str = r#"SELECT "users"."username" FROM "users" WHERE "#;
const PG_ORD: &str = r#" ORDER BY "users"."id""#;
const LITE_ORD: &str = r#" ORDER BY "users"."id" NULLS LAST"#;

async fn names(dbs: &Dbs, filter: Expr, pg_where: &str, lite_where: &str) -> Vec<String> {
    let rows = check(
        dbs,
        names_where(filter).into(),
        &format!("{SEL}{pg_where}{PG_ORD}"),
        &format!("{SEL}{lite_where}{LITE_ORD}"),
    )
    .await;
    texts(&rows)
}

#[tokio::test]
async fn comparisons_and_boolean_logic() {
    let dbs = dbs().await;
    let n = names(
        &dbs,
        username().eq(Expr::val("alice")),
        r#""users"."username" = $1"#,
        r#""users"."username" = ?"#,
    )
    .await;
    assert_eq!(n, ["alice"]);

    for (op, pg_op, expected) in [
        (CmpOp::Gt, ">", vec!["alice", "carol"]),
        (CmpOp::Ge, ">=", vec!["alice", "carol"]),
        (CmpOp::Lt, "<", vec!["bob"]),
        (CmpOp::Le, "<=", vec!["bob"]),
        (CmpOp::Ne, "<>", vec!["alice", "carol"]),
    ] {
        let bound = if op == CmpOp::Ge || op == CmpOp::Lt {
            26
        } else {
            25
        };
        let got = names(
            &dbs,
            age().cmp(op, Expr::val(bound)),
            &format!(r#""users"."age" {pg_op} $1"#),
            &format!(r#""users"."age" {pg_op} ?"#),
        )
        .await;
        assert_eq!(got, expected, "{op:?}");
    }

    let f = age()
        .cmp(CmpOp::Ge, Expr::val(30))
        .or(username().eq(Expr::val("bob")))
        .and(username().eq(Expr::val("carol")).not());
    let got = names(
        &dbs,
        f,
        r#"(("users"."age" >= $1) OR ("users"."username" = $2)) AND (NOT ("users"."username" = $3))"#,
        r#"(("users"."age" >= ?) OR ("users"."username" = ?)) AND (NOT ("users"."username" = ?))"#,
    )
    .await;
    assert_eq!(got, ["alice", "bob"]);

    let got = names(&dbs, Expr::And(vec![]), "TRUE", "TRUE").await;
    assert_eq!(got.len(), 4);
    let got = names(&dbs, Expr::Or(vec![]), "FALSE", "FALSE").await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn like_family_escapes_and_case() {
    let dbs = dbs().await;
    let cases = [
        (LikeKind::Contains, "al", false, vec!["alice", "albert"]),
        (LikeKind::StartsWith, "al", false, vec!["alice", "albert"]),
        (LikeKind::EndsWith, "ob", false, vec!["bob"]),
        (LikeKind::Contains, "AL", false, vec![]),
        (LikeKind::Contains, "AL", true, vec!["alice", "albert"]),
        (LikeKind::Exact, "ALICE", true, vec!["alice"]),
        (LikeKind::Raw, "a_i%", false, vec!["alice"]),
    ];
    for (kind, text, ci, expected) in cases {
        let (pg, lite) = if ci {
            (
                r#"REPLACE(LOWER("users"."username"), 'ς', 'σ') LIKE $1 ESCAPE '\'"#,
                r#"REPLACE(chakra_lower("users"."username"), 'ς', 'σ') LIKE ? ESCAPE '\'"#,
            )
        } else {
            (
                r#""users"."username" LIKE $1 ESCAPE '\'"#,
                r#""users"."username" LIKE ? ESCAPE '\'"#,
            )
        };
        let got = names(&dbs, username().like(kind, text, ci), pg, lite).await;
        assert_eq!(got, expected, "{kind:?} {text:?} ci={ci}");
    }
    // Wildcards in user text are literal.
    let got = names(
        &dbs,
        username().like(LikeKind::Contains, "_", false),
        r#""users"."username" LIKE $1 ESCAPE '\'"#,
        r#""users"."username" LIKE ? ESCAPE '\'"#,
    )
    .await;
    assert!(got.is_empty());
    let got = names(
        &dbs,
        Expr::Regex {
            expr: Box::new(username()),
            pattern: "^a.*e$".into(),
            case_insensitive: false,
        },
        r#""users"."username" ~ $1"#,
        r#""users"."username" REGEXP ?"#,
    )
    .await;
    assert_eq!(got, ["alice"]);
    let got = names(
        &dbs,
        Expr::Regex {
            expr: Box::new(username()),
            pattern: "^B".into(),
            case_insensitive: true,
        },
        r#""users"."username" ~* $1"#,
        r#""users"."username" REGEXP ?"#,
    )
    .await;
    assert_eq!(got, ["bob"]);
}

#[tokio::test]
async fn in_null_between() {
    let dbs = dbs().await;
    let got = names(
        &dbs,
        username().is_in(vec!["bob".into(), "alice".into(), "zed".into()]),
        r#""users"."username" = ANY($1)"#,
        r#""users"."username" IN (SELECT value FROM json_each(?))"#,
    )
    .await;
    assert_eq!(got, ["alice", "bob"]);
    let got = names(&dbs, username().is_in(vec![]), "FALSE", "FALSE").await;
    assert!(got.is_empty());
    // The SQL text does not depend on the list's length (one cached statement).
    let long: Vec<Value> = (0..500).map(Value::I64).collect();
    let a = compile(&names_where(uid().is_in(long)).into(), Dialect::Postgres).unwrap();
    let b = compile(
        &names_where(uid().is_in(vec![Value::I64(1)])).into(),
        Dialect::Postgres,
    )
    .unwrap();
    assert_eq!(a.sql(), b.sql());
    assert!(a.cacheable);
    let got = names(
        &dbs,
        age().is_null(),
        r#""users"."age" IS NULL"#,
        r#""users"."age" IS NULL"#,
    )
    .await;
    assert_eq!(got, ["albert"]);
    let got = names(
        &dbs,
        age().is_not_null(),
        r#""users"."age" IS NOT NULL"#,
        r#""users"."age" IS NOT NULL"#,
    )
    .await;
    assert_eq!(got, ["alice", "bob", "carol"]);
    let got = names(
        &dbs,
        age().between(Expr::val(25), Expr::val(30)),
        r#""users"."age" BETWEEN $1 AND $2"#,
        r#""users"."age" BETWEEN ? AND ?"#,
    )
    .await;
    assert_eq!(got, ["alice", "bob"]);
}

#[tokio::test]
async fn order_limit_offset_count_exists_distinct() {
    let dbs = dbs().await;
    let q = Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .order(age(), true)
        .order(uid(), false);
    let rows = check(
        &dbs,
        q.into(),
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."age" DESC, "users"."id""#,
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."age" DESC NULLS FIRST, "users"."id" NULLS LAST"#,
    )
    .await;
    assert_eq!(texts(&rows), ["albert", "carol", "alice", "bob"]);

    let q = Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .order(uid(), false)
        .limit(2)
        .offset(1);
    let rows = check(
        &dbs,
        q.clone().into(),
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."id" LIMIT $1 OFFSET $2"#,
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."id" NULLS LAST LIMIT CAST(? AS INTEGER) OFFSET ?"#,
    )
    .await;
    assert_eq!(texts(&rows), ["albert", "bob"]);
    let off_only = Select {
        limit: None,
        ..q.clone()
    };
    let rows = check(
        &dbs,
        off_only.into(),
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."id" OFFSET $1"#,
        r#"SELECT "users"."username" FROM "users" ORDER BY "users"."id" NULLS LAST LIMIT -1 OFFSET ?"#,
    )
    .await;
    assert_eq!(texts(&rows), ["albert", "bob", "carol"]);

    let active = Select::from(Source::table("users"))
        .column(uid(), ValueType::I64)
        .filter(u("active", ValueType::Bool).eq(Expr::val(true)));
    let rows = check(
        &dbs,
        Statement::Count(active.clone()),
        r#"SELECT COUNT(*) FROM "users" WHERE "users"."active" = $1"#,
        r#"SELECT COUNT(*) FROM "users" WHERE "users"."active" = ?"#,
    )
    .await;
    assert_eq!(rows, vec![vec![Value::I64(3)]]);
    let rows = check(
        &dbs,
        Statement::Count(q.clone()),
        r#"SELECT COUNT(*) FROM (SELECT "users"."username" FROM "users" ORDER BY "users"."id" LIMIT $1 OFFSET $2) AS "chakra_count""#,
        r#"SELECT COUNT(*) FROM (SELECT "users"."username" FROM "users" ORDER BY "users"."id" NULLS LAST LIMIT CAST(? AS INTEGER) OFFSET ?) AS "chakra_count""#,
    )
    .await;
    assert_eq!(rows, vec![vec![Value::I64(2)]]);
    let rows = check(
        &dbs,
        Statement::Exists(active.clone()),
        r#"SELECT EXISTS (SELECT 1 FROM "users" WHERE "users"."active" = $1)"#,
        r#"SELECT EXISTS (SELECT 1 FROM "users" WHERE "users"."active" = ?)"#,
    )
    .await;
    assert_eq!(rows, vec![vec![Value::Bool(true)]]);
    let none = active.filter(username().eq(Expr::val("nobody")));
    let a = dbs
        .pg
        .fetch(&Statement::Exists(none.clone()))
        .await
        .unwrap();
    let b = dbs.lite.fetch(&Statement::Exists(none)).await.unwrap();
    assert_eq!(a, vec![vec![Value::Bool(false)]]);
    assert_eq!(a, b);

    let mut d = Select::from(Source::table("users"))
        .column(u("active", ValueType::Bool), ValueType::Bool)
        .order(u("active", ValueType::Bool), false);
    d.distinct = true;
    let rows = check(
        &dbs,
        d.into(),
        r#"SELECT DISTINCT "users"."active" FROM "users" ORDER BY "users"."active""#,
        r#"SELECT DISTINCT "users"."active" FROM "users" ORDER BY "users"."active" NULLS LAST"#,
    )
    .await;
    assert_eq!(
        rows,
        vec![vec![Value::Bool(false)], vec![Value::Bool(true)]]
    );
}

#[tokio::test]
async fn joins_aliases_and_subqueries() {
    let dbs = dbs().await;
    let p = |c: &str, t: ValueType| Expr::col("p", c, t);
    let a = |c: &str, t: ValueType| Expr::col("a", c, t);
    let mut q = Select::from(Source::aliased("posts", "p"))
        .column(p("title", ValueType::Text), ValueType::Text)
        .filter(a("username", ValueType::Text).eq(Expr::val("alice")))
        .order(p("id", ValueType::I64), false);
    q.joins.push(Join {
        kind: JoinKind::Inner,
        source: Source::aliased("users", "a"),
        on: a("id", ValueType::I64).eq(p("author_id", ValueType::I64)),
    });
    let rows = check(
        &dbs,
        q.into(),
        r#"SELECT "p"."title" FROM "posts" AS "p" INNER JOIN "users" AS "a" ON "a"."id" = "p"."author_id" WHERE "a"."username" = $1 ORDER BY "p"."id""#,
        r#"SELECT "p"."title" FROM "posts" AS "p" INNER JOIN "users" AS "a" ON "a"."id" = "p"."author_id" WHERE "a"."username" = ? ORDER BY "p"."id" NULLS LAST"#,
    )
    .await;
    assert_eq!(texts(&rows), ["hello", "again"]);

    // LEFT JOIN keeps users without posts; COUNT over the joined rows.
    let mut q = Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .column(
            Expr::col("posts", "title", ValueType::Text),
            ValueType::Text,
        )
        .filter(Expr::col("posts", "id", ValueType::I64).is_null())
        .order(uid(), false);
    q.joins.push(Join {
        kind: JoinKind::Left,
        source: Source::table("posts"),
        on: Expr::col("posts", "author_id", ValueType::I64).eq(uid()),
    });
    let rows = check(
        &dbs,
        q.into(),
        r#"SELECT "users"."username", "posts"."title" FROM "users" LEFT OUTER JOIN "posts" ON "posts"."author_id" = "users"."id" WHERE "posts"."id" IS NULL ORDER BY "users"."id""#,
        r#"SELECT "users"."username", "posts"."title" FROM "users" LEFT OUTER JOIN "posts" ON "posts"."author_id" = "users"."id" WHERE "posts"."id" IS NULL ORDER BY "users"."id" NULLS LAST"#,
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![Value::from("albert"), Value::Null(ValueType::Text)],
            vec![Value::from("carol"), Value::Null(ValueType::Text)],
        ]
    );

    // IN (subquery) and correlated EXISTS.
    let authors = Select::from(Source::table("posts")).column(
        Expr::col("posts", "author_id", ValueType::I64),
        ValueType::I64,
    );
    let got = names(
        &dbs,
        Expr::InSubquery {
            expr: Box::new(uid()),
            query: Box::new(authors),
        },
        r#""users"."id" IN (SELECT "posts"."author_id" FROM "posts")"#,
        r#""users"."id" IN (SELECT "posts"."author_id" FROM "posts")"#,
    )
    .await;
    assert_eq!(got, ["alice", "bob"]);
    let has_posts = Select::from(Source::table("posts"))
        .column(Expr::col("posts", "id", ValueType::I64), ValueType::I64)
        .filter(Expr::col("posts", "author_id", ValueType::I64).eq(uid()));
    let got = names(
        &dbs,
        Expr::Exists(Box::new(has_posts)).not(),
        r#"NOT (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."author_id" = "users"."id"))"#,
        r#"NOT (EXISTS (SELECT "posts"."id" FROM "posts" WHERE "posts"."author_id" = "users"."id"))"#,
    )
    .await;
    assert_eq!(got, ["albert", "carol"]);

    // A subquery as the FROM source.
    let inner = Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .column(uid(), ValueType::I64)
        .filter(u("active", ValueType::Bool).eq(Expr::val(true)));
    let q = Select::from(Source::Subquery {
        query: Box::new(inner),
        alias: "s".into(),
    })
    .column(Expr::col("s", "username", ValueType::Text), ValueType::Text)
    .order(Expr::col("s", "id", ValueType::I64), true)
    .limit(2);
    let rows = check(
        &dbs,
        q.into(),
        r#"SELECT "s"."username" FROM (SELECT "users"."username", "users"."id" FROM "users" WHERE "users"."active" = $1) AS "s" ORDER BY "s"."id" DESC LIMIT $2"#,
        r#"SELECT "s"."username" FROM (SELECT "users"."username", "users"."id" FROM "users" WHERE "users"."active" = ?) AS "s" ORDER BY "s"."id" DESC NULLS FIRST LIMIT CAST(? AS INTEGER)"#,
    )
    .await;
    assert_eq!(texts(&rows), ["carol", "albert"]);
}

#[tokio::test]
async fn insert_update_delete() {
    let dbs = dbs().await;
    let ret = vec![
        ColumnRef::new("users", "id", ValueType::I64),
        ColumnRef::new("users", "active", ValueType::Bool),
    ];
    let one = Insert {
        enum_types: Default::default(),
        table: "users".into(),
        columns: vec!["username".into(), "age".into()],
        rows: vec![vec!["dave".into(), Value::I32(50)]],
        returning: ret.clone(),
    };
    let rows = check(
        &dbs,
        one.into(),
        r#"INSERT INTO "users" ("username", "age") VALUES ($1, $2) RETURNING "id", "active""#,
        r#"INSERT INTO "users" ("username", "age") VALUES (?, ?) RETURNING "id", "active""#,
    )
    .await;
    // Generated key and database default come back.
    assert_eq!(rows, vec![vec![Value::I64(5), Value::Bool(true)]]);
    let many = Insert {
        enum_types: Default::default(),
        table: "users".into(),
        columns: vec!["username".into(), "age".into()],
        rows: vec![
            vec!["erin".into(), Value::Null(ValueType::I32)],
            vec!["frank".into(), Value::I32(20)],
        ],
        returning: ret,
    };
    let rows = check(
        &dbs,
        many.into(),
        r#"INSERT INTO "users" ("username", "age") SELECT * FROM unnest($1, $2) RETURNING "id", "active""#,
        r#"INSERT INTO "users" ("username", "age") VALUES (?, ?), (?, ?) RETURNING "id", "active""#,
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![Value::I64(6), Value::Bool(true)],
            vec![Value::I64(7), Value::Bool(true)]
        ]
    );

    let upd = Statement::Update(Update {
        enum_types: Default::default(),
        table: "users".into(),
        sets: vec![(
            "age".into(),
            Expr::Arith {
                left: Box::new(age()),
                op: ArithOp::Add,
                right: Box::new(Expr::val(1)),
            },
        )],
        filter: Some(age().cmp(CmpOp::Ge, Expr::val(40))),
        returning: vec![ColumnRef::new("users", "age", ValueType::I32)],
    });
    assert_eq!(
        sql(&upd, Dialect::Postgres),
        r#"UPDATE "users" SET "age" = ("users"."age" + $1) WHERE "users"."age" >= $2 RETURNING "age""#
    );
    assert_eq!(
        sql(&upd, Dialect::Sqlite),
        r#"UPDATE "users" SET "age" = ("users"."age" + ?) WHERE "users"."age" >= ? RETURNING "age""#
    );
    // MySQL and MariaDB have no UPDATE … RETURNING: refused by name, nothing runs.
    let e = dbs.my.fetch(&upd).await.unwrap_err().to_string();
    assert!(
        e.contains("UPDATE … RETURNING") && e.contains("not supported on MySQL"),
        "{e}"
    );
    for pool in [&dbs.pg, &dbs.lite] {
        let mut got = pool.fetch(&upd).await.unwrap();
        got.sort_by_key(|r| r[0].as_i64());
        assert_eq!(got, vec![vec![Value::I32(41)], vec![Value::I32(51)]]);
    }

    let del = Statement::Delete(Delete {
        table: "users".into(),
        filter: Some(username().like(LikeKind::StartsWith, "al", false)),
        returning: vec![],
    });
    assert_eq!(
        sql(&del, Dialect::Postgres),
        r#"DELETE FROM "users" WHERE "users"."username" LIKE $1 ESCAPE '\'"#
    );
    // Posts reference no foreign key here, so both deletes succeed.
    assert_eq!(dbs.pg.execute(&del).await.unwrap(), 2);
    assert_eq!(dbs.lite.execute(&del).await.unwrap(), 2);
    assert_eq!(dbs.my.execute(&del).await.unwrap(), 2);
    let all = Statement::Count(Select::from(Source::table("users")).column(uid(), ValueType::I64));
    assert_eq!(
        dbs.pg.fetch(&all).await.unwrap(),
        dbs.lite.fetch(&all).await.unwrap()
    );
    assert_eq!(
        dbs.pg.fetch(&all).await.unwrap(),
        dbs.my.fetch(&all).await.unwrap()
    );

    let defaults = Insert {
        enum_types: Default::default(),
        table: "posts".into(),
        columns: vec![],
        rows: vec![vec![]],
        returning: vec![],
    };
    assert_eq!(
        sql(&defaults.into(), Dialect::Postgres),
        r#"INSERT INTO "posts" DEFAULT VALUES"#
    );
}

#[tokio::test]
async fn bulk_insert_is_chunked_under_the_bind_limit() {
    let dbs = dbs().await;
    // 40,000 rows × 2 columns = 80,000 binds: over both backends' limits.
    let rows: Vec<Vec<Value>> = (0..40_000)
        .map(|i| vec![Value::I64(1), Value::Text(format!("t{i}"))])
        .collect();
    let ins = Insert {
        enum_types: Default::default(),
        table: "posts".into(),
        columns: vec!["author_id".into(), "title".into()],
        rows,
        returning: vec![],
    };
    let stmt: Statement = ins.into();
    assert_eq!(dbs.pg.execute(&stmt).await.unwrap(), 40_000);
    assert_eq!(dbs.lite.execute(&stmt).await.unwrap(), 40_000);
    assert_eq!(dbs.my.execute(&stmt).await.unwrap(), 40_000);
}

#[tokio::test]
async fn null_binds_carry_their_type() {
    // `$1 IS NULL` gives PostgreSQL nothing to infer the parameter's type from: the bind
    // itself must be typed.
    let dbs = dbs().await;
    for t in [
        ValueType::I64,
        ValueType::Text,
        ValueType::DateTime,
        ValueType::Decimal,
        ValueType::Json,
        ValueType::Uuid,
        ValueType::Array(Box::new(ValueType::I64)),
    ] {
        let q = names_where(Expr::Value(Value::Null(t.clone())).is_null());
        let a = dbs.pg.fetch(&q.clone().into()).await.unwrap();
        let b = dbs.lite.fetch(&q.clone().into()).await.unwrap();
        assert_eq!(a.len(), 4, "{t}");
        assert_eq!(a, b);
        if !matches!(t, ValueType::Array(_)) {
            assert_eq!(a, dbs.my.fetch(&q.into()).await.unwrap(), "{t}");
        }
    }
}
