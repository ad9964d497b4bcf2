//! Every migration operation on MariaDB, one migration each: after each `apply` the
//! database has what the operation says (read from `information_schema`, by hand-written
//! queries) and `check` finds no drift; rolling each back gives exactly the schema before it,
//! and applying again the schema after it. Rows survive the renames and type changes.

mod common;

use chakra::migrate::{Migrator, RollbackTarget};
use chakra::Pool;
use common::migrations::{count, migration_dir, SEED};
use common::TestDb;

fn m(id: &str, dep: &str, ops: &str) -> String {
    format!(
        "[migration]\nid = \"{id}\"\napp = \"users\"\ndependencies = [[\"users\", \"{dep}\"]]\n\n{ops}"
    )
}

const TICKETS: &str = r#"[[operations]]
type = "CreateModel"
name = "Ticket"
table = "tickets"
[[operations.fields]]
name = "id"
type = "BigInteger"
primary_key = true
auto_increment = true
[[operations.fields]]
name = "owner_id"
type = "BigInteger"
references = { table = "users", column = "id", on_delete = "CASCADE" }
[[operations.fields]]
name = "status"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed"]
default = "open"
[[operations.fields]]
name = "title"
type = "String"
max_length = 100
unique = true
[[operations.fields]]
name = "note"
type = "Text"
nullable = true
"#;

const RENAME_FIELDS: &str = r#"[[operations]]
type = "RenameField"
table = "tickets"
name = "owner_id"
new_name = "author_id"

[[operations]]
type = "RenameField"
table = "tickets"
name = "status"
new_name = "state"

[[operations]]
type = "RenameField"
table = "tickets"
name = "title"
new_name = "headline"
"#;

const RENAME_TABLE: &str = r#"[[operations]]
type = "RenameModel"
table = "tickets"
new_table = "issues"
new_name = "Issue"
"#;

const ALTER: &str = r#"[[operations]]
type = "AlterField"
table = "issues"
[operations.field]
name = "note"
type = "String"
max_length = 200
default = "none"

[[operations]]
type = "AlterField"
table = "issues"
[operations.field]
name = "headline"
type = "String"
max_length = 100
index = true

[[operations]]
type = "AlterField"
table = "issues"
[operations.field]
name = "state"
type = "Enum"
enum = "ticket_status"
values = ["open", "closed", "held"]
default = "open"
"#;

const INDEXES: &str = r#"[[operations]]
type = "AddIndex"
table = "issues"
name = "issues_state_note"
columns = ["state", "note"]

[[operations]]
type = "AddIndex"
table = "issues"
name = "issues_one_headline_state"
columns = ["headline", "state"]
unique = true

[[operations]]
type = "AddConstraint"
table = "issues"
name = "issues_note_headline"
kind = "unique"
columns = ["note", "headline"]

[[operations]]
type = "AddConstraint"
table = "issues"
name = "issues_note_set"
kind = "check"
check = "note <> ''"
"#;

const REMOVE_FK: &str = r#"[[operations]]
type = "RemoveField"
table = "issues"
name = "author_id"

[[operations]]
type = "AddField"
table = "issues"
[operations.field]
name = "score"
type = "Integer"
"#;

const REMOVE: &str = r#"[[operations]]
type = "RemoveIndex"
table = "issues"
name = "issues_state_note"

[[operations]]
type = "RemoveConstraint"
table = "issues"
name = "issues_note_set"

[[operations]]
type = "RemoveField"
table = "issues"
name = "note"

[[operations]]
type = "AddField"
table = "issues"
[operations.field]
name = "reviewer_id"
type = "BigInteger"
nullable = true
references = { table = "users", column = "id", on_delete = "SET NULL" }
"#;

/// The schema as `information_schema` describes it (hand-written, independent of the drift
/// code): columns, index columns, constraints, foreign keys, CHECK clauses.
async fn schema(pool: &Pool) -> Vec<String> {
    let sql = "SELECT table_name || '.' || column_name || ' ' || column_type || ' ' || \
               is_nullable || ' ' || coalesce(column_default, '-') FROM \
               information_schema.columns WHERE table_schema = DATABASE() AND table_name NOT \
               LIKE 'chakra%' \
               UNION ALL SELECT table_name || ' index ' || index_name || ' ' || seq_in_index || \
               ' ' || column_name || ' ' || non_unique FROM information_schema.statistics \
               WHERE table_schema = DATABASE() AND table_name NOT LIKE 'chakra%' \
               UNION ALL SELECT table_name || ' ' || constraint_type || ' ' || constraint_name \
               FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND \
               table_name NOT LIKE 'chakra%' \
               UNION ALL SELECT table_name || ' fk ' || constraint_name || ' -> ' || \
               referenced_table_name || ' ' || delete_rule FROM \
               information_schema.referential_constraints WHERE constraint_schema = DATABASE() \
               UNION ALL SELECT constraint_name || ' ' || check_clause FROM \
               information_schema.check_constraints WHERE constraint_schema = DATABASE() \
               ORDER BY 1";
    let q = chakra::migrate::history::raw(
        pool.dialect(),
        &[sql],
        vec![],
        vec![chakra::dsl::ValueType::Text],
    );
    pool.fetch_compiled(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn has(schema: &[String], line: &str) -> bool {
    schema.iter().any(|s| s.starts_with(line))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_applies_rolls_back_and_applies_again_on_mariadb() {
    let files = [
        ("users/0001_initial.toml", SEED.to_owned()),
        (
            "users/0002_tickets.toml",
            m("0002_tickets", "0001_initial", TICKETS),
        ),
        (
            "users/0003_rename_fields.toml",
            m("0003_rename_fields", "0002_tickets", RENAME_FIELDS),
        ),
        (
            "users/0004_rename_table.toml",
            m("0004_rename_table", "0003_rename_fields", RENAME_TABLE),
        ),
        (
            "users/0005_alter.toml",
            m("0005_alter", "0004_rename_table", ALTER),
        ),
        (
            "users/0006_indexes.toml",
            m("0006_indexes", "0005_alter", INDEXES),
        ),
        (
            "users/0007_remove.toml",
            m("0007_remove", "0006_indexes", REMOVE),
        ),
        (
            "users/0008_remove_fk.toml",
            m("0008_remove_fk", "0007_remove", REMOVE_FK),
        ),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let dir = migration_dir("mysql_ops", &refs);
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let migrator = Migrator::from_dir(pool.clone(), &dir).unwrap();
    let ids: Vec<String> = files
        .iter()
        .map(|(f, _)| format!("users/{}", &f[6..f.len() - 5]))
        .collect();
    migrator.apply(Some(&ids[0])).await.unwrap();
    pool.batch_execute("INSERT INTO users (username) VALUES ('ann'), ('bob')")
        .await
        .unwrap();
    let mut schemas = vec![schema(&pool).await];
    for (i, id) in ids.iter().enumerate().skip(1) {
        if i == 7 {
            // A NOT NULL column without a default on a table with rows fails (MySQL would
            // fill it with 0): the column was added nullable, and apply resumes at making it
            // NOT NULL once the rows have values.
            let e = migrator.apply(Some(id)).await.unwrap_err().to_string();
            assert!(
                e.contains("stay applied") && e.contains("MODIFY COLUMN \"score\""),
                "{e}"
            );
            assert_eq!(
                count(&pool, "SELECT count(*) FROM issues WHERE score IS NULL").await,
                2
            );
            pool.batch_execute("UPDATE issues SET score = 0")
                .await
                .unwrap();
        }
        migrator
            .apply(Some(id))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            migrator.check_database().await.unwrap(),
            Vec::<String>::new(),
            "{id}: no drift"
        );
        let s = schema(&pool).await;
        match i {
            1 => {
                assert!(has(&s, "tickets.status varchar(255) NO 'open'"), "{s:#?}");
                assert!(
                    has(&s, "tickets fk tickets_owner_id_fkey -> users CASCADE"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "tickets_status_enum \"status\" in ('open','closed')"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "tickets index tickets_title_key 1 title 0"),
                    "{s:#?}"
                );
                pool.batch_execute(
                    "INSERT INTO tickets (owner_id, title) VALUES (1, 'one'), (2, 'two')",
                )
                .await
                .unwrap();
                assert!(pool
                    .batch_execute(
                        "INSERT INTO tickets (owner_id, title, status) VALUES (1, 'x', 'held')"
                    )
                    .await
                    .is_err());
            }
            2 => {
                assert!(
                    has(&s, "tickets fk tickets_author_id_fkey -> users CASCADE"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "tickets index tickets_author_id_idx 1 author_id 1"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "tickets index tickets_headline_key 1 headline 0"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "tickets_state_enum \"state\" in ('open','closed')"),
                    "{s:#?}"
                );
            }
            3 => {
                assert!(
                    has(&s, "issues fk issues_author_id_fkey -> users CASCADE"),
                    "{s:#?}"
                );
                assert!(has(&s, "issues_state_enum "), "{s:#?}");
                assert!(!s.iter().any(|l| l.contains("tickets")), "{s:#?}");
            }
            4 => {
                assert!(has(&s, "issues.note varchar(200) NO 'none'"), "{s:#?}");
                assert!(
                    has(&s, "issues index issues_headline_idx 1 headline 1"),
                    "{s:#?}"
                );
                assert!(!has(&s, "issues index issues_headline_key"), "{s:#?}");
                assert!(
                    has(
                        &s,
                        "issues_state_enum \"state\" in ('open','closed','held')"
                    ),
                    "{s:#?}"
                );
                // NULL notes got the new default before the column became NOT NULL.
                assert_eq!(
                    count(&pool, "SELECT count(*) FROM issues WHERE note = 'none'").await,
                    2
                );
            }
            5 => {
                assert!(has(&s, "issues index issues_state_note 2 note 1"), "{s:#?}");
                assert!(
                    has(&s, "issues index issues_one_headline_state 2 state 0"),
                    "{s:#?}"
                );
                assert!(
                    has(&s, "issues index issues_note_headline 2 headline 0"),
                    "{s:#?}"
                );
                assert!(has(&s, "issues_note_set "), "{s:#?}");
            }
            6 => {
                assert!(!has(&s, "issues.note"), "{s:#?}");
                assert!(!has(&s, "issues index issues_note_headline"), "{s:#?}");
                assert!(!has(&s, "issues_note_set "), "{s:#?}");
                assert!(!has(&s, "issues index issues_state_note"), "{s:#?}");
                assert!(
                    has(&s, "issues fk issues_reviewer_id_fkey -> users SET NULL"),
                    "{s:#?}"
                );
            }
            7 => {
                assert!(!has(&s, "issues.author_id"), "{s:#?}");
                assert!(!has(&s, "issues fk issues_author_id_fkey"), "{s:#?}");
                assert!(has(&s, "issues.score int(11) NO -"), "{s:#?}");
            }
            _ => unreachable!(),
        }
        assert_eq!(count(&pool, "SELECT count(*) FROM users").await, 2);
        schemas.push(s);
    }
    // Down, one at a time: each rollback gives the schema before that migration (without
    // rows: putting back the NOT NULL author_id needs an empty table, as on PostgreSQL).
    pool.batch_execute("DELETE FROM issues").await.unwrap();
    for i in (1..ids.len()).rev() {
        migrator
            .rollback(&RollbackTarget::Steps(1))
            .await
            .unwrap_or_else(|e| panic!("rolling back {}: {e}", ids[i]));
        assert_eq!(schema(&pool).await, schemas[i - 1], "down from {}", ids[i]);
        assert_eq!(
            migrator.check_database().await.unwrap(),
            Vec::<String>::new(),
            "after rolling back {}",
            ids[i]
        );
    }
    migrator.apply(None).await.unwrap();
    assert_eq!(schema(&pool).await, schemas[ids.len() - 1], "up again");
    let _ = std::fs::remove_dir_all(dir);
}

/// A RunSQL without `reverse_sql` that declares the indexes it creates is rolled back with
/// `DROP INDEX IF EXISTS "n"` elsewhere; MySQL's `DROP INDEX` names its table, so the
/// rollback is refused by name before anything runs, and the index stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_dropping_an_index_without_its_table_is_refused_by_name() {
    let raw = "[[operations]]\ntype = \"RunSQL\"\nsql = \"CREATE INDEX users_name_raw ON users (username)\"\ncreates = [\"index users_name_raw\"]\n";
    let dir = migration_dir(
        "mysql_raw_index",
        &[
            ("users/0001_initial.toml", SEED),
            ("users/0002_raw.toml", &m("0002_raw", "0001_initial", raw)),
        ],
    );
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let migrator = Migrator::from_dir(pool.clone(), &dir).unwrap();
    migrator.apply(None).await.unwrap();
    assert_eq!(
        migrator.check_database().await.unwrap(),
        Vec::<String>::new()
    );
    let e = migrator
        .rollback(&RollbackTarget::Steps(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("0002_raw") && e.contains("DROP INDEX … ON <table>"),
        "{e}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() \
             AND index_name = 'users_name_raw'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM chakra_migrations").await,
        2
    );
    let _ = std::fs::remove_dir_all(dir);
}
