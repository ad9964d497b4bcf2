//! The default database: `CHAKRA_DATABASE_URL`, else `chakra.toml`, else
//! `sqlite://chakra.db`; and `sqlite::memory:`. One test function, because it changes the
//! process's environment and working directory.

use chakra::config::{default_url, DatabaseUrl, DEFAULT_URL};
use chakra::dsl::*;
use chakra::{Dialect, Pool};

#[tokio::test]
async fn default_url_resolution_and_memory_databases() {
    let dir = std::env::temp_dir().join(format!("chakra_default_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::env::set_current_dir(&dir).unwrap();
    std::env::remove_var("CHAKRA_DATABASE_URL");

    // Nothing configured: the embedded default, which works with nothing installed.
    assert_eq!(default_url().unwrap(), DEFAULT_URL);
    let pool = Pool::connect_default().await.unwrap();
    assert_eq!(pool.dialect(), Dialect::Sqlite);
    pool.batch_execute("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    assert!(dir.join("chakra.db").exists());

    // chakra.toml.
    std::fs::write(
        "chakra.toml",
        "[database]\nurl = \"sqlite://from_toml.db\"\n",
    )
    .unwrap();
    assert_eq!(default_url().unwrap(), "sqlite://from_toml.db");
    std::fs::write("chakra.toml", "[database\nurl=").unwrap();
    let e = Pool::connect_default().await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("chakra.toml"), "{e}");

    // The environment wins over chakra.toml.
    std::env::set_var("CHAKRA_DATABASE_URL", "sqlite::memory:");
    assert_eq!(default_url().unwrap(), "sqlite::memory:");
    std::env::remove_var("CHAKRA_DATABASE_URL");

    // URL forms.
    assert_eq!(
        DatabaseUrl::parse("sqlite:///var/data/app.db").unwrap(),
        DatabaseUrl::SqliteFile("/var/data/app.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://app.db").unwrap(),
        DatabaseUrl::SqliteFile("app.db".into())
    );
    assert!(matches!(
        DatabaseUrl::parse("postgresql://u@h:5432/d").unwrap(),
        DatabaseUrl::Postgres(_)
    ));

    // An in-memory database is one database for the whole pool.
    let mem = Pool::connect("sqlite::memory:").await.unwrap();
    mem.batch_execute("CREATE TABLE m (x INTEGER)")
        .await
        .unwrap();
    mem.execute(
        &Insert {
            table: "m".into(),
            columns: vec!["x".into()],
            rows: vec![vec![Value::I32(1)], vec![Value::I32(2)]],
            returning: vec![],
        }
        .into(),
    )
    .await
    .unwrap();
    let n = mem
        .fetch(&Statement::Count(
            Select::from(Source::table("m"))
                .column(Expr::col("m", "x", ValueType::I32), ValueType::I32),
        ))
        .await
        .unwrap();
    assert_eq!(n, vec![vec![Value::I64(2)]]);
    // …and another pool's memory database is a different one.
    let other = Pool::connect("sqlite::memory:").await.unwrap();
    assert!(other.batch_execute("SELECT * FROM m").await.is_err());

    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
