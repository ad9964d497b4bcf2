//! Enum fields in migrations (issue 24): declared once in a migration file with their stored
//! values, a column the database itself holds to those values (a native enum type on
//! PostgreSQL, a text column with a CHECK on SQLite), a value added by an `AlterField` on a
//! table that already has rows and rolled back, a migration adding a value and using it
//! refused, and the type's values checked for drift.

mod common;

use chakra::dsl::ValueType;
use chakra::migrate::{Migrator, RollbackTarget};
use chakra::Pool;
use common::migrations::migration_dir;
use common::{TestDb, BOTH};
use std::path::Path;

const INITIAL: &str = r#"[migration]
id = "0001_initial"
app = "tickets"
dependencies = []

[[operations]]
type = "CreateModel"
name = "Ticket"
table = "tickets"

[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true

[[operations.fields]]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed"]
default = "open"
"#;

const ADD_VALUE: &str = r#"[migration]
id = "0002_status_on_hold"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "AlterField"
table = "tickets"

[operations.field]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed", "on hold"]
default = "open"
"#;

async fn statuses(pool: &Pool) -> Vec<String> {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &["SELECT CAST(status AS TEXT) FROM tickets ORDER BY id"],
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

/// Applies the folder, then checks that the database matches the history (`check`).
async fn migrate(pool: &Pool, dir: &Path) {
    let m = Migrator::from_dir(pool.clone(), dir).unwrap();
    m.apply(None).await.unwrap();
    let drift = m.check_database().await.unwrap();
    assert!(drift.is_empty(), "{:?}: {drift:#?}", pool.dialect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enum_column_holds_only_its_values_and_gains_one_with_rows_in_place() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir("enums", &[("tickets/0001_initial.toml", INITIAL)]);
        migrate(&pool, &dir).await;
        pool.batch_execute(
            "INSERT INTO tickets (status) VALUES ('open'), ('closed'); \
             INSERT INTO tickets DEFAULT VALUES",
        )
        .await
        .unwrap();
        assert_eq!(statuses(&pool).await, ["open", "closed", "open"], "{d:?}");
        // The database refuses what the enum does not hold, even from raw SQL.
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('on hold')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains(refusal(d)), "{d:?}: {e}");

        std::fs::write(dir.join("tickets/0002_status_on_hold.toml"), ADD_VALUE).unwrap();
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO tickets (status) VALUES ('on hold')")
            .await
            .unwrap();
        assert_eq!(
            statuses(&pool).await,
            ["open", "closed", "open", "on hold"],
            "{d:?}: the rows survive the new value"
        );
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('Open')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains(refusal(d)), "{d:?}: {e}");
        if d == chakra::Dialect::Postgres {
            // The native type has the values in the declared order (its own order).
            assert_eq!(
                type_values(&pool).await,
                ["open", "closed", "on hold"],
                "the type gained the value in its place"
            );
        }

        // Rolled back with the rows kept: the value goes again (PostgreSQL recreates the type
        // without it, converting the column through its text); a row holding it refuses.
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        let e = m.rollback(&RollbackTarget::Steps(1)).await.unwrap_err();
        assert!(e.to_string().contains("on hold"), "{d:?}: {e}");
        assert_eq!(
            statuses(&pool).await,
            ["open", "closed", "open", "on hold"],
            "{d:?}: a refused rollback changes nothing"
        );
        pool.batch_execute("DELETE FROM tickets WHERE status = 'on hold'")
            .await
            .unwrap();
        m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert_eq!(statuses(&pool).await, ["open", "closed", "open"], "{d:?}");
        assert!(m.check_database().await.unwrap().is_empty(), "{d:?}");
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('on hold')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains(refusal(d)), "{d:?}: {e}");
        pool.batch_execute("INSERT INTO tickets DEFAULT VALUES")
            .await
            .unwrap();
        assert_eq!(
            statuses(&pool).await,
            ["open", "closed", "open", "open"],
            "{d:?}: the default kept"
        );
        if d == chakra::Dialect::Postgres {
            assert_eq!(type_values(&pool).await, ["open", "closed"]);
            // Applied again after the rollback: the value comes back.
            migrate(&pool, &dir).await;
            assert_eq!(type_values(&pool).await, ["open", "closed", "on hold"]);
            // A value added to the type behind Chakra's back is drift, named.
            pool.batch_execute("ALTER TYPE ticket_status ADD VALUE 'archived'")
                .await
                .unwrap();
            let drift = m.check_database().await.unwrap();
            assert!(
                drift
                    .iter()
                    .any(|x| x.contains("enum type ticket_status") && x.contains("archived")),
                "{drift:#?}"
            );
        }
    }
}

/// What the database says when a value is not the enum's: the native type's name on
/// PostgreSQL, the CHECK's name on SQLite.
fn refusal(d: chakra::Dialect) -> &'static str {
    match d {
        chakra::Dialect::Postgres => "enum ticket_status",
        _ => "tickets_status_enum",
    }
}

/// PostgreSQL: the values of the type `ticket_status`, in its order (the catalog's).
async fn type_values(pool: &Pool) -> Vec<String> {
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[
            "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
           WHERE t.typname = 'ticket_status' ORDER BY e.enumsortorder",
        ],
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

#[test]
fn a_bad_enum_declaration_is_refused_with_its_line() {
    let bad = INITIAL.replace(r#"["open", "closed"]"#, r#"["open", "open"]"#);
    let dir = migration_dir("enums_bad", &[("tickets/0001_initial.toml", &bad)]);
    let e = chakra::migrate::loader::load_dir(&dir)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("repeats the value \"open\"") && e.contains(":21"),
        "{e}"
    );
}

const RENAME: &str = r#"[migration]
id = "0002_rename"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "RenameField"
table = "tickets"
name = "status"
new_name = "state"

[[operations]]
type = "RenameModel"
table = "tickets"
new_table = "issues"
new_name = "Issue"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_an_enum_field_or_its_table_renames_its_check() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir(
            "enums_rename",
            &[
                ("tickets/0001_initial.toml", INITIAL),
                ("tickets/0002_rename.toml", RENAME),
            ],
        );
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO issues (state) VALUES ('closed')")
            .await
            .unwrap();
        let e = pool
            .batch_execute("INSERT INTO issues (state) VALUES ('gone')")
            .await
            .unwrap_err();
        let names = match d {
            chakra::Dialect::Postgres => "enum ticket_status",
            _ => "issues_state_enum",
        };
        assert!(e.to_string().contains(names), "{d:?}: {e}");
    }
}

/// `chakra migrate sql`: on PostgreSQL the type is created before its table and the value
/// added with `ALTER TYPE … ADD VALUE` in its declared place (no CHECK); on SQLite the column
/// is text with its CHECK.
#[test]
fn migrate_sql_shows_the_native_type_on_postgres_and_the_check_on_sqlite() {
    let dir = migration_dir(
        "enums_sql",
        &[
            ("tickets/0001_initial.toml", INITIAL),
            ("tickets/0002_status_on_hold.toml", ADD_VALUE),
        ],
    );
    let sql = |dialect: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_chakra"))
            .args(["migrate", "sql", "--dialect", dialect, "--dir"])
            .arg(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let pg = sql("postgres");
    let create_type = pg
        .find("CREATE TYPE \"ticket_status\" AS ENUM ('open', 'closed');")
        .unwrap_or_else(|| panic!("{pg}"));
    let create_table = pg
        .find("CREATE TABLE \"tickets\" (\"id\" BIGSERIAL PRIMARY KEY, \"status\" \"ticket_status\" NOT NULL DEFAULT 'open')")
        .unwrap_or_else(|| panic!("{pg}"));
    assert!(create_type < create_table, "{pg}");
    assert!(
        pg.contains(
            "ALTER TYPE \"ticket_status\" ADD VALUE IF NOT EXISTS 'on hold' AFTER 'closed';"
        ),
        "{pg}"
    );
    assert!(!pg.contains("CHECK"), "{pg}");
    let lite = sql("sqlite");
    assert!(
        lite.contains(
            "CONSTRAINT \"tickets_status_enum\" CHECK (\"status\" IN ('open', 'closed'))"
        ),
        "{lite}"
    );
    assert!(!lite.contains("CREATE TYPE"), "{lite}");
}

const ADD_AND_USE_DEFAULT: &str = r#"[migration]
id = "0002_status_on_hold"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "AlterField"
table = "tickets"

[operations.field]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed", "on hold"]
default = "on hold"
"#;

const ADD_AND_USE_SQL: &str = r#"[migration]
id = "0002_status_on_hold"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "AlterField"
table = "tickets"

[operations.field]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed", "on hold"]
default = "open"

[[operations]]
type = "RunSQL"
sql = "UPDATE tickets SET status = 'on hold' WHERE status = 'closed'"
reverse_sql = "UPDATE tickets SET status = 'closed' WHERE status = 'on hold'"
"#;

/// PostgreSQL cannot use an enum value in the transaction that added it: a migration adding a
/// value and using it (as a default, in a `RunSQL`) is refused before anything runs, naming
/// the type, the value and the use; the database is left as it was. SQLite (a CHECK, rebuilt)
/// applies the same migrations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_adding_an_enum_value_and_using_it_is_refused_on_postgres() {
    for (tag, second, use_) in [
        (
            "default",
            ADD_AND_USE_DEFAULT,
            "the default of tickets.status",
        ),
        ("runsql", ADD_AND_USE_SQL, "a RunSQL operation"),
    ] {
        for d in BOTH {
            let db = TestDb::new(d).await;
            let pool = db.pool().await;
            let dir = migration_dir(
                &format!("enums_use_{tag}"),
                &[("tickets/0001_initial.toml", INITIAL)],
            );
            migrate(&pool, &dir).await;
            pool.batch_execute("INSERT INTO tickets (status) VALUES ('closed')")
                .await
                .unwrap();
            std::fs::write(dir.join("tickets/0002_status_on_hold.toml"), second).unwrap();
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            let applied = m.apply(None).await;
            if d == chakra::Dialect::Sqlite {
                applied.unwrap();
                assert!(m.check_database().await.unwrap().is_empty());
                continue;
            }
            let e = applied.unwrap_err().to_string();
            assert!(
                e.contains("0002_status_on_hold")
                    && e.contains("ticket_status")
                    && e.contains("\"on hold\"")
                    && e.contains(use_)
                    && e.contains("migration of its own"),
                "{tag}: {e}"
            );
            assert_eq!(type_values(&pool).await, ["open", "closed"], "{tag}");
            assert_eq!(statuses(&pool).await, ["closed"], "{tag}");
            // Split as the message says, or run without a transaction (`atomic = false`:
            // each statement commits before the next), it applies.
            let non_atomic = second.replacen(
                "app = \"tickets\"\n",
                "app = \"tickets\"\natomic = false\n",
                1,
            );
            std::fs::write(dir.join("tickets/0002_status_on_hold.toml"), non_atomic).unwrap();
            let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
            m.apply(None).await.unwrap();
            assert!(m.check_database().await.unwrap().is_empty(), "{tag}");
            assert_eq!(type_values(&pool).await, ["open", "closed", "on hold"]);
        }
    }
}

/// A PostgreSQL database built by an earlier version (the enum column as text with its CHECK,
/// no type): `check` says which form it found and what the history says, naming the column
/// and the type, never a silent match; converted by the documented statements, it agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_text_and_check_form_of_earlier_versions() {
    let db = TestDb::new(chakra::Dialect::Postgres).await;
    let pool = db.pool().await;
    let dir = migration_dir("enums_old_form", &[("tickets/0001_initial.toml", INITIAL)]);
    migrate(&pool, &dir).await;
    // Back to the form earlier versions created, with a row.
    pool.batch_execute(
        "ALTER TABLE tickets ALTER COLUMN status DROP DEFAULT; \
         ALTER TABLE tickets ALTER COLUMN status TYPE TEXT USING status::text; \
         ALTER TABLE tickets ALTER COLUMN status SET DEFAULT 'open'; \
         ALTER TABLE tickets ADD CONSTRAINT tickets_status_enum \
         CHECK (status IN ('open', 'closed')); DROP TYPE ticket_status; \
         INSERT INTO tickets (status) VALUES ('closed')",
    )
    .await
    .unwrap();
    let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
    let drift = m.check_database().await.unwrap();
    assert!(
        drift.iter().any(|x| x.contains("column tickets.status")
            && x.contains("text-and-CHECK form")
            && x.contains("native enum type ticket_status")),
        "{drift:#?}"
    );
    assert!(
        drift
            .iter()
            .any(|x| x.contains("enum type ticket_status is missing")),
        "{drift:#?}"
    );
    // The conversion docs/migrations.md shows.
    pool.batch_execute(
        "BEGIN; CREATE TYPE \"ticket_status\" AS ENUM ('open', 'closed'); \
         ALTER TABLE \"tickets\" DROP CONSTRAINT \"tickets_status_enum\"; \
         ALTER TABLE \"tickets\" ALTER COLUMN \"status\" DROP DEFAULT; \
         ALTER TABLE \"tickets\" ALTER COLUMN \"status\" TYPE \"ticket_status\" \
         USING \"status\"::\"ticket_status\"; \
         ALTER TABLE \"tickets\" ALTER COLUMN \"status\" SET DEFAULT 'open'; COMMIT",
    )
    .await
    .unwrap();
    assert!(m.check_database().await.unwrap().is_empty());
    assert_eq!(statuses(&pool).await, ["closed"]);
}

fn mig(id: &str, dep: Option<&str>, ops: &str) -> String {
    let deps = match dep {
        Some(d) => format!("[[\"tickets\", \"{d}\"]]"),
        None => "[]".to_owned(),
    };
    format!("[migration]\nid = \"{id}\"\napp = \"tickets\"\ndependencies = {deps}\n{ops}")
}

const ENUM_FIELD: &str =
    "type = \"Enum\"\nenum = \"ticket_status\"\nvalues = [\"open\", \"closed\"]\n";

/// The native type's life through the operations that create and drop its columns, applied one
/// migration at a time on PostgreSQL and SQLite with rows, `check` clean after each, then
/// rolled back to nothing: a text column altered to the enum (the type created first, the rows
/// converted), a second table sharing the type, the first table deleted (the type kept for the
/// second), the second's field removed (the type dropped with its last column); rolled back,
/// each step undone the same way. The type's presence is read from the catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_type_follows_its_columns_through_alter_create_delete_and_remove() {
    let files = [
        mig(
            "0001_text",
            None,
            "[[operations]]\ntype = \"CreateModel\"\nname = \"Ticket\"\ntable = \"tickets\"\n\
             [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n\
             auto_increment = true\n[[operations.fields]]\nname = \"status\"\ntype = \"Text\"\n",
        ),
        mig(
            "0002_to_enum",
            Some("0001_text"),
            &format!(
                "[[operations]]\ntype = \"AlterField\"\ntable = \"tickets\"\n\
                 [operations.field]\nname = \"status\"\n{ENUM_FIELD}"
            ),
        ),
        mig(
            "0003_notes",
            Some("0002_to_enum"),
            &format!(
                "[[operations]]\ntype = \"CreateModel\"\nname = \"Note\"\ntable = \"notes\"\n\
                 [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n\
                 auto_increment = true\n[[operations.fields]]\nname = \"state\"\n{ENUM_FIELD}\
                 nullable = true\n"
            ),
        ),
        mig(
            "0004_drop_tickets",
            Some("0003_notes"),
            "[[operations]]\ntype = \"DeleteModel\"\ntable = \"tickets\"\n",
        ),
        mig(
            "0005_remove_state",
            Some("0004_drop_tickets"),
            "[[operations]]\ntype = \"RemoveField\"\ntable = \"notes\"\nname = \"state\"\n",
        ),
    ];
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir("enums_life", &[]);
        let has_type = || {
            let pool = pool.clone();
            async move {
                d != chakra::Dialect::Postgres
                    || common::migrations::count(
                        &pool,
                        "SELECT count(*) FROM pg_type WHERE typname = 'ticket_status'",
                    )
                    .await
                        == 1
            }
        };
        let step = |n: usize| {
            std::fs::write(
                dir.join("tickets").join(format!(
                    "{}.toml",
                    files[n].lines().nth(1).unwrap().split('"').nth(1).unwrap()
                )),
                &files[n],
            )
            .unwrap();
        };
        std::fs::create_dir_all(dir.join("tickets")).unwrap();
        step(0);
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO tickets (status) VALUES ('open'), ('closed')")
            .await
            .unwrap();
        step(1);
        migrate(&pool, &dir).await;
        assert!(has_type().await, "{d:?}: created with the column");
        assert_eq!(statuses(&pool).await, ["open", "closed"], "{d:?}");
        step(2);
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO notes (state) VALUES ('closed'), (NULL)")
            .await
            .unwrap();
        step(3);
        migrate(&pool, &dir).await;
        assert!(has_type().await, "{d:?}: kept for notes.state");
        step(4);
        migrate(&pool, &dir).await;
        if d == chakra::Dialect::Postgres {
            assert!(!has_type().await, "dropped with its last column");
        }
        // Back, one migration at a time, `check` clean after each.
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        for (left, typed) in [(4, true), (3, true), (2, true), (1, false)] {
            m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
            let drift = m.check_database().await.unwrap();
            assert!(
                drift.is_empty(),
                "{d:?} after undoing to {left}: {drift:#?}"
            );
            if d == chakra::Dialect::Postgres {
                assert_eq!(has_type().await, typed, "after undoing to {left}");
            }
        }
    }
}

/// Rolling back a migration that removed a value the default was: the rollback puts the value
/// back and the default uses it in one transaction, which `ALTER TYPE … ADD VALUE` cannot
/// serve, so the type is recreated instead (rows kept); the default works again. Both
/// backends; the type's values from the catalog on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_putting_back_a_value_its_default_uses_recreates_the_type() {
    let first = mig(
        "0001_initial",
        None,
        "[[operations]]\ntype = \"CreateModel\"\nname = \"Ticket\"\ntable = \"tickets\"\n\
         [[operations.fields]]\nname = \"id\"\ntype = \"BigInteger\"\nprimary_key = true\n\
         auto_increment = true\n[[operations.fields]]\nname = \"status\"\ntype = \"Enum\"\n\
         enum = \"ticket_status\"\nvalues = [\"open\", \"closed\", \"on hold\"]\n\
         default = \"on hold\"\n",
    );
    let second = mig(
        "0002_no_hold",
        Some("0001_initial"),
        "[[operations]]\ntype = \"AlterField\"\ntable = \"tickets\"\n[operations.field]\n\
         name = \"status\"\ntype = \"Enum\"\nenum = \"ticket_status\"\n\
         values = [\"open\", \"closed\"]\ndefault = \"open\"\n",
    );
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir(
            "enums_back",
            &[
                ("tickets/0001_initial.toml", &first),
                ("tickets/0002_no_hold.toml", &second),
            ],
        );
        migrate(&pool, &dir).await;
        pool.batch_execute(
            "INSERT INTO tickets DEFAULT VALUES; INSERT INTO tickets (status) VALUES ('closed')",
        )
        .await
        .unwrap();
        let m = Migrator::from_dir(pool.clone(), &dir).unwrap();
        m.rollback(&RollbackTarget::Steps(1)).await.unwrap();
        assert!(m.check_database().await.unwrap().is_empty(), "{d:?}");
        pool.batch_execute("INSERT INTO tickets DEFAULT VALUES")
            .await
            .unwrap();
        assert_eq!(
            statuses(&pool).await,
            ["open", "closed", "on hold"],
            "{d:?}: rows kept, the default back"
        );
        if d == chakra::Dialect::Postgres {
            assert_eq!(type_values(&pool).await, ["open", "closed", "on hold"]);
        }
    }
}

const PARTIAL_INDEX: &str = r#"[migration]
id = "0002_open_index"
app = "tickets"
dependencies = [["tickets", "0001_initial"]]

[[operations]]
type = "AddIndex"
table = "tickets"
name = "tickets_open"
columns = ["id"]
unique = true
condition = { status = "open" }

[[operations]]
type = "AddIndex"
table = "tickets"
name = "tickets_open_or_closed"
columns = ["id"]
condition = { status__in = ["open", "closed"] }

[[operations]]
type = "AddConstraint"
table = "tickets"
name = "tickets_not_closed"
kind = "check"
condition = { status__in = ["open"] }
"#;

/// Index predicates and CHECKs on an enum column apply (PostgreSQL refuses a subquery or a
/// non-immutable cast there, so DDL compares the column with literals), `check` finds no
/// drift, and the CHECK holds: a `closed` row is refused, an `open` one stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_indexes_and_checks_on_an_enum_column_apply() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let dir = migration_dir(
            "enum_partial",
            &[
                ("tickets/0001_initial.toml", INITIAL),
                ("tickets/0002_open_index.toml", PARTIAL_INDEX),
            ],
        );
        migrate(&pool, &dir).await;
        pool.batch_execute("INSERT INTO tickets (status) VALUES ('open')")
            .await
            .unwrap();
        let e = pool
            .batch_execute("INSERT INTO tickets (status) VALUES ('closed')")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("tickets_not_closed"), "{d:?}: {e}");
        assert_eq!(statuses(&pool).await, ["open"], "{d:?}");
    }
}
