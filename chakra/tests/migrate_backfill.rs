//! A NOT NULL field added without a database default (a callable default in the program):
//! `make` refuses without a value for existing rows, takes `--default table.field=value`, and
//! the migration fills existing rows then leaves the column without a default (issue 26,
//! problem 9). Errors name the user's table, never the rebuild's temporary one.

mod common;

use chakra::dsl::{FieldMeta, FieldType, ModelMeta, ValueType};
use chakra::migrate::Migrator;
use common::{TestDb, BOTH};
use std::path::{Path, PathBuf};

const LOANS: &str = r#"[migration]
id = "0001_initial"
app = "library"

[[operations]]
type = "CreateModel"
name = "Loan"
table = "loans"

[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true

[[operations.fields]]
name = "title"
type = "Text"
"#;

fn field(name: &str, ty: FieldType) -> FieldMeta {
    let mut f = FieldMeta::new(name, ty);
    f.nullable = false;
    f
}

/// The model after the change: `due` is a DateTime whose default is a callable (so the
/// model describes no database default).
fn loan_model() -> ModelMeta {
    let mut id = field("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    ModelMeta {
        name: "Loan".into(),
        table: "loans".into(),
        fields: vec![
            id,
            field("title", FieldType::Text),
            field("due", FieldType::DateTime),
            field("copies", FieldType::Integer),
        ],
        relations: vec![],
        app: Some("library".into()),
        options: Default::default(),
        ordering: Vec::new(),
    }
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chakra_backfill_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(d.join("library")).unwrap();
    std::fs::write(d.join("library/0001_initial.toml"), LOANS).unwrap();
    d
}

fn make(dir: &Path, extra: &[&str]) -> u8 {
    let mut args = vec!["chakra", "migrate", "make", "--no-input", "--dir"];
    let d = dir.display().to_string();
    args.push(&d);
    args.extend_from_slice(extra);
    chakra::cli::exit_status(args, vec![loan_model()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn make_asks_for_the_value_existing_rows_get() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = dir();
        Migrator::from_dir(pool.clone(), &dir)
            .unwrap()
            .apply(None)
            .await
            .unwrap();
        pool.batch_execute("INSERT INTO loans (title) VALUES ('Dune'), ('Emma')")
            .await
            .unwrap();
        // No value for existing rows: refused, nothing written.
        let code = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || make(&dir, &[])
        })
        .await
        .unwrap();
        assert_eq!(code, 1);
        assert_eq!(std::fs::read_dir(dir.join("library")).unwrap().count(), 1);
        // A bad value is refused naming the field.
        let code = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || {
                make(
                    &dir,
                    &["--default", "loans.due=soon", "--default", "copies=1"],
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(code, 1);
        let code = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || {
                make(
                    &dir,
                    &[
                        "--default",
                        "loans.due=2026-01-02T03:04:05Z",
                        "--default",
                        "copies=1",
                    ],
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(code, 0);
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        assert_eq!(m.apply(None).await.unwrap().len(), 1, "{d:?}");
        let q = chakra::migrate::history::raw(
            d,
            &["SELECT count(*) FROM loans WHERE copies = 1 AND due IS NOT NULL"],
            vec![],
            vec![ValueType::I64],
        );
        assert_eq!(
            pool.fetch_compiled(&q).await.unwrap()[0][0].as_i64(),
            Some(2)
        );
        // The column keeps no default: the program's callable gives new rows their value.
        let e = pool
            .batch_execute("INSERT INTO loans (title, copies) VALUES ('Ulysses', 1)")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("due"), "{d:?}: {e}");
        // make --check agrees with the models now.
        let code = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || make(&dir, &["--check"])
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "{d:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_failure_names_the_users_table() {
    let db = TestDb::sqlite().await;
    let pool = db.pool().await;
    let dir = dir();
    Migrator::from_dir(pool.clone(), &dir)
        .unwrap()
        .apply(None)
        .await
        .unwrap();
    pool.batch_execute("INSERT INTO loans (title) VALUES ('Dune')")
        .await
        .unwrap();
    // Written by hand: NOT NULL, no default, on a table with rows (the issue's case).
    std::fs::write(
        dir.join("library/0002_due.toml"),
        "[migration]\nid = \"0002_due\"\napp = \"library\"\ndependencies = [[\"library\", \"0001_initial\"]]\n\n\
         [[operations]]\ntype = \"AddField\"\ntable = \"loans\"\n[operations.field]\nname = \"due\"\ntype = \"DateTime\"\nnullable = true\n\n\
         [[operations]]\ntype = \"AlterField\"\ntable = \"loans\"\n[operations.field]\nname = \"due\"\ntype = \"DateTime\"\n",
    )
    .unwrap();
    let e = Migrator::from_dir(pool.clone(), &dir)
        .unwrap()
        .apply(None)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("loans.due") && !e.contains("__chakra"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}
