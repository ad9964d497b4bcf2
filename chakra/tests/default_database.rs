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

    // Nothing configured: the embedded default, which works with nothing installed, said
    // once (at INFO on the `chakra` target).
    let (url, note) = chakra::config::default_url_noted().unwrap();
    assert_eq!(url, DEFAULT_URL);
    let note = note.expect("the first use of the default is said");
    assert!(
        note.contains(DEFAULT_URL) && note.contains("no database configured"),
        "{note}"
    );
    assert_eq!(
        chakra::config::default_url_noted().unwrap().1,
        None,
        "said once"
    );
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
    // A misspelt table is an error naming it, never a silent local SQLite file.
    std::fs::write(
        "chakra.toml",
        "[databse]\nurl = \"postgres://app@db.invalid:5432/app\"\n",
    )
    .unwrap();
    let e = default_url().unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("did you mean [database]"), "{e}");
    let e = Pool::connect_default().await.unwrap_err();
    assert!(e.to_string().contains("[databse]"), "{e}");
    std::fs::write("chakra.toml", "[database\nurl=").unwrap();
    let e = Pool::connect_default().await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("chakra.toml"), "{e}");
    // A broken chakra.toml is reported even when the URL is given in code.
    let e = Pool::connect("sqlite::memory:").await.unwrap_err();
    assert!(e.to_string().contains("chakra.toml"), "{e}");

    // The environment wins over chakra.toml.
    std::fs::write(
        "chakra.toml",
        "[database]\nurl = \"sqlite://from_toml.db\"\n",
    )
    .unwrap();
    std::env::set_var("CHAKRA_DATABASE_URL", "sqlite::memory:");
    assert_eq!(default_url().unwrap(), "sqlite::memory:");
    std::env::remove_var("CHAKRA_DATABASE_URL");
    std::fs::remove_file("chakra.toml").unwrap();

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
            enum_types: Default::default(),
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

    // Pool settings: chakra.toml's apply to the database it configures; URL parameters win.
    std::fs::write(
        "chakra.toml",
        "[database]\nurl = \"sqlite://settings.db\"\nmax_size = 3\nwait_timeout = \"2s\"\nstatement_timeout = 1500\n",
    )
    .unwrap();
    let p = Pool::connect_default().await.unwrap();
    let o = p.options();
    assert_eq!(
        (o.max_size, o.wait_timeout, o.statement_timeout),
        (
            3,
            std::time::Duration::from_secs(2),
            Some(std::time::Duration::from_millis(1500))
        )
    );
    let p = Pool::connect("sqlite://other.db?max_size=2&statement_timeout=1m")
        .await
        .unwrap();
    let o = p.options();
    assert_eq!(
        (o.max_size, o.statement_timeout),
        (2, Some(std::time::Duration::from_secs(60))),
        "another database: the URL's settings, not chakra.toml's"
    );
    assert!(
        dir.join("other.db").exists(),
        "the parameters are not part of the path"
    );
    let e = Pool::connect("sqlite://x.db?statement_timeout=soon")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("statement_timeout"), "{e}");

    // A misspelt or bad setting in chakra.toml is an error, whichever database it configures.
    for (bad, named) in [
        ("max_sizes = 3", "unknown setting \"max_sizes\""),
        ("max_size = \"many\"", "max_size"),
    ] {
        std::fs::write(
            "chakra.toml",
            format!("[database]\nurl = \"sqlite://settings.db\"\n{bad}\n"),
        )
        .unwrap();
        for url in ["sqlite://settings.db", "sqlite://other.db"] {
            let e = Pool::connect(url).await.unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{e}");
            assert!(e.to_string().contains(named), "{url}: {e}");
        }
    }
    std::fs::remove_file("chakra.toml").unwrap();

    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `docs/configuration.md` describes every setting Chakra reads from a URL or `chakra.toml`.
#[test]
fn the_configuration_page_names_every_setting() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md"),
    )
    .unwrap();
    for name in chakra::config::POOL_PARAMS {
        assert!(
            page.contains(&format!("| `{name}` |")),
            "docs/configuration.md does not describe the setting {name}"
        );
    }
}
