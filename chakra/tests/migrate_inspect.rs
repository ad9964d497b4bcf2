//! `chakra migrate inspect` and `apply --fake-initial`, on SQLite, PostgreSQL and
//! MySQL/MariaDB: hand-written schemas (every column type the dialect has a field type for,
//! a composite primary key, a self-reference, two foreign keys to one table, a partial index
//! where the database has them, a multi-column unique, checks, an enum-like CHECK, the
//! reserved words `order` and `select` as names) made with raw SQL are inspected by the
//! binary; the files are compared with what the SQL says (written out by hand here), `check`
//! finds no drift once `--fake-initial` has recorded them, a later migration applies, and
//! the rows written by hand before are all still there. A database that differs from the
//! files is refused by name, recording nothing. What the format cannot say is listed on
//! stderr and left commented in the file. The example app's database, once `apply`d,
//! inspects to the state of `migrations/`, field by field.

mod common;

use chakra::dsl::table_options::Cond;
use chakra::migrate::inspect::{read_catalog, to_state};
use chakra::migrate::{load_dir, Graph, State};
use chakra::{Dialect, Pool};
use chakra_dsl::{FieldType, OnDelete};
use common::{TestDb, ALL3};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn chakra(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chakra"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `chakra migrate <command> --database-url <url> --dir <dir> <extra…>`.
fn migrate(command: &str, url: &str, dir: &str, extra: &[&str]) -> Output {
    let mut args = vec!["migrate", command, "--database-url", url, "--dir", dir];
    args.extend(extra);
    chakra(&args)
}

/// `chakra migrate inspect --database-url <url> --out <dir> <extra…>`.
fn inspect(url: &str, dir: &str, extra: &[&str]) -> Output {
    let mut args = vec!["migrate", "inspect", "--database-url", url, "--out", dir];
    args.extend(extra);
    chakra(&args)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn out_dir(tag: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "inspect_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The hand-written schema of a shop, in each dialect's own words.
fn schema(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => {
            r#"
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (
  id BIGSERIAL PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT 'anon',
  active BOOLEAN NOT NULL DEFAULT true,
  score INTEGER DEFAULT 0,
  visits BIGINT NOT NULL DEFAULT 0,
  ratio DOUBLE PRECISION,
  balance NUMERIC(12, 2) NOT NULL DEFAULT 0,
  exact NUMERIC,
  joined TIMESTAMPTZ NOT NULL DEFAULT now(),
  birthday DATE,
  avatar BYTEA,
  prefs JSONB,
  tags TEXT[],
  token UUID,
  feeling mood,
  status VARCHAR(10) NOT NULL DEFAULT 'new',
  referrer_id BIGINT REFERENCES customers(id) ON DELETE SET NULL,
  deleted_at TIMESTAMPTZ,
  CONSTRAINT customers_status_check CHECK (status IN ('new', 'vip', 'gone')),
  CONSTRAINT customers_score_pos CHECK (score >= 0)
);
CREATE INDEX customers_referrer_id_idx ON customers (referrer_id);
CREATE INDEX customers_live ON customers (email) WHERE deleted_at IS NULL;
CREATE INDEX customers_lower_email ON customers (lower(email));
CREATE TABLE "order" (
  id SERIAL PRIMARY KEY,
  "select" TEXT NOT NULL,
  buyer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  seller_id BIGINT REFERENCES customers(id),
  placed DATE NOT NULL DEFAULT CURRENT_DATE,
  UNIQUE (buyer_id, "select")
);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
CREATE TABLE order_lines (
  order_id INTEGER NOT NULL REFERENCES "order"(id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  qty INTEGER NOT NULL CONSTRAINT order_lines_qty CHECK (qty > 0),
  PRIMARY KEY (order_id, line)
);
"#
        }
        Dialect::Sqlite => {
            r#"
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT 'anon',
  active BOOLEAN NOT NULL DEFAULT 1,
  score INTEGER DEFAULT 0,
  visits BIGINT NOT NULL DEFAULT 0,
  ratio REAL,
  joined TIMESTAMP,
  birthday DATE,
  avatar BLOB,
  token UUID,
  status TEXT NOT NULL DEFAULT 'new',
  referrer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
  deleted_at DATETIME,
  CONSTRAINT customers_status_enum CHECK (status IN ('new', 'vip', 'gone')),
  CONSTRAINT customers_score_pos CHECK (score >= 0)
);
CREATE INDEX customers_referrer_id_idx ON customers (referrer_id);
CREATE INDEX customers_live ON customers (email) WHERE deleted_at IS NULL;
CREATE TABLE "order" (
  id INTEGER PRIMARY KEY,
  "select" TEXT NOT NULL,
  buyer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  seller_id INTEGER REFERENCES customers(id),
  UNIQUE (buyer_id, "select")
);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
CREATE TABLE order_lines (
  order_id INTEGER NOT NULL REFERENCES "order"(id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  qty INTEGER NOT NULL,
  CONSTRAINT order_lines_qty CHECK (qty > 0),
  PRIMARY KEY (order_id, line)
);
"#
        }
        Dialect::Mysql => {
            r#"
CREATE TABLE customers (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name LONGTEXT NOT NULL DEFAULT ('anon'),
  active BOOLEAN NOT NULL DEFAULT TRUE,
  score INTEGER DEFAULT 0,
  visits BIGINT NOT NULL DEFAULT 0,
  ratio DOUBLE,
  balance DECIMAL(12, 2) NOT NULL DEFAULT 0,
  joined DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  birthday DATE,
  avatar LONGBLOB,
  prefs JSON,
  token CHAR(36),
  status VARCHAR(255) NOT NULL DEFAULT 'new',
  referrer_id BIGINT,
  CONSTRAINT customers_status_enum CHECK (status IN ('new', 'vip', 'gone')),
  CONSTRAINT customers_score_pos CHECK (score >= 0),
  CONSTRAINT customers_referrer FOREIGN KEY (referrer_id) REFERENCES customers(id) ON DELETE SET NULL
);
CREATE TABLE "order" (
  id INTEGER AUTO_INCREMENT PRIMARY KEY,
  "select" VARCHAR(255) NOT NULL,
  buyer_id BIGINT NOT NULL,
  seller_id BIGINT,
  UNIQUE KEY order_buyer_select (buyer_id, "select"),
  FOREIGN KEY (buyer_id) REFERENCES customers(id) ON DELETE CASCADE,
  FOREIGN KEY (seller_id) REFERENCES customers(id)
);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
CREATE TABLE order_lines (
  order_id INTEGER NOT NULL,
  line INTEGER NOT NULL,
  qty INTEGER NOT NULL,
  CONSTRAINT order_lines_qty CHECK (qty > 0),
  PRIMARY KEY (order_id, line),
  CONSTRAINT lines_order FOREIGN KEY (order_id) REFERENCES "order"(id) ON DELETE CASCADE
);
"#
        }
    }
}

/// What each dialect's hand-written schema reads back as, beyond the column types
/// ([`expected_types`]): one row per schema, so the test below runs the same steps on each.
struct Expect {
    dialect: Dialect,
    /// The CHECK constraints kept as such (an enum-like CHECK becomes an enum field where
    /// the dialect has no native enums), sorted.
    checks: &'static [&'static str],
    /// What a foreign key declared without `ON DELETE` reads back as.
    plain_on_delete: OnDelete,
    /// Whether the schema has the partial index `customers_live`.
    partial_index: bool,
    /// Whether `customers.joined` has a server-side default (`now()`).
    joined_default: bool,
    /// The fixture (below `tests/`) the generate tests compile, which must stay what inspect
    /// writes for this schema.
    fixture: Option<&'static str>,
}

/// One [`Expect`] per dialect, in [`ALL3`]'s order.
const EXPECT: [Expect; 3] = [
    Expect {
        dialect: Dialect::Sqlite,
        checks: &["customers_score_pos", "order_lines_qty"],
        plain_on_delete: OnDelete::NoAction,
        partial_index: true,
        joined_default: false,
        fixture: None,
    },
    Expect {
        dialect: Dialect::Postgres,
        checks: &[
            "customers_score_pos",
            "customers_status_check",
            "order_lines_qty",
        ],
        plain_on_delete: OnDelete::NoAction,
        partial_index: true,
        joined_default: true,
        fixture: Some("fixtures/inspected_shop/shop/0001_initial.toml"),
    },
    Expect {
        dialect: Dialect::Mysql,
        checks: &["customers_score_pos", "order_lines_qty"],
        plain_on_delete: OnDelete::Restrict,
        partial_index: false,
        joined_default: true,
        fixture: None,
    },
];

/// Rows written by hand before the schema is adopted.
const ROWS: &str = r#"
INSERT INTO customers (email, status) VALUES ('ann@example.com', 'vip');
INSERT INTO customers (email, referrer_id) VALUES ('bob@example.com', 1);
INSERT INTO "order" ("select", buyer_id, seller_id) VALUES ('first', 2, 1);
INSERT INTO order_lines (order_id, line, qty) VALUES (1, 1, 3), (1, 2, 5);
"#;

/// Each column's field type as the hand-written SQL above declares it, per dialect.
fn expected_types(d: Dialect) -> Vec<(&'static str, &'static str, FieldType)> {
    use FieldType as F;
    let int = |pg_mysql: F| {
        if d == Dialect::Sqlite {
            F::BigInteger
        } else {
            pg_mysql
        }
    };
    let s = |n: u32| F::String {
        max_length: Some(n),
    };
    let mut out = vec![
        ("customers", "id", F::BigInteger),
        ("customers", "email", s(120)),
        ("customers", "name", F::Text),
        ("customers", "active", F::Boolean),
        ("customers", "score", int(F::Integer)),
        ("customers", "visits", F::BigInteger),
        ("customers", "ratio", F::Float),
        ("customers", "birthday", F::Date),
        ("customers", "avatar", F::Bytes),
        ("customers", "token", F::Uuid),
        ("customers", "referrer_id", F::BigInteger),
        ("order", "id", int(F::Integer)),
        (
            "order",
            "select",
            if d == Dialect::Mysql { s(255) } else { F::Text },
        ),
        ("order", "buyer_id", F::BigInteger),
        ("order", "seller_id", F::BigInteger),
        ("order_lines", "order_id", int(F::Integer)),
        ("order_lines", "line", int(F::Integer)),
        ("order_lines", "qty", int(F::Integer)),
    ];
    let status = |name: &str| F::Enum {
        name: name.into(),
        values: vec!["new".into(), "vip".into(), "gone".into()],
    };
    match d {
        Dialect::Postgres => out.extend([
            (
                "customers",
                "balance",
                F::Decimal {
                    precision: Some(12),
                    scale: Some(2),
                },
            ),
            (
                "customers",
                "exact",
                F::Decimal {
                    precision: None,
                    scale: None,
                },
            ),
            ("customers", "joined", F::DateTime),
            ("customers", "prefs", F::Json),
            ("customers", "tags", F::Array(Box::new(F::Text))),
            (
                "customers",
                "feeling",
                F::Enum {
                    name: "mood".into(),
                    values: vec!["happy".into(), "sad".into()],
                },
            ),
            // PostgreSQL has native enums: the CHECK stays a CHECK.
            ("customers", "status", s(10)),
            ("customers", "deleted_at", F::DateTime),
            ("order", "placed", F::Date),
        ]),
        Dialect::Sqlite => out.extend([
            ("customers", "joined", F::DateTime),
            ("customers", "status", status("customers_status")),
            ("customers", "deleted_at", F::DateTime),
        ]),
        Dialect::Mysql => out.extend([
            (
                "customers",
                "balance",
                F::Decimal {
                    precision: Some(12),
                    scale: Some(2),
                },
            ),
            ("customers", "joined", F::DateTime),
            ("customers", "prefs", F::Json),
            ("customers", "status", status("customers_status")),
        ]),
    }
    out
}

fn replay(dir: &Path) -> State {
    let graph = Graph::new(load_dir(dir).unwrap()).unwrap();
    State::replay(graph.ordered.iter().map(|m| &m.migration)).unwrap()
}

async fn count(pool: &Pool, sql: &str) -> i64 {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[sql],
        vec![],
        vec![chakra::dsl::ValueType::I64],
    );
    pool.fetch_compiled(&q).await.unwrap()[0][0]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_schemas_are_inspected_faked_and_migrated_further() {
    assert_eq!(EXPECT.map(|e| e.dialect), ALL3);
    for e in EXPECT {
        let d = e.dialect;
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        pool.batch_execute(schema(d)).await.unwrap();
        pool.batch_execute(ROWS).await.unwrap();
        let dir = out_dir(d.name());
        let m = dir.to_str().unwrap();
        let run = inspect(&db.url, m, &["--app", "shop"]);
        let (stdout, stderr) = text(&run);
        assert!(run.status.success(), "{d:?}: {stdout}{stderr}");
        assert!(stdout.contains("0001_initial.toml"), "{d:?}: {stdout}");
        // Every part of these schemas has words in the format: nothing left over.
        assert!(
            !stderr.contains("not represented") && !stderr.contains("differs"),
            "{d:?}: {stderr}"
        );

        if let Some(fixture) = e.fixture {
            // The generate tests compile and run the models of these files
            // (`tests/fixtures/inspected_shop`); they must stay what inspect writes.
            let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(fixture);
            let written = std::fs::read_to_string(dir.join("shop/0001_initial.toml")).unwrap();
            if std::env::var_os("CHAKRA_BLESS").is_some() {
                std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
                std::fs::write(&fixture, &written).unwrap();
            }
            assert_eq!(
                std::fs::read_to_string(&fixture).unwrap_or_default(),
                written,
                "{} is out of date: CHAKRA_BLESS=1 cargo test -p chakra --test migrate_inspect",
                fixture.display()
            );
        }
        // The files against the SQL, by hand.
        let state = replay(&dir);
        assert_eq!(
            state.tables.keys().collect::<Vec<_>>(),
            ["customers", "order", "order_lines"],
            "{d:?}"
        );
        for (table, column, ty) in expected_types(d) {
            let f = state.tables[table]
                .column(column)
                .unwrap_or_else(|| panic!("{d:?}: {table}.{column} missing"));
            assert_eq!(f.ty, ty, "{d:?}: {table}.{column}");
        }
        let customers = &state.tables["customers"];
        let order = &state.tables["order"];
        let lines = &state.tables["order_lines"];
        let f = |t: &chakra::migrate::TableState, c: &str| t.column(c).unwrap().clone();
        assert!(f(customers, "id").primary_key && f(customers, "id").auto_increment);
        assert!(f(customers, "email").unique && !f(customers, "email").nullable);
        assert!(f(customers, "score").nullable && !f(customers, "name").nullable);
        assert_eq!(
            lines
                .fields
                .iter()
                .filter(|f| f.primary_key)
                .map(|f| f.column.as_str())
                .collect::<Vec<_>>(),
            ["order_id", "line"],
            "{d:?}: the composite key"
        );
        assert!(!f(lines, "order_id").auto_increment);
        // Defaults, server-side ones kept as such.
        let default = |t: &chakra::migrate::TableState, c: &str| {
            f(t, c)
                .default
                .map(|d| chakra::migrate::values::default_to_raw(&d))
        };
        use chakra::migrate::values::RawDefault as R;
        assert_eq!(default(customers, "name"), Some(R::Str("anon".into())));
        assert_eq!(default(customers, "active"), Some(R::Bool(true)));
        assert_eq!(default(customers, "visits"), Some(R::Int(0)));
        assert_eq!(default(customers, "status"), Some(R::Str("new".into())));
        if e.joined_default {
            assert_eq!(default(customers, "joined"), Some(R::Str("now()".into())));
        }
        // Foreign keys: the self-reference, and two keys from `order` to `customers`, as
        // fields or as table constraints (where no index of Chakra's name backs them).
        let mut keys: Vec<(String, String, String, OnDelete)> = Vec::new();
        for t in state.tables.values() {
            for fl in &t.fields {
                if let Some(r) = &fl.references {
                    keys.push((
                        t.table.clone(),
                        fl.column.clone(),
                        r.table.clone(),
                        r.on_delete,
                    ));
                }
            }
            for c in &t.constraints {
                if let chakra::migrate::ConstraintKind::ForeignKey {
                    columns,
                    table,
                    on_delete,
                    ..
                } = &c.kind
                {
                    keys.push((
                        t.table.clone(),
                        columns.join(","),
                        table.clone(),
                        *on_delete,
                    ));
                }
            }
        }
        keys.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let plain = e.plain_on_delete;
        assert_eq!(
            keys,
            [
                (
                    "customers".into(),
                    "referrer_id".into(),
                    "customers".into(),
                    OnDelete::SetNull
                ),
                (
                    "order".into(),
                    "buyer_id".into(),
                    "customers".into(),
                    OnDelete::Cascade
                ),
                (
                    "order".into(),
                    "seller_id".into(),
                    "customers".into(),
                    plain
                ),
                (
                    "order_lines".into(),
                    "order_id".into(),
                    "order".into(),
                    OnDelete::Cascade
                ),
            ],
            "{d:?}"
        );
        assert!(
            order.constraints.iter().any(|c| matches!(&c.kind,
                chakra::migrate::ConstraintKind::Unique { columns } if columns == &["buyer_id", "select"])),
            "{d:?}: {:?}",
            order.constraints
        );
        let mut checks: Vec<&str> = state
            .tables
            .values()
            .flat_map(|t| &t.constraints)
            .filter(|c| matches!(c.kind, chakra::migrate::ConstraintKind::Check { .. }))
            .map(|c| c.name.as_str())
            .collect();
        checks.sort();
        assert_eq!(checks, e.checks, "{d:?}");
        // The partial index: in lookups, or SQL the history knows it made.
        if e.partial_index {
            let partial = customers
                .indexes
                .iter()
                .find(|i| i.name == "customers_live");
            let raw = state
                .raw
                .contains(&chakra::migrate::operations::RawObject::Index(
                    "customers_live".into(),
                ));
            match partial {
                Some(i) => assert_eq!(
                    i.condition,
                    Some(Cond::Lookup {
                        key: "deleted_at__isnull".into(),
                        value: chakra::dsl::table_options::CondValue::Bool(true)
                    })
                ),
                None => assert!(raw, "{d:?}: the partial index is lost"),
            }
        }

        // Nothing recorded yet: `check` sees tables the history does not have.
        let check = migrate("check", &db.url, m, &[]);
        assert_eq!(check.status.code(), Some(1), "{d:?}");
        let fake = migrate("apply", &db.url, m, &["--fake-initial"]);
        let (so, se) = text(&fake);
        assert!(fake.status.success(), "{d:?}: {so}{se}");
        assert!(so.contains("recorded shop/0001_initial"), "{d:?}: {so}");
        let check = migrate("check", &db.url, m, &[]);
        let (so, se) = text(&check);
        assert!(check.status.success(), "{d:?}: {so}{se}");
        assert!(so.contains("the database matches the migrations"), "{d:?}");

        // A later migration, as `make` writes it, applies normally.
        let mut target = state.clone();
        let mut nick = chakra_dsl::FieldMeta::new(
            "nickname",
            FieldType::String {
                max_length: Some(30),
            },
        );
        nick.nullable = true;
        target
            .tables
            .get_mut("customers")
            .unwrap()
            .fields
            .push(nick);
        let made = chakra::migrate::make(
            &load_dir(&dir).unwrap(),
            &dir,
            &target,
            &chakra::migrate::MakeOptions {
                all_constraints: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(made.len(), 1, "{d:?}");
        std::fs::write(&made[0].path, &made[0].text).unwrap();
        let apply = migrate("apply", &db.url, m, &["--fake-initial"]);
        let (so, se) = text(&apply);
        assert!(apply.status.success(), "{d:?}: {so}{se}");
        assert!(
            !so.contains("recorded"),
            "{d:?}: the new migration is not faked: {so}"
        );
        pool.batch_execute("UPDATE customers SET nickname = 'annie' WHERE id = 1")
            .await
            .unwrap();
        assert_eq!(
            count(
                &pool,
                "SELECT COUNT(*) FROM customers WHERE nickname = 'annie'"
            )
            .await,
            1
        );
        let check = migrate("check", &db.url, m, &[]);
        assert!(check.status.success(), "{d:?}: {:?}", text(&check));
        // The rows written before adoption are all there.
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM customers").await, 2);
        assert_eq!(count(&pool, "SELECT COUNT(*) FROM order_lines").await, 2);
        assert_eq!(
            count(
                &pool,
                "SELECT COUNT(*) FROM order_lines WHERE order_id = 1 AND qty IN (3, 5)"
            )
            .await,
            2
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_differs_from_the_files_is_refused_by_name() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        pool.batch_execute(schema(d)).await.unwrap();
        let dir = out_dir(&format!("differs_{}", d.name()));
        let m = dir.to_str().unwrap();
        let run = inspect(&db.url, m, &[]);
        assert!(run.status.success(), "{d:?}: {:?}", text(&run));
        assert!(dir.join("main/0001_initial.toml").exists());
        // The database moves on after inspection.
        pool.batch_execute("ALTER TABLE customers ADD COLUMN extra INTEGER")
            .await
            .unwrap();
        let fake = migrate("apply", &db.url, m, &["--fake-initial"]);
        let (so, se) = text(&fake);
        assert_eq!(fake.status.code(), Some(1), "{d:?}: {so}{se}");
        assert!(
            se.contains("main/0001_initial")
                && se.contains(
                    "column customers.extra is in the database but not in the migrations"
                ),
            "{d:?}: {se}"
        );
        // Nothing recorded, and nothing ran (the tables were not created again).
        let status = migrate("status", &db.url, m, &[]);
        assert!(
            text(&status).0.contains("[ ] 0001_initial"),
            "{d:?}: {:?}",
            text(&status)
        );
        if d == Dialect::Sqlite {
            let gone = chakra(&[
                "migrate",
                "inspect",
                "--database-url",
                "sqlite:///nowhere/x.db",
            ]);
            assert_eq!(gone.status.code(), Some(1));
            assert!(
                text(&gone).1.contains("does not exist"),
                "{:?}",
                text(&gone)
            );
        }
        // A second inspection into the same app is refused: it writes first migrations only.
        let again = inspect(&db.url, m, &[]);
        assert_eq!(again.status.code(), Some(1));
        assert!(text(&again)
            .1
            .contains("already holds migrations of app main"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_format_cannot_say_is_listed_and_left_commented() {
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let sql = match d {
            Dialect::Sqlite => {
                "CREATE TABLE kept (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), \
                 at TEXT DEFAULT CURRENT_TIMESTAMP); \
                 CREATE TABLE money (id INTEGER PRIMARY KEY, price DECIMAL(10, 2));"
            }
            _ => {
                "CREATE TABLE kept (id BIGSERIAL PRIMARY KEY, n INTEGER, \
                 token UUID DEFAULT md5('x')::uuid); \
                 CREATE TABLE money (id BIGSERIAL PRIMARY KEY, ip INET);"
            }
        };
        pool.batch_execute(sql).await.unwrap();
        let dir = out_dir(&format!("cannot_{}", d.name()));
        let m = dir.to_str().unwrap();
        let run = inspect(&db.url, m, &[]);
        let (_, stderr) = text(&run);
        assert!(run.status.success(), "{d:?}: {stderr}");
        let file = std::fs::read_to_string(dir.join("main/0001_initial.toml")).unwrap();
        let (column, what) = match d {
            Dialect::Sqlite => ("price", "decimal(10, 2)"),
            _ => ("ip", "inet"),
        };
        let left = format!("table money is left out: column {column}: {what}");
        assert!(stderr.contains(&left), "{d:?}: {stderr}");
        assert!(file.contains(&format!("# - {left}")), "{d:?}: {file}");
        let default_said = match d {
            Dialect::Sqlite => "column kept.at: the default CURRENT_TIMESTAMP",
            _ => "column kept.token: the default (md5('x'::text))::uuid",
        };
        assert!(stderr.contains(default_said), "{d:?}: {stderr}");
        if d == Dialect::Sqlite {
            assert!(stderr.contains("an unnamed CHECK"), "{stderr}");
        }
        // What is written reads back; the table left out is not in it.
        let state = replay(&dir);
        assert_eq!(state.tables.keys().collect::<Vec<_>>(), ["kept"], "{d:?}");
        assert!(state.tables["kept"]
            .fields
            .iter()
            .all(|f| f.default.is_none()));
        // `check` and `--fake-initial` then refuse, naming it.
        let fake = migrate("apply", &db.url, m, &["--fake-initial"]);
        assert_eq!(fake.status.code(), Some(1), "{d:?}");
        assert!(text(&fake)
            .1
            .contains("table money is in the database but not in the migrations"));
    }
}

/// The example app's migrations, applied, read back to the state they replay to: every
/// table, field (type, nullability, key, default, unique, index, foreign key), named index
/// and constraint, the same. SQLite stores several field types alike, so there the types
/// are compared by storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_apps_database_inspects_to_the_state_of_its_migrations() {
    let migrations = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let want = chakra::migrate::autodetect::normalize(&replay(&migrations));
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::migrate::Migrator::from_dir(pool.clone(), &migrations)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let catalog = read_catalog(&mut conn).await.unwrap();
        let inspected = to_state(&catalog, d, None);
        assert!(inspected.notes.is_empty(), "{d:?}: {:?}", inspected.notes);
        assert!(inspected.run_sql.is_empty(), "{d:?}");
        let have = chakra::migrate::autodetect::normalize(&inspected.state);
        assert_eq!(
            have.tables.keys().collect::<Vec<_>>(),
            want.tables.keys().collect::<Vec<_>>()
        );
        for (name, w) in &want.tables {
            let h = &have.tables[name];
            assert_eq!(h.fields.len(), w.fields.len(), "{d:?}: {name}");
            for (hf, wf) in h.fields.iter().zip(&w.fields) {
                let mut hf = hf.clone();
                let mut wf = wf.clone();
                if d == Dialect::Sqlite {
                    let storage = |t: &FieldType| d.migrate().db_type(t);
                    assert_eq!(
                        storage(&hf.ty),
                        storage(&wf.ty),
                        "{d:?}: {name}.{}",
                        wf.name
                    );
                    hf.ty = wf.ty.clone();
                    // Defaults likewise: as SQLite stores them.
                    let stored = |f: &chakra_dsl::FieldMeta| chakra::sql::ddl::default_sql(f, d);
                    assert_eq!(stored(&hf), stored(&wf), "{d:?}: {name}.{}", wf.name);
                    hf.default = wf.default.clone();
                }
                wf.concurrency = hf.concurrency;
                wf.auto_now = hf.auto_now;
                assert_eq!(hf, wf, "{d:?}: {name}.{}", wf.name);
            }
            assert_eq!(h.indexes, w.indexes, "{d:?}: {name}");
            assert_eq!(h.constraints, w.constraints, "{d:?}: {name}");
        }
    }
}
