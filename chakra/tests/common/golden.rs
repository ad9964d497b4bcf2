//! The shared front-door golden files (`tests/front_doors/*.json`): a test writes the cases it
//! compiled, the Python package's test reads them. `CHAKRA_BLESS=1` rewrites a file; otherwise
//! the committed file must equal what the test built.

/// Compares `cases` with `tests/front_doors/<file>` (rewritten under `CHAKRA_BLESS=1`); `test`
/// names the test binary in the message that says how to regenerate it.
pub fn check(file: &str, cases: &serde_json::Value, test: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/front_doors")
        .join(file);
    let text = serde_json::to_string_pretty(cases).unwrap() + "\n";
    if std::env::var_os("CHAKRA_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is out of date; regenerate with CHAKRA_BLESS=1 cargo test -p chakra --test {test}",
        path.display()
    );
}
