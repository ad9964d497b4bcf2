//! Differential test: one table with a column of every canonical type, the same queries on
//! SQLite and PostgreSQL, identical results.

mod common;

use bigdecimal::BigDecimal;
use chakra::dsl::*;
use chakra::sql::ddl;
use chakra::Pool;
use chrono::{NaiveDate, TimeZone, Utc};
use common::TestDb;
use std::str::FromStr;
use std::sync::Arc;

fn kinds_meta() -> Arc<ModelMeta> {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let nullable = |name: &str, ty: FieldType| {
        let mut f = FieldMeta::new(name, ty);
        f.nullable = true;
        f
    };
    Arc::new(ModelMeta {
        name: "Kinds".into(),
        table: "kinds".into(),
        fields: vec![
            id,
            nullable("i", FieldType::Integer),
            nullable("bi", FieldType::BigInteger),
            nullable(
                "s",
                FieldType::String {
                    max_length: Some(40),
                },
            ),
            nullable("t", FieldType::Text),
            nullable("b", FieldType::Boolean),
            nullable("f", FieldType::Float),
            nullable(
                "d",
                FieldType::Decimal {
                    precision: Some(12),
                    scale: Some(4),
                },
            ),
            nullable("dt", FieldType::DateTime),
            nullable("dd", FieldType::Date),
            nullable("by", FieldType::Bytes),
            nullable("j", FieldType::Json),
            nullable("ai", FieldType::Array(Box::new(FieldType::Integer))),
            nullable("at", FieldType::Array(Box::new(FieldType::Text))),
            nullable("u", FieldType::Uuid),
        ],
        relations: vec![],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    })
}

/// The table without its array columns (MySQL/MariaDB have no array type).
fn kinds_meta_for(arrays: bool) -> Arc<ModelMeta> {
    let mut m = (*kinds_meta()).clone();
    if !arrays {
        m.fields.retain(|f| f.name != "ai" && f.name != "at");
    }
    Arc::new(m)
}

/// The rows without their array values when `arrays` is false.
fn rows_for(arrays: bool) -> Vec<Vec<(String, Value)>> {
    let mut rows = rows();
    if !arrays {
        for r in &mut rows {
            r.retain(|(n, _)| n != "ai" && n != "at");
        }
    }
    rows
}

fn dec(s: &str) -> Value {
    Value::Decimal(BigDecimal::from_str(s).unwrap())
}

fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Value {
    Value::DateTime(
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
            + chrono::Duration::microseconds(us as i64),
    )
}

fn rows() -> Vec<Vec<(String, Value)>> {
    let u1 = uuid::Uuid::parse_str("6f1c2f4e-1b7a-4c3d-9e2f-0a1b2c3d4e5f").unwrap();
    let u2 = uuid::Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap();
    let mk = |vals: Vec<Value>| {
        let names = [
            "i", "bi", "s", "t", "b", "f", "d", "dt", "dd", "by", "j", "ai", "at", "u",
        ];
        names
            .iter()
            .map(|n| n.to_string())
            .zip(vals)
            .collect::<Vec<_>>()
    };
    vec![
        mk(vec![
            Value::I32(-7),
            Value::I64(9_000_000_000),
            "Åsa".into(),
            "long text ünïcödé 🎉".into(),
            Value::Bool(true),
            Value::F64(2.5),
            dec("10.5"),
            dt(2024, 2, 29, 23, 59, 58, 123_456),
            Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            Value::Bytes(vec![0, 1, 2, 255, 0]),
            Value::Json(serde_json::json!({"a": [1, 2, {"b": null}], "z": "x"})),
            Value::Array(ArrayValue::I32(vec![Some(1), None, Some(3)])),
            Value::Array(ArrayValue::Text(vec![Some("x".into()), Some("y,z".into())])),
            Value::Uuid(u1),
        ]),
        mk(vec![
            Value::I32(42),
            Value::I64(-1),
            "bob".into(),
            "".into(),
            Value::Bool(false),
            Value::F64(-0.125),
            dec("9.25"),
            dt(1999, 12, 31, 0, 0, 0, 0),
            Value::Date(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap()),
            Value::Bytes(vec![]),
            Value::Json(serde_json::json!([1, "two", 3])),
            Value::Array(ArrayValue::I32(vec![])),
            Value::Array(ArrayValue::Text(vec![None])),
            Value::Uuid(u2),
        ]),
        mk(vec![
            Value::I32(0),
            Value::I64(0),
            "carol".into(),
            "c".into(),
            Value::Bool(true),
            Value::F64(1e10),
            dec("-0.0001"),
            dt(2030, 7, 4, 12, 30, 15, 999_999),
            Value::Date(NaiveDate::from_ymd_opt(2030, 7, 4).unwrap()),
            Value::Bytes(b"\\'\"".to_vec()),
            Value::Json(serde_json::json!("just a string")),
            Value::Array(ArrayValue::I32(vec![Some(i32::MAX), Some(i32::MIN)])),
            Value::Array(ArrayValue::Text(vec![])),
            Value::Null(ValueType::Uuid),
        ]),
        // A row of NULLs in every column.
        mk(vec![
            Value::Null(ValueType::I32),
            Value::Null(ValueType::I64),
            Value::Null(ValueType::Text),
            Value::Null(ValueType::Text),
            Value::Null(ValueType::Bool),
            Value::Null(ValueType::F64),
            Value::Null(ValueType::Decimal),
            Value::Null(ValueType::DateTime),
            Value::Null(ValueType::Date),
            Value::Null(ValueType::Bytes),
            Value::Null(ValueType::Json),
            Value::Null(ValueType::Array(Box::new(ValueType::I32))),
            Value::Null(ValueType::Array(Box::new(ValueType::Text))),
            Value::Null(ValueType::Uuid),
        ]),
    ]
}

async fn setup(pool: &Pool) -> Vec<Vec<Value>> {
    setup_for(pool, true).await
}

async fn setup_for(pool: &Pool, arrays: bool) -> Vec<Vec<Value>> {
    let m = kinds_meta_for(arrays);
    for sql in ddl::create_table(&m, pool.dialect()).unwrap() {
        pool.batch_execute(&sql).await.unwrap();
    }
    pool.fetch(&insert_rows(&m, rows_for(arrays)).unwrap().into())
        .await
        .unwrap()
}

fn col(name: &str) -> Expr {
    let m = kinds_meta();
    field_expr(&m, m.field(name).unwrap())
}

/// The queries compared across backends: (description, statement).
fn queries() -> Vec<(String, Statement)> {
    queries_for(true)
}

/// [`queries`] over the table with or without its array columns.
fn queries_for(arrays: bool) -> Vec<(String, Statement)> {
    let m = kinds_meta_for(arrays);
    let q = ModelQuery::new(m.clone()).order_by(col("id"), false);
    let mut out: Vec<(String, Statement)> = vec![("all rows".into(), q.select().into())];
    let mut add = |name: &str, cond: Expr| {
        out.push((name.into(), q.clone().filter(cond).select().into()));
    };
    add("int >", col("i").cmp(CmpOp::Gt, Expr::val(0)));
    add("bigint <", col("bi").cmp(CmpOp::Lt, Expr::val(0i64)));
    add("text =", col("s").eq(Expr::val("Åsa")));
    add(
        "text icontains non-ASCII",
        col("s").like(LikeKind::Contains, "åS", true),
    );
    add("bool =", col("b").eq(Expr::val(true)));
    add("float <=", col("f").cmp(CmpOp::Le, Expr::val(2.5)));
    add(
        "decimal > (numeric, not text, order)",
        col("d").cmp(CmpOp::Gt, Expr::Value(dec("9.5"))),
    );
    add("decimal =", col("d").eq(Expr::Value(dec("10.5000"))));
    add(
        "decimal between",
        col("d").between(Expr::Value(dec("-1")), Expr::Value(dec("9.25"))),
    );
    add(
        "decimal in",
        col("d").is_in(vec![dec("9.25"), dec("-0.0001")]),
    );
    add(
        "datetime >",
        col("dt").cmp(CmpOp::Gt, Expr::Value(dt(2000, 1, 1, 0, 0, 0, 0))),
    );
    add(
        "datetime =",
        col("dt").eq(Expr::Value(dt(2024, 2, 29, 23, 59, 58, 123_456))),
    );
    add(
        "date between",
        col("dd").between(
            Expr::val(NaiveDate::from_ymd_opt(1999, 1, 1).unwrap()),
            Expr::val(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()),
        ),
    );
    for (part, v) in [
        (DatePart::Year, 2024),
        (DatePart::Month, 7),
        (DatePart::Day, 31),
        (DatePart::WeekDay, 5), // 2024-02-29 was a Thursday: Django's 5
        (DatePart::Hour, 12),
        (DatePart::Minute, 59),
        (DatePart::Second, 58),
    ] {
        add(
            &format!("datetime {part:?}"),
            Expr::Extract {
                part,
                expr: Box::new(col("dt")),
            }
            .eq(Expr::val(v as i64)),
        );
    }
    add(
        "date year",
        Expr::Extract {
            part: DatePart::Year,
            expr: Box::new(col("dd")),
        }
        .eq(Expr::val(1999i64)),
    );
    add(
        "date weekday",
        Expr::Extract {
            part: DatePart::WeekDay,
            expr: Box::new(col("dd")),
        }
        .eq(Expr::val(6i64)),
    );
    add(
        "date of datetime",
        Expr::DateOf(Box::new(col("dt")))
            .eq(Expr::val(NaiveDate::from_ymd_opt(2030, 7, 4).unwrap())),
    );
    add("bytes =", col("by").eq(Expr::val(vec![0u8, 1, 2, 255, 0])));
    add(
        "uuid =",
        col("u").eq(Expr::val(
            uuid::Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap(),
        )),
    );
    add(
        "uuid in",
        col("u").is_in(vec![Value::Uuid(
            uuid::Uuid::parse_str("6f1c2f4e-1b7a-4c3d-9e2f-0a1b2c3d4e5f").unwrap(),
        )]),
    );
    add("json is null", col("j").is_null());
    if arrays {
        add("array not null", col("ai").is_not_null());
    }
    add(
        "int in with null",
        col("i").is_in(vec![Value::I32(42), Value::Null(ValueType::I32)]),
    );
    add(
        "not (bool = true): NULL rows excluded",
        col("b").eq(Expr::val(true)).not(),
    );
    for (name, desc) in [
        ("d", false),
        ("d", true),
        ("dt", true),
        ("f", false),
        ("s", false),
        ("dd", true),
        ("i", true),
    ] {
        let sorted = ModelQuery::new(m.clone())
            .order_by(col(name), desc)
            .order_by(col("id"), false);
        out.push((
            format!("order by {name} desc={desc}"),
            sorted.select().into(),
        ));
    }
    out.push((
        "count".into(),
        ModelQuery::new(m.clone())
            .filter(col("t").is_not_null())
            .count(),
    ));
    out.push((
        "select expressions".into(),
        Select::from(Source::table("kinds"))
            .column(
                Expr::Extract {
                    part: DatePart::Month,
                    expr: Box::new(col("dt")),
                },
                ValueType::I64,
            )
            .column(Expr::DateOf(Box::new(col("dt"))), ValueType::Date)
            .column(
                Expr::Arith {
                    left: Box::new(col("i")),
                    op: ArithOp::Mul,
                    right: Box::new(Expr::val(2)),
                },
                ValueType::I32,
            )
            .order(col("id"), false)
            .into(),
    ));
    out
}

#[tokio::test]
async fn every_canonical_type_reads_back_the_same_on_both_backends() {
    let pg_db = TestDb::postgres().await;
    let lite_db = TestDb::sqlite().await;
    let pg = pg_db.pool().await;
    let lite = lite_db.pool().await;
    let a = setup(&pg).await;
    let b = setup(&lite).await;
    assert_eq!(a, b, "inserted rows (RETURNING every column)");
    // And what was written is what reads back.
    for (row, written) in a.iter().zip(rows()) {
        for ((name, v), got) in written.iter().zip(&row[1..]) {
            assert_eq!(got, v, "column {name}");
        }
    }
    let mut nonempty = 0;
    for (name, stmt) in queries() {
        let x = pg
            .fetch(&stmt)
            .await
            .unwrap_or_else(|e| panic!("{name} on PostgreSQL: {e}"));
        let y = lite
            .fetch(&stmt)
            .await
            .unwrap_or_else(|e| panic!("{name} on SQLite: {e}"));
        assert_eq!(x, y, "{name}: PostgreSQL and SQLite disagree");
        if !x.is_empty() {
            nonempty += 1;
        }
    }
    // Guard against a vacuous pass: nearly every query matches something.
    assert!(
        nonempty >= queries().len() - 1,
        "only {nonempty} queries matched rows"
    );
}

/// Every canonical type but arrays (which MySQL has not): MariaDB reads back what was
/// written, and every query returns what PostgreSQL returns for it.
#[tokio::test]
async fn every_canonical_type_but_arrays_reads_back_the_same_on_mysql() {
    let pg_db = TestDb::postgres().await;
    let my_db = TestDb::mysql().await;
    let pg = pg_db.pool().await;
    let my = my_db.pool().await;
    let a = setup_for(&pg, false).await;
    let b = setup_for(&my, false).await;
    assert_eq!(a, b, "inserted rows (RETURNING every column)");
    for (row, written) in b.iter().zip(rows_for(false)) {
        for ((name, v), got) in written.iter().zip(&row[1..]) {
            assert_eq!(got, v, "column {name}");
        }
    }
    let mut nonempty = 0;
    let queries = queries_for(false);
    for (name, stmt) in &queries {
        let x = pg
            .fetch(stmt)
            .await
            .unwrap_or_else(|e| panic!("{name} on PostgreSQL: {e}"));
        let y = my
            .fetch(stmt)
            .await
            .unwrap_or_else(|e| panic!("{name} on MySQL: {e}"));
        assert_eq!(x, y, "{name}: PostgreSQL and MySQL disagree");
        if !x.is_empty() {
            nonempty += 1;
        }
    }
    assert!(
        nonempty >= queries.len() - 1,
        "only {nonempty} queries matched rows"
    );
}

#[tokio::test]
async fn decimal_ordering_is_numeric_not_textual() {
    let lite_db = TestDb::sqlite().await;
    let lite = lite_db.pool().await;
    setup(&lite).await;
    let m = kinds_meta();
    let q = ModelQuery::new(m.clone())
        .filter(col("d").is_not_null())
        .order_by(col("d"), false);
    let rows = lite
        .fetch(&q.select_fields(&["d"]).unwrap().into())
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![vec![dec("-0.0001")], vec![dec("9.25")], vec![dec("10.5")]]
    );
}
