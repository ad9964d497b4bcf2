//! One query, two front doors. Each case is a filter written twice: as the Python front
//! door's `field__lookup` keyword arguments (parsed by `chakra_dsl::lookup`, exactly what
//! `chakra._chakra` calls) and with the Rust typed DSL. Both must build the same IR, compile
//! to the same SQL and select the same rows on SQLite and PostgreSQL.
//!
//! The cases and their SQL are also written to `tests/front_doors/queries.json`, which the
//! Python test `python-ext/tests/test_front_doors.py` reads: the `chakra` package must
//! compile each case's keyword arguments to the same SQL. Regenerate the file with
//! `CHAKRA_BLESS=1 cargo test -p chakra --test lookups_vs_ir`.

mod common;
mod fixtures;

use chakra::dsl::lookup::{filter_kwargs, LookupArg, Operand, QNode};
use chakra::prelude::*;
use chakra::{compile, Dialect};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use common::{TestDb, BOTH};
use serde_json::{json, Value as J};

/// The same table as `Item` in `python-ext/tests/models.py`.
#[derive(Debug, Clone, Model)]
#[chakra(table = "items")]
pub struct Item {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    #[chakra(max_length = 40)]
    pub nick: Option<String>,
    pub score: i32,
    pub born: NaiveDate,
    pub seen: Option<DateTime<Utc>>,
    pub active: bool,
    pub tags: Option<Vec<String>>,
    pub doc: Option<J>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn items() -> Vec<Item> {
    let t = |y, mo, d, h| Some(Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap());
    let item = |name: &str, nick: Option<&str>, score, born, seen, active| Item {
        id: 0,
        name: name.into(),
        nick: nick.map(Into::into),
        score,
        born,
        seen,
        active,
        tags: None,
        doc: None,
    };
    let mut rows = vec![
        item(
            "alpha",
            Some("al"),
            10,
            d(2000, 1, 15),
            t(2024, 3, 5, 10),
            true,
        ),
        item("beta_%", None, 20, d(1999, 12, 31), None, false),
        item(
            "Gamma",
            Some("GAM"),
            30,
            d(2000, 6, 1),
            t(2023, 11, 20, 23),
            true,
        ),
        item(
            "École",
            Some("école"),
            40,
            d(2001, 2, 3),
            t(2022, 7, 4, 0),
            true,
        ),
    ];
    let tags = |t: &[&str]| Some(t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    rows[0].tags = tags(&["a", "b"]);
    rows[1].tags = tags(&["b", "c"]);
    rows[3].tags = tags(&[]);
    rows[0].doc = Some(json!({"plan": "pro", "n": 1}));
    rows[1].doc = Some(json!({"plan": "free"}));
    rows[3].doc = Some(json!({"x": [1, 2]}));
    rows
}

/// A case: its name, the Python keyword arguments (JSON `[key, value]` pairs in order),
/// whether they go to `exclude()`, the typed query, and the ids it selects.
struct Case {
    name: &'static str,
    kwargs: J,
    exclude: bool,
    typed: Query<Item>,
    ids: Vec<i64>,
}

fn cases() -> Vec<Case> {
    let q = Item::query;
    let case = |name, kwargs, exclude, typed, ids: &[i64]| Case {
        name,
        kwargs,
        exclude,
        typed,
        ids: ids.to_vec(),
    };
    vec![
        case(
            "seed_filter",
            json!([["name__startswith", "a"], ["active", true]]),
            false,
            q().filter(Item::name().starts_with("a"))
                .filter(Item::active().eq(true)),
            &[1],
        ),
        case(
            "exact",
            json!([["name", "Gamma"]]),
            false,
            q().filter(Item::name().eq("Gamma")),
            &[3],
        ),
        case(
            "ne",
            json!([["score__ne", 10]]),
            false,
            q().filter(Item::score().ne(10)),
            &[2, 3, 4],
        ),
        case(
            "gt",
            json!([["score__gt", 20]]),
            false,
            q().filter(Item::score().gt(20)),
            &[3, 4],
        ),
        case(
            "lte",
            json!([["score__lte", 20]]),
            false,
            q().filter(Item::score().le(20)),
            &[1, 2],
        ),
        case(
            "in",
            json!([["score__in", [10, 30]]]),
            false,
            q().filter(Item::score().is_in([10, 30])),
            &[1, 3],
        ),
        case(
            "in_empty",
            json!([["score__in", []]]),
            false,
            q().filter(Item::score().is_in(Vec::<i32>::new())),
            &[],
        ),
        case(
            "range",
            json!([["score__range", [15, 35]]]),
            false,
            q().filter(Item::score().between(15, 35)),
            &[2, 3],
        ),
        case(
            "contains_literal_percent",
            json!([["name__contains", "_%"]]),
            false,
            q().filter(Item::name().contains("_%")),
            &[2],
        ),
        case(
            "iexact_unicode",
            json!([["name__iexact", "école"]]),
            false,
            q().filter(Item::name().iexact("école")),
            &[4],
        ),
        case(
            "icontains",
            json!([["name__icontains", "AMM"]]),
            false,
            q().filter(Item::name().icontains("AMM")),
            &[3],
        ),
        case(
            "istartswith",
            json!([["name__istartswith", "g"]]),
            false,
            q().filter(Item::name().istarts_with("g")),
            &[3],
        ),
        case(
            "iendswith",
            json!([["name__iendswith", "A"]]),
            false,
            q().filter(Item::name().iends_with("A")),
            &[1, 3],
        ),
        case(
            "regex",
            json!([["name__regex", "^[A-Z]"]]),
            false,
            q().filter(Item::name().regex("^[A-Z]")),
            &[3],
        ),
        case(
            "iregex",
            json!([["name__iregex", "^B"]]),
            false,
            q().filter(Item::name().iregex("^B")),
            &[2],
        ),
        case(
            "exact_none",
            json!([["nick", null]]),
            false,
            q().filter(Item::nick().eq(None)),
            &[2],
        ),
        case(
            "isnull_false",
            json!([["nick__isnull", false]]),
            false,
            q().filter(Item::nick().is_not_null()),
            &[1, 3, 4],
        ),
        case(
            "year",
            json!([["born__year", 2000]]),
            false,
            q().filter(Item::born().year().eq(2000)),
            &[1, 3],
        ),
        case(
            "year_gt",
            json!([["seen__year__gt", 2022]]),
            false,
            q().filter(Item::seen().year().gt(2022)),
            &[1, 3],
        ),
        case(
            "month",
            json!([["born__month", 1]]),
            false,
            q().filter(Item::born().month().eq(1)),
            &[1],
        ),
        case(
            "hour",
            json!([["seen__hour", 23]]),
            false,
            q().filter(Item::seen().hour().eq(23)),
            &[3],
        ),
        case(
            "date",
            json!([["seen__date", {"$date": "2023-11-20"}]]),
            false,
            q().filter(Item::seen().date().eq(d(2023, 11, 20))),
            &[3],
        ),
        case(
            "date_range",
            json!([["born__range", [{"$date": "2000-01-01"}, {"$date": "2000-12-31"}]]]),
            false,
            q().filter(Item::born().between(d(2000, 1, 1), d(2000, 12, 31))),
            &[1, 3],
        ),
        case(
            "exclude_nullable_keeps_nulls",
            json!([["nick", "GAM"]]),
            true,
            q().exclude(Item::nick().eq("GAM")),
            &[1, 2, 4],
        ),
        case(
            "exclude_not_null",
            json!([["active", true], ["score__gt", 10]]),
            true,
            q().exclude(Item::active().eq(true).and(Item::score().gt(10))),
            &[1, 2],
        ),
        case(
            "exclude_date_part_of_nullable",
            json!([["seen__year", 2024]]),
            true,
            q().exclude(Item::seen().year().eq(2024)),
            &[2, 3, 4],
        ),
        case(
            "array_contains",
            json!([["tags__contains", ["b"]]]),
            false,
            q().filter(Item::tags().contains(vec!["b".to_owned()])),
            &[1, 2],
        ),
        case(
            "array_contained_by",
            json!([["tags__contained_by", ["a", "b", "z"]]]),
            false,
            q().filter(Item::tags().contained_by(vec!["a".to_owned(), "b".into(), "z".into()])),
            &[1, 4],
        ),
        case(
            "array_overlap",
            json!([["tags__overlap", ["c", "z"]]]),
            false,
            q().filter(Item::tags().overlaps(vec!["c".to_owned(), "z".into()])),
            &[2],
        ),
        case(
            "array_len",
            json!([["tags__len", 2]]),
            false,
            q().filter(Item::tags().len().eq(2)),
            &[1, 2],
        ),
        case(
            "array_index",
            json!([["tags__0", "a"]]),
            false,
            q().filter(Item::tags().at(0).eq("a")),
            &[1],
        ),
        case(
            "json_contains",
            json!([["doc__contains", {"$json": {"plan": "pro"}}]]),
            false,
            q().filter(Item::doc().contains(json!({"plan": "pro"}))),
            &[1],
        ),
        case(
            "json_contained_by",
            json!([["doc__contained_by", {"$json": {"plan": "free", "n": 2}}]]),
            false,
            q().filter(Item::doc().contained_by(json!({"plan": "free", "n": 2}))),
            &[2],
        ),
        case(
            "json_has_keys",
            json!([["doc__has_keys", ["plan", "n"]]]),
            false,
            q().filter(Item::doc().has_keys(["plan", "n"])),
            &[1],
        ),
        case(
            "json_key_text",
            json!([["doc__plan", "pro"]]),
            false,
            q().filter(Item::doc().key("plan").eq("pro")),
            &[1],
        ),
        case(
            "json_key_number",
            json!([["doc__n__gte", 1]]),
            false,
            q().filter(Item::doc().key("n").ge(1)),
            &[1],
        ),
        case(
            "json_path_index",
            json!([["doc__x__1", 2]]),
            false,
            q().filter(Item::doc().key("x").index(1).eq(2)),
            &[4],
        ),
        case(
            "json_has_key",
            json!([["doc__has_key", "x"]]),
            false,
            q().filter(Item::doc().key("x").exists()),
            &[4],
        ),
        case(
            "json_has_any_keys",
            json!([["doc__has_any_keys", ["x", "n"]]]),
            false,
            q().filter(Item::doc().has_any_keys(["x", "n"])),
            &[1, 4],
        ),
    ]
}

/// An aggregate case: a filter (as `Case::kwargs`), aggregates as the Python front door
/// names them (`[function, field, distinct, filter kwargs or null]`, aliased
/// `<field>__<function>` as when passed positionally), the typed statement, and the one row
/// it returns (as JSON).
struct AggCase {
    name: &'static str,
    kwargs: J,
    aggregates: J,
    typed: Statement,
    result: J,
}

fn agg_cases() -> Vec<AggCase> {
    let q = Item::query;
    vec![
        AggCase {
            name: "aggregate_count_sum_avg_min_max",
            kwargs: json!([]),
            aggregates: json!([
                ["Count", "id", false, null],
                ["Sum", "score", false, null],
                ["Avg", "score", false, null],
                ["Min", "born", false, null],
                ["Max", "score", false, null]
            ]),
            typed: q()
                .aggregate_statement((
                    count(Item::id()),
                    sum(Item::score()),
                    avg(Item::score()),
                    min(Item::born()),
                    max(Item::score()),
                ))
                .unwrap(),
            result: json!({
                "id__count": 4, "score__sum": 100, "score__avg": 25.0,
                "born__min": {"$date": "1999-12-31"}, "score__max": 40
            }),
        },
        AggCase {
            name: "aggregate_distinct_and_filter",
            kwargs: json!([["score__gte", 20]]),
            aggregates: json!([
                ["Count", "nick", true, null],
                ["Count", "id", false, [["active", true]]],
                ["Sum", "score", false, [["name__startswith", "G"]]],
                ["Max", "seen", false, [["active", false]]]
            ]),
            typed: q()
                .filter(Item::score().ge(20))
                .aggregate_statement((
                    count(Item::nick()).distinct(),
                    count(Item::id()).filter(Item::active().eq(true)),
                    sum(Item::score()).filter(Item::name().starts_with("G")),
                    max(Item::seen()).filter(Item::active().eq(false)),
                ))
                .unwrap(),
            result: json!({
                "nick__count": 2, "id__count": 2, "score__sum": 30, "seen__max": null
            }),
        },
    ]
}

/// A grouped case: `values(*values).annotate(**annotate).filter(**having).order_by(*order)`
/// in Python, `group_by(...).aggregate(...).having(...).order_by(...)` in Rust.
struct GroupCase {
    name: &'static str,
    values: J,
    annotate: J,
    having: J,
    order_by: J,
    typed: Statement,
    rows: J,
}

fn group_cases() -> Vec<GroupCase> {
    vec![GroupCase {
        name: "group_by_having_order",
        values: json!(["active"]),
        annotate: json!([
            ["n", "Count", "id", false, null],
            ["total", "Sum", "score", false, null]
        ]),
        having: json!([["n__gt", 1]]),
        order_by: json!(["active"]),
        typed: Item::query()
            .group_by(Item::active())
            .aggregate((
                count(Item::id()).named("n"),
                sum(Item::score()).named("total"),
            ))
            .having(count(Item::id()).expr().gt(1))
            .order_by(Item::active().asc())
            .to_statement()
            .unwrap(),
        rows: json!([[true, 3, 80]]),
    }]
}

/// The statement the Python front door builds for a grouped case.
fn group_from_names(c: &GroupCase) -> Statement {
    let values: Vec<&str> = c
        .values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut mq = chakra::dsl::ModelQuery::new(Item::meta().clone())
        .group_by_fields(&values)
        .unwrap();
    let mut names: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    for a in c.annotate.as_array().unwrap() {
        let func = chakra::dsl::aggregate::parse_func(a[1].as_str().unwrap()).unwrap();
        let e = mq
            .aggregate_expr(func, a[2].as_str(), a[3].as_bool().unwrap(), None)
            .unwrap();
        let name = a[0].as_str().unwrap();
        mq = mq.annotate(name, e).unwrap();
        names.push(name.to_owned());
    }
    let meta = mq.annotated_meta();
    let kwargs = c
        .having
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), arg(&p[1])))
        .collect();
    let cond = filter_kwargs(&meta, kwargs).unwrap().lower();
    mq = mq.filter_annotated(cond);
    for o in c.order_by.as_array().unwrap() {
        mq = mq.order_by_name(o.as_str().unwrap()).unwrap();
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Statement::Select(mq.select_fields(&refs).unwrap())
}

/// An annotation case: Python `annotate(...)` with expressions, read back with `values()`;
/// Rust `values((named(...), …))`. `python` describes the annotations for the Python test:
/// `[name, kind, args…]`.
struct AnnotateCase {
    name: &'static str,
    python: J,
    typed: Statement,
    by_names: Statement,
    rows: J,
}

fn annotate_cases() -> Vec<AnnotateCase> {
    use chakra::dsl::functions as f;
    use chakra::dsl::typed::{named, value};
    let mq = chakra::dsl::ModelQuery::new(Item::meta().clone());
    let col = |n: &str| mq.column(n).unwrap();
    // What the Python front door builds (python-ext/src/annotations.rs calls these).
    let by_names = mq
        .clone()
        .annotate("low", f::lower(col("name")).unwrap())
        .unwrap()
        .annotate("size", f::length(col("name")).unwrap())
        .unwrap()
        .annotate(
            "label",
            f::coalesce(vec![col("nick"), col("name")]).unwrap(),
        )
        .unwrap()
        .annotate(
            "big",
            f::case(
                vec![(
                    col("score").cmp(chakra::dsl::CmpOp::Ge, Expr::Value(Value::I32(30))),
                    Expr::Value(Value::I64(1)),
                )],
                Some(Expr::Value(Value::I64(0))),
            )
            .unwrap(),
        )
        .unwrap()
        .annotate(
            "double",
            Expr::Arith {
                left: Box::new(col("score")),
                op: chakra::dsl::ArithOp::Mul,
                right: Box::new(Expr::Value(Value::I32(2))),
            },
        )
        .unwrap()
        .annotate(
            // Two columns of different integer types: a 64-bit product (`i32 * i64`).
            "weighted",
            Expr::Arith {
                left: Box::new(col("score")),
                op: chakra::dsl::ArithOp::Mul,
                right: Box::new(col("id")),
            },
        )
        .unwrap()
        .order_by_name("id")
        .unwrap()
        .select_fields(&["id", "low", "size", "label", "big", "double", "weighted"])
        .unwrap();
    let _ = value::<Item, i64>;
    vec![AnnotateCase {
        name: "annotate_functions_case_arith",
        python: json!([
            ["low", "Lower", "name"],
            ["size", "Length", "name"],
            ["label", "Coalesce", "nick", "name"],
            ["big", "Case", "score__gte", 30, 1, 0],
            ["double", "Mul", "score", 2],
            ["weighted", "MulF", "score", "id"]
        ]),
        typed: Item::query().order_by(Item::id().asc()).values_statement((
            Item::id(),
            named("low", lower(Item::name())),
            named("size", length(Item::name())),
            named("label", coalesce(Item::nick(), Item::name())),
            named("big", when(Item::score().ge(30), 1i64).otherwise(0)),
            named("double", Item::score() * 2),
            named("weighted", Item::score() * Item::id()),
        )),
        by_names: Statement::Select(by_names),
        rows: json!([
            [1, "alpha", 5, "al", 0, 20, 10],
            [2, "beta_%", 6, "beta_%", 0, 40, 40],
            [3, "gamma", 5, "GAM", 1, 60, 90],
            [4, "école", 5, "école", 1, 80, 160]
        ]),
    }]
}

fn kwargs_filter(kwargs: &J) -> Option<Expr> {
    let pairs = kwargs.as_array().unwrap();
    if pairs.is_empty() {
        return None;
    }
    let kwargs = pairs
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), arg(&p[1])))
        .collect();
    Some(filter_kwargs(Item::meta(), kwargs).unwrap().lower())
}

/// The statement the Python front door builds for an aggregate case.
fn agg_from_names(c: &AggCase) -> Statement {
    let mut mq = chakra::dsl::ModelQuery::new(Item::meta().clone());
    if let Some(f) = kwargs_filter(&c.kwargs) {
        mq = mq.filter(f);
    }
    let items = c
        .aggregates
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let func = chakra::dsl::aggregate::parse_func(a[0].as_str().unwrap()).unwrap();
            let field = a[1].as_str().unwrap();
            let filter = if a[3].is_null() {
                None
            } else {
                kwargs_filter(&a[3])
            };
            let e = mq
                .aggregate_expr(func, Some(field), a[2].as_bool().unwrap(), filter)
                .unwrap();
            (format!("{field}__{}", func.name().to_lowercase()), e)
        })
        .collect();
    mq.aggregate(items).unwrap()
}

fn value_json(v: &Value) -> J {
    match v {
        Value::Null(_) => J::Null,
        Value::I32(x) => json!(x),
        Value::I64(x) => json!(x),
        Value::F64(x) => json!(x),
        Value::Text(s) => json!(s),
        Value::Date(d) => json!({"$date": d.to_string()}),
        other => json!(other.to_string()),
    }
}

/// A JSON argument as the lookup argument the Python front door would build.
fn arg(j: &J) -> LookupArg {
    fn value(j: &J) -> Value {
        match j {
            J::Null => Value::Null(ValueType::Text),
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::I64(n.as_i64().expect("integer")),
            J::String(s) => Value::Text(s.clone()),
            J::Object(o) => Value::Date(o["$date"].as_str().unwrap().parse().unwrap()),
            J::Array(_) => panic!("nested list"),
        }
    }
    match j {
        J::Array(items) => LookupArg::List(items.iter().map(value).collect()),
        other => LookupArg::Scalar(Operand::Value(value(other))),
    }
}

fn from_lookups(c: &Case) -> Expr {
    let kwargs = c
        .kwargs
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let (k, v) = (pair[0].as_str().unwrap().to_owned(), &pair[1]);
            // As the Python front door converts by the lookup's argument shape: a list
            // for an array field is one array value, `{"$json": …}` one JSON document.
            let shape = chakra::dsl::lookup::parse(Item::meta(), &k)
                .unwrap()
                .arg_shape();
            match (&shape, v) {
                (chakra::dsl::lookup::ArgShape::Scalar(ValueType::Array(elem)), J::Array(xs)) => {
                    let vals: Vec<Value> = xs
                        .iter()
                        .map(|x| Value::Text(x.as_str().unwrap().into()))
                        .collect();
                    let arr = chakra::dsl::ArrayValue::from_values(elem, &vals).unwrap();
                    return (k, LookupArg::Scalar(Operand::Value(Value::Array(arr))));
                }
                (chakra::dsl::lookup::ArgShape::Scalar(ValueType::Json), J::Object(o)) => {
                    return (
                        k,
                        LookupArg::Scalar(Operand::Value(Value::Json(o["$json"].clone()))),
                    );
                }
                _ => {}
            }
            let a = match (k.ends_with("__range"), arg(v)) {
                (true, LookupArg::List(mut v)) => {
                    let hi = v.pop().unwrap();
                    let lo = v.pop().unwrap();
                    LookupArg::Pair(Operand::Value(lo), Operand::Value(hi))
                }
                (_, a) => a,
            };
            (k, a)
        })
        .collect();
    let mut node = filter_kwargs(Item::meta(), kwargs).unwrap();
    if c.exclude {
        node = QNode::Not(Box::new(node));
    }
    node.lower()
}

fn select_ids(filter: Option<Expr>) -> Statement {
    let mut mq = chakra::dsl::ModelQuery::new(Item::meta().clone());
    if let Some(f) = filter {
        mq = mq.filter(f);
    }
    let id = mq.column("id").unwrap();
    Statement::Select(mq.order_by(id, false).select_fields(&["id"]).unwrap())
}

/// The MySQL SQL of a case for the golden file, or `null` where MySQL refuses it by name
/// (array lookups: docs/mysql.md); any other error fails the test.
fn mysql_sql(stmt: &Statement) -> J {
    match compile(stmt, Dialect::Mysql) {
        Ok(q) => json!(q.sql()),
        Err(chakra::Error::InvalidQuery(m)) if m.contains("MySQL") => J::Null,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_and_typed_dsl_build_the_same_query() {
    let mut golden = Vec::new();
    for c in cases() {
        let typed = c.typed.model_query().filter.clone();
        let lookups = from_lookups(&c);
        assert_eq!(Some(&lookups), typed.as_ref(), "{}: IR differs", c.name);
        let pg = compile(&select_ids(typed.clone()), Dialect::Postgres).unwrap();
        let lite = compile(&select_ids(typed.clone()), Dialect::Sqlite).unwrap();
        golden.push(json!({
            "name": c.name,
            "kwargs": c.kwargs,
            "exclude": c.exclude,
            "ids": c.ids,
            "postgres": pg.sql(),
            "sqlite": lite.sql(),
            "mysql": mysql_sql(&select_ids(typed)),
        }));
    }
    for c in agg_cases() {
        assert_eq!(agg_from_names(&c), c.typed, "{}: IR differs", c.name);
        golden.push(json!({
            "kind": "aggregate",
            "name": c.name,
            "kwargs": c.kwargs,
            "aggregates": c.aggregates,
            "result": c.result,
            "postgres": compile(&c.typed, Dialect::Postgres).unwrap().sql(),
            "sqlite": compile(&c.typed, Dialect::Sqlite).unwrap().sql(),
            "mysql": mysql_sql(&c.typed),
        }));
    }
    for c in annotate_cases() {
        assert_eq!(c.by_names, c.typed, "{}: IR differs", c.name);
        golden.push(json!({
            "kind": "annotate",
            "name": c.name,
            "annotate": c.python,
            "rows": c.rows,
            "postgres": compile(&c.typed, Dialect::Postgres).unwrap().sql(),
            "sqlite": compile(&c.typed, Dialect::Sqlite).unwrap().sql(),
            "mysql": mysql_sql(&c.typed),
        }));
    }
    for c in group_cases() {
        assert_eq!(group_from_names(&c), c.typed, "{}: IR differs", c.name);
        golden.push(json!({
            "kind": "group",
            "name": c.name,
            "values": c.values,
            "annotate": c.annotate,
            "having": c.having,
            "order_by": c.order_by,
            "rows": c.rows,
            "postgres": compile(&c.typed, Dialect::Postgres).unwrap().sql(),
            "sqlite": compile(&c.typed, Dialect::Sqlite).unwrap().sql(),
            "mysql": mysql_sql(&c.typed),
        }));
    }
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Item::meta()]).await;
        let mut rows = items();
        Item::insert_many(&pool, &mut rows).await.unwrap();
        for c in cases() {
            let ids = |rows: Vec<Vec<Value>>| -> Vec<i64> {
                rows.iter().map(|r| r[0].as_i64().unwrap()).collect()
            };
            let by_lookups = ids(pool
                .fetch(&select_ids(Some(from_lookups(&c))))
                .await
                .unwrap());
            let typed: Vec<i64> = c
                .typed
                .all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|i| i.id)
                .collect();
            let mut typed_sorted = typed.clone();
            typed_sorted.sort();
            assert_eq!(by_lookups, c.ids, "{} on {d:?} (lookups)", c.name);
            assert_eq!(typed_sorted, c.ids, "{} on {d:?} (typed)", c.name);
        }
        for c in annotate_cases() {
            let rows = pool.fetch(&c.typed).await.unwrap();
            let got: Vec<J> = rows
                .iter()
                .map(|r| J::Array(r.iter().map(value_json).collect()))
                .collect();
            assert_eq!(J::Array(got), c.rows, "{} on {d:?}", c.name);
        }
        for c in group_cases() {
            let rows = pool.fetch(&c.typed).await.unwrap();
            let got: Vec<J> = rows
                .iter()
                .map(|r| {
                    J::Array(
                        r.iter()
                            .map(|v| match v {
                                Value::Bool(b) => json!(b),
                                other => value_json(other),
                            })
                            .collect(),
                    )
                })
                .collect();
            assert_eq!(J::Array(got), c.rows, "{} on {d:?}", c.name);
        }
        for c in agg_cases() {
            let rows = pool.fetch(&c.typed).await.unwrap();
            let names: Vec<String> = c
                .aggregates
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    format!(
                        "{}__{}",
                        a[1].as_str().unwrap(),
                        a[0].as_str().unwrap().to_lowercase()
                    )
                })
                .collect();
            let got: serde_json::Map<String, J> = names
                .iter()
                .zip(&rows[0])
                .map(|(n, v)| (n.clone(), value_json(v)))
                .collect();
            assert_eq!(J::Object(got), c.result, "{} on {d:?}", c.name);
        }
    }
    common::golden::check(
        "queries.json",
        &serde_json::Value::from(golden),
        "lookups_vs_ir",
    );
}
