//! Tests of the native enum DDL's planning and statement text (the statements are run on
//! PostgreSQL by `chakra/tests/pg_enum_ddl.rs`).

use super::*;

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

fn after(value: &str, x: &str) -> AddValue {
    AddValue {
        value: value.into(),
        place: Place::After(x.into()),
    }
}

#[test]
fn added_values_are_placed_in_declared_order() {
    assert_eq!(change(&v(&["a", "b"]), &v(&["a", "b"])), EnumChange::Same);
    assert_eq!(
        change(&v(&["a", "b"]), &v(&["a", "b", "c"])),
        EnumChange::Add(vec![after("c", "b")])
    );
    assert_eq!(
        change(&v(&["a", "c"]), &v(&["a", "b", "x", "c", "d"])),
        EnumChange::Add(vec![after("b", "a"), after("x", "b"), after("d", "c")])
    );
    // New values first: the first goes before the current first value, the next after it.
    assert_eq!(
        change(&v(&["c"]), &v(&["a", "b", "c"])),
        EnumChange::Add(vec![
            AddValue {
                value: "a".into(),
                place: Place::Before("c".into())
            },
            after("b", "a"),
        ])
    );
}

#[test]
fn a_removed_or_moved_value_recreates_the_type() {
    assert_eq!(
        change(&v(&["a", "b", "c"]), &v(&["a", "c"])),
        EnumChange::Recreate { removed: v(&["b"]) }
    );
    assert_eq!(
        change(&v(&["a", "b"]), &v(&["b", "a"])),
        EnumChange::Recreate { removed: vec![] }
    );
    assert_eq!(
        change(&v(&["a", "b"]), &v(&["c", "b", "x"])),
        EnumChange::Recreate { removed: v(&["a"]) }
    );
}

#[test]
fn statements_quote_names_and_values() {
    assert_eq!(
        create_type("ticket status", &v(&["open", "it's"])).unwrap(),
        r#"CREATE TYPE "ticket status" AS ENUM ('open', 'it''s')"#
    );
    assert_eq!(drop_type("s").unwrap(), r#"DROP TYPE IF EXISTS "s""#);
    assert_eq!(
        add_values(
            "s",
            &[
                AddValue {
                    value: "a'".into(),
                    place: Place::Before("b".into())
                },
                after("c", "a'")
            ]
        )
        .unwrap(),
        [
            r#"ALTER TYPE "s" ADD VALUE IF NOT EXISTS 'a''' BEFORE 'b'"#,
            r#"ALTER TYPE "s" ADD VALUE IF NOT EXISTS 'c' AFTER 'a'''"#,
        ]
    );
    assert_eq!(
        recreate(
            "s",
            &v(&["a"]),
            &[
                EnumColumn {
                    table: "t".into(),
                    column: "c".into(),
                    default: Some("a".into())
                },
                EnumColumn {
                    table: "u".into(),
                    column: "d".into(),
                    default: None
                }
            ]
        )
        .unwrap(),
        [
            r#"ALTER TYPE "s" RENAME TO "s__chakra_old""#,
            r#"CREATE TYPE "s" AS ENUM ('a')"#,
            r#"ALTER TABLE "t" ALTER COLUMN "c" DROP DEFAULT"#,
            r#"ALTER TABLE "t" ALTER COLUMN "c" TYPE "s" USING "c"::text::"s""#,
            r#"ALTER TABLE "t" ALTER COLUMN "c" SET DEFAULT 'a'"#,
            r#"ALTER TABLE "u" ALTER COLUMN "d" TYPE "s" USING "d"::text::"s""#,
            r#"DROP TYPE "s__chakra_old""#,
        ]
    );
}

#[test]
fn bad_names_are_refused_and_the_aside_name_fits() {
    let e = create_type("a\"b\0", &v(&["x"])).unwrap_err().to_string();
    assert!(e.contains("identifier"), "{e}");
    assert!(drop_type("").is_err());
    let long = "é".repeat(31); // 62 bytes
    let aside = aside_name(&long);
    assert!(
        aside.len() <= 63 && aside.ends_with("__chakra_old"),
        "{aside}"
    );
    assert!(ident::validate(&aside).is_ok());
    assert_eq!(aside_name("s"), "s__chakra_old");
}
