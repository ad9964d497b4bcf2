//! Every `#[derive(Model)]` attribute: what it puts in the metadata, the table it makes, and
//! how it behaves on SQLite and PostgreSQL.

mod common;
mod fixtures;

use bigdecimal::BigDecimal;
use chakra::dsl::{Concurrency, DefaultValue, FieldType, RelationKind, Value};
use chakra::prelude::*;
use chakra::Dialect;
use chrono::{DateTime, NaiveDate, Utc};
use common::{TestDb, BOTH};
use fixtures::{Post, User};
use std::str::FromStr;

/// Defaults of every literal kind, a renamed column, an index, nullable fields, decimals.
#[derive(Debug, Clone, Model)]
#[chakra(table = "settings")]
pub struct Setting {
    #[chakra(primary_key, auto_increment)]
    pub id: i32,
    #[chakra(column = "setting_key", max_length = 30, unique)]
    pub key: String,
    #[chakra(default = 7)]
    pub small: i32,
    #[chakra(default = -3)]
    pub big: i64,
    #[chakra(default = 1.5)]
    pub ratio: f64,
    #[chakra(default = false)]
    pub enabled: bool,
    #[chakra(default = "plain")]
    pub label: String,
    #[chakra(default = "now()")]
    pub at: DateTime<Utc>,
    #[chakra(default = "now()")]
    pub on: NaiveDate,
    #[chakra(index)]
    pub group_name: Option<String>,
    #[chakra(precision = 10, scale = 2, default = "12.50")]
    pub price: BigDecimal,
    pub note: Option<i64>,
}

/// Every canonical type, by value and as an Option.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct AllTypes {
    #[chakra(primary_key)]
    pub id: uuid::Uuid,
    pub b: bool,
    pub i: i32,
    pub l: i64,
    pub f: f64,
    pub d: BigDecimal,
    pub s: String,
    pub bytes: Vec<u8>,
    pub at: DateTime<Utc>,
    pub day: NaiveDate,
    pub json: serde_json::Value,
    pub ints: Vec<i64>,
    pub words: Vec<String>,
    pub maybe_s: Option<String>,
    pub maybe_at: Option<DateTime<Utc>>,
    pub maybe_json: Option<serde_json::Value>,
}

/// Many-to-many and one-to-one relations parse into metadata.
#[derive(Debug, Clone, Model)]
#[chakra(table = "tags")]
pub struct Tag {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(relation = ManyToMany, through = "post_tags", source_column = "tag_id", target_column = "post_id")]
    pub posts: Related<Vec<Post>>,
    #[chakra(relation = OneToOne, foreign_key = "tag_id")]
    pub settings: Related<Option<Setting>>,
}

/// `ManyToOne` (Django's name) is read as `ForeignKey`; `version` and `unchecked` set the
/// fields' concurrency modes (names parsed by `chakra_dsl::names`).
#[derive(Debug, Clone, Model)]
#[chakra(table = "bylines")]
pub struct Byline {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(relation = ManyToOne, foreign_key = "author_id")]
    pub author: Related<User>,
    #[chakra(version)]
    pub revision: i64,
    #[chakra(unchecked)]
    pub views: i64,
}

/// `no_default`: the derive makes no `Default`, so this hand-written one does not clash.
#[derive(Debug, Clone, Model)]
#[chakra(table = "manual", no_default)]
pub struct Manual {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(default = "now()")]
    pub at: DateTime<Utc>,
}

impl Default for Manual {
    fn default() -> Self {
        Manual {
            id: 41,
            at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

fn field<'a>(meta: &'a chakra::dsl::ModelMeta, name: &str) -> &'a chakra::dsl::FieldMeta {
    meta.field(name).unwrap()
}

#[test]
fn table_primary_key_and_auto_increment() {
    let m = Setting::meta();
    assert_eq!(m.name, "Setting");
    assert_eq!(m.table, "settings");
    let id = field(m, "id");
    assert!(id.primary_key && id.auto_increment && !id.nullable);
    assert_eq!(id.ty, FieldType::Integer);
    // Without `table`, the struct name in snake_case.
    assert_eq!(AllTypes::meta().table, "all_types");
    let pk = field(AllTypes::meta(), "id");
    assert!(pk.primary_key && !pk.auto_increment);
}

#[test]
fn max_length_unique_column_index_precision() {
    let m = Setting::meta();
    let key = field(m, "key");
    assert_eq!(key.column, "setting_key");
    assert_eq!(
        key.ty,
        FieldType::String {
            max_length: Some(30)
        }
    );
    assert!(key.unique && !key.index);
    assert_eq!(Setting::key().column_name(), "setting_key");
    assert_eq!(Setting::key().field_name(), "key");
    let g = field(m, "group_name");
    assert!(g.index && g.nullable);
    assert_eq!(g.ty, FieldType::Text, "a String without max_length is Text");
    assert_eq!(
        field(m, "price").ty,
        FieldType::Decimal {
            precision: Some(10),
            scale: Some(2)
        }
    );
    assert!(field(m, "note").nullable);
    assert!(!field(m, "small").nullable);
}

#[test]
fn defaults_in_metadata_and_in_default_impl() {
    let m = Setting::meta();
    let dv = |n: &str| field(m, n).default.clone();
    assert_eq!(dv("small"), Some(DefaultValue::Value(Value::I32(7))));
    assert_eq!(dv("big"), Some(DefaultValue::Value(Value::I64(-3))));
    assert_eq!(dv("ratio"), Some(DefaultValue::Value(Value::F64(1.5))));
    assert_eq!(dv("enabled"), Some(DefaultValue::Value(Value::Bool(false))));
    assert_eq!(
        dv("label"),
        Some(DefaultValue::Value(Value::Text("plain".into())))
    );
    assert_eq!(dv("at"), Some(DefaultValue::Now));
    assert_eq!(dv("on"), Some(DefaultValue::Now));
    assert_eq!(
        dv("price"),
        Some(DefaultValue::Value(Value::Decimal(
            BigDecimal::from_str("12.50").unwrap()
        )))
    );
    assert_eq!(dv("note"), None);

    let s = Setting::default();
    assert_eq!((s.id, s.small, s.big, s.ratio), (0, 7, -3, 1.5));
    assert!(!s.enabled);
    assert_eq!(s.label, "plain");
    assert!(
        (Utc::now() - s.at).num_seconds().abs() < 5,
        "now() is the current time"
    );
    assert_eq!(s.on, Utc::now().date_naive());
    assert_eq!(s.price, BigDecimal::from_str("12.50").unwrap());
    assert_eq!(
        (s.key.as_str(), s.group_name.as_deref(), s.note),
        ("", None, None)
    );

    let u = User::default();
    assert!(u.is_active && u.balance == 0 && !u.posts.is_loaded());
    // no_default: the hand-written Default is the one in use.
    assert_eq!(Manual::default().id, 41);
}

#[test]
fn relations_parse_into_metadata() {
    let r = &User::meta().relations[0];
    assert_eq!(
        (r.name.as_str(), &r.kind, r.target.as_str()),
        ("posts", &RelationKind::OneToMany, "Post")
    );
    assert_eq!(r.foreign_key.as_deref(), Some("author_id"));
    let r = &Post::meta().relations[0];
    assert_eq!(
        (&r.kind, r.target.as_str()),
        (&RelationKind::ForeignKey, "User")
    );
    assert_eq!(r.back_populates.as_deref(), Some("posts"));
    let t = Tag::meta();
    assert_eq!(
        t.relations[0].kind,
        RelationKind::ManyToMany {
            through: "post_tags".into(),
            source_column: "tag_id".into(),
            target_column: "post_id".into()
        }
    );
    assert_eq!(t.relations[0].target, "Post");
    // Tag has no column for this one-to-one's key: the key is on Setting (the reverse side).
    assert_eq!(t.relations[1].kind, RelationKind::ReverseOneToOne);
    assert_eq!(t.relations[1].target, "Setting");
    assert_eq!(t.fields.len(), 1, "relations are not columns");
    let b = Byline::meta();
    assert_eq!(
        (&b.relations[0].kind, b.relations[0].target.as_str()),
        (&RelationKind::ForeignKey, "User")
    );
    let modes: Vec<Concurrency> = b.fields.iter().map(|f| f.concurrency).collect();
    assert_eq!(
        modes,
        [
            Concurrency::Compare,
            Concurrency::Compare,
            Concurrency::Version,
            Concurrency::Unchecked
        ]
    );
}

#[test]
fn every_model_is_registered() {
    let tables: Vec<&str> = chakra::model::registered_models()
        .iter()
        .map(|m| m.table.as_str())
        .collect();
    for t in ["all_types", "manual", "posts", "settings", "tags", "users"] {
        assert!(tables.contains(&t), "{t} in {tables:?}");
    }
}

async fn setup(d: Dialect) -> (TestDb, Pool) {
    let db = TestDb::new(d).await;
    let pool = db.pool().await;
    fixtures::create_tables(&pool, &[Setting::meta(), AllTypes::meta(), User::meta()]).await;
    (db, pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_behave_on_both_backends() {
    for d in BOTH {
        let (_db, pool) = setup(d).await;
        // auto_increment: ids come from the database and are written back.
        let mut a = Setting {
            key: "a".into(),
            ..Default::default()
        };
        a.save(&pool).await.unwrap();
        let mut b = Setting {
            key: "b".into(),
            group_name: Some("g".into()),
            ..Default::default()
        };
        b.save(&pool).await.unwrap();
        assert_eq!((a.id, b.id), (1, 2), "{d:?}");
        // column rename: the accessor filters on the renamed column.
        let got = Setting::query()
            .filter(Setting::key().eq("b"))
            .one(&pool)
            .await
            .unwrap();
        assert_eq!((got.id, got.group_name.as_deref()), (2, Some("g")));
        assert_eq!(got.price, BigDecimal::from_str("12.50").unwrap(), "{d:?}");
        // unique: a duplicate key is a UniqueViolation.
        let mut dup = Setting {
            key: "a".into(),
            ..Default::default()
        };
        let err = dup.save(&pool).await.unwrap_err();
        assert!(matches!(err, Error::UniqueViolation(_)), "{d:?}: {err}");
        // max_length: checked before any SQL runs, naming model and field.
        let mut long = Setting {
            key: "x".repeat(31),
            ..Default::default()
        };
        let err = long.save(&pool).await.unwrap_err();
        assert!(
            matches!(err, Error::BadValue { ref model, ref field, .. } if model == "Setting" && field == "key"),
            "{d:?}: {err}"
        );
        // Database-side defaults (the DDL) match the declared ones: insert leaving them out.
        let sql = match d {
            Dialect::Postgres => "INSERT INTO settings (setting_key) VALUES ('raw')",
            Dialect::Sqlite => "INSERT INTO settings (setting_key) VALUES ('raw')",
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        pool.batch_execute(sql).await.unwrap();
        let raw = Setting::query()
            .filter(Setting::key().eq("raw"))
            .one(&pool)
            .await
            .unwrap();
        assert_eq!(
            (
                raw.small,
                raw.big,
                raw.ratio,
                raw.enabled,
                raw.label.as_str()
            ),
            (7, -3, 1.5, false, "plain"),
            "{d:?}"
        );
        assert!(
            (Utc::now() - raw.at).num_seconds().abs() < 60,
            "{d:?}: {}",
            raw.at
        );
        assert_eq!(raw.price, BigDecimal::from_str("12.5").unwrap(), "{d:?}");
        // index: the index exists.
        let idx_sql = match d {
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'settings_group_name_idx'"
            }
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'settings_group_name_idx'"
            }
            chakra::Dialect::Mysql => unreachable!("not run on MySQL/MariaDB yet"),
        };
        let q = chakra::CompiledQuery {
            dialect: d,
            parts: vec![idx_sql.into()].into(),
            binds: vec![],
            cacheable: true,
            output: vec![chakra::dsl::ValueType::I64].into(),
        };
        assert_eq!(
            pool.fetch_compiled(&q).await.unwrap(),
            vec![vec![Value::I64(1)]],
            "{d:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_on_both_backends() {
    for d in BOTH {
        let (_db, pool) = setup(d).await;
        let at = DateTime::parse_from_rfc3339("2024-02-29T12:34:56.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let full = AllTypes {
            id: uuid::Uuid::new_v4(),
            b: true,
            i: -7,
            l: 1 << 40,
            f: 2.25,
            d: BigDecimal::from_str("12345.6789").unwrap(),
            s: "héllo 'quoted' \"double\"".into(),
            bytes: vec![0, 1, 255],
            at,
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            json: serde_json::json!({"a": [1, 2, {"b": null}]}),
            ints: vec![1, -2, 3],
            words: vec!["x".into(), "y z".into()],
            maybe_s: Some("s".into()),
            maybe_at: Some(at),
            maybe_json: Some(serde_json::json!([true])),
        };
        let empty = AllTypes {
            id: uuid::Uuid::new_v4(),
            b: false,
            i: 0,
            l: 0,
            f: 0.0,
            d: BigDecimal::from(0),
            s: String::new(),
            bytes: vec![],
            at,
            day: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
            json: serde_json::Value::Null,
            ints: vec![],
            words: vec![],
            maybe_s: None,
            maybe_at: None,
            maybe_json: None,
        };
        let mut rows = vec![full.clone(), empty.clone()];
        AllTypes::insert_many(&pool, &mut rows).await.unwrap();
        assert_eq!(
            rows,
            vec![full.clone(), empty.clone()],
            "{d:?}: written back unchanged"
        );
        let got = AllTypes::get(&pool, full.id).await.unwrap();
        assert_eq!(got, full, "{d:?}");
        let got = AllTypes::get(&pool, empty.id).await.unwrap();
        assert_eq!(got.maybe_s, None, "{d:?}");
        assert_eq!(got.ints, Vec::<i64>::new(), "{d:?}");
        let n = AllTypes::query()
            .filter(AllTypes::maybe_s().is_null())
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
        let n = AllTypes::query()
            .filter(AllTypes::id().is_in([full.id, empty.id]))
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2, "{d:?}");
        let n = AllTypes::query()
            .filter(AllTypes::d().gt(BigDecimal::from(100)))
            .count(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
    }
}
