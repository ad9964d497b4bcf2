//! A model set and a migrations folder per database: `chakra migrate make|check|apply
//! --database NAME` uses `[databases.NAME] migrations = "…"` and only the models bound to
//! NAME (chakra.toml's `models = [...]`, or bindings made in code), on two SQLite files whose
//! tables are read back with hand-written SQL. One test in its own binary: it changes the
//! process's working directory (the CLI reads `./chakra.toml`).

use chakra::cli::{exit_status, exit_status_bound, Bindings};
use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "pd_accounts")]
pub struct PdAccount {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "pd_events")]
pub struct PdEvent {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub kind: String,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "pd_clicks")]
pub struct PdClick {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub x: i64,
}

fn models() -> Vec<chakra::dsl::ModelMeta> {
    vec![
        (**PdAccount::meta()).clone(),
        (**PdEvent::meta()).clone(),
        (**PdClick::meta()).clone(),
    ]
}

/// The tables of a SQLite file (none when it does not exist).
fn tables(path: &std::path::Path) -> Vec<String> {
    if !path.exists() {
        return vec![];
    }
    let c = rusqlite::Connection::open(path).unwrap();
    let mut st = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'pd_%' ORDER BY name")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The text of every migration file under `dir`.
fn migration_text(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for app in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(app.unwrap().path()).unwrap() {
            out.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
        }
    }
    out
}

#[test]
fn each_database_has_its_models_and_its_migrations() {
    let work = std::env::temp_dir().join(format!("chakra_per_db_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        work.join("chakra.toml"),
        "[databases.default]\nurl = \"sqlite://main.db\"\nmigrations = \"migrations/main\"\n\n\
         [databases.analytics]\nurl = \"sqlite://analytics.db\"\nmigrations = \"migrations/analytics\"\n\
         models = [\"PdEvent\"]\n",
    )
    .unwrap();
    std::env::set_current_dir(&work).unwrap();
    std::env::remove_var("CHAKRA_DATABASE_URL");
    // PdClick is bound in code (as Python's `__database__` does), PdEvent by chakra.toml.
    let code: Bindings = [("PdClick".to_owned(), "analytics".to_owned())].into();
    let run = |args: &[&str]| {
        exit_status_bound([&["chakra", "migrate"][..], args].concat(), models(), &code)
    };

    assert_eq!(
        run(&["make", "--database", "analytics", "--app", "stats"]),
        0
    );
    assert_eq!(run(&["make", "--database", "default", "--app", "shop"]), 0);
    let analytics = migration_text(&work.join("migrations/analytics"));
    assert!(
        analytics.contains("pd_events") && analytics.contains("pd_clicks"),
        "{analytics}"
    );
    assert!(!analytics.contains("pd_accounts"), "{analytics}");
    let main = migration_text(&work.join("migrations/main"));
    assert!(main.contains("pd_accounts"), "{main}");
    assert!(
        !main.contains("pd_events") && !main.contains("pd_clicks"),
        "{main}"
    );
    assert!(!work.join("migrations/stats").exists() && !work.join("migrations/shop").exists());

    // Nothing left to make, for either.
    assert_eq!(run(&["make", "--check", "--database", "analytics"]), 0);
    assert_eq!(run(&["make", "--check", "--database", "default"]), 0);

    // apply: each database gets its own tables, and only those.
    assert_eq!(run(&["apply", "--database", "analytics"]), 0);
    assert_eq!(
        tables(&work.join("analytics.db")),
        ["pd_clicks", "pd_events"]
    );
    assert!(!work.join("main.db").exists(), "default was touched");
    assert_eq!(run(&["apply", "--database", "default"]), 0);
    assert_eq!(tables(&work.join("main.db")), ["pd_accounts"]);
    assert_eq!(run(&["check", "--database", "analytics"]), 0);
    assert_eq!(run(&["check", "--database", "default"]), 0);

    // The set is what decides: without the code binding, PdClick is a default model, which
    // default's migrations lack.
    let unbound =
        |args: &[&str]| exit_status([&["chakra", "migrate"][..], args].concat(), models());
    assert_eq!(unbound(&["check", "--database", "default"]), 1);
    assert_eq!(unbound(&["make", "--check", "--database", "default"]), 1);
    // `--dir` still wins over the database's folder (an empty one: everything to make).
    std::fs::create_dir_all(work.join("elsewhere")).unwrap();
    assert_eq!(
        run(&[
            "make",
            "--check",
            "--database",
            "default",
            "--dir",
            "elsewhere"
        ]),
        1
    );
    // A model bound to two databases is refused; so is an unknown name.
    let twice: Bindings = [("PdEvent".to_owned(), "default".to_owned())].into();
    let code2 = exit_status_bound(
        [
            "chakra",
            "migrate",
            "make",
            "--check",
            "--database",
            "analytics",
        ],
        models(),
        &twice,
    );
    assert_eq!(code2, 1);
    assert_eq!(run(&["make", "--check", "--database", "analytcs"]), 1);
    let _ = std::fs::remove_dir_all(&work);
}
