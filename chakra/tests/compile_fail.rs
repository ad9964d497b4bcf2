//! Compile-fail tests: the typed DSL and `#[derive(Model)]` reject what they must, with
//! readable errors. One file per rule under `tests/ui/`, named as the rule, with the expected
//! compiler output committed beside it (`TRYBUILD=overwrite` regenerates it).

#[test]
fn typed_dsl_rejects_what_it_must() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
