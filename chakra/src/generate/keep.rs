//! The hand-written parts of a generated Python module, carried into the regenerated one:
//! the lines between `# chakra: keep <Name>` and `# chakra: end keep` (one region per
//! class, named after it) and everything after `# chakra: keep below`. A region whose name
//! the new module no longer has, if it holds anything, is an error naming it: its code would
//! otherwise be lost (move it out, then regenerate). Markers are matched on their trimmed
//! line.

use crate::migrate::{MResult, MigrationError};
use std::collections::BTreeMap;

const START: &str = "# chakra: keep ";
const END: &str = "# chakra: end keep";
const BELOW: &str = "# chakra: keep below";

/// A module's keep regions (name → the lines inside) and its text after `keep below`.
#[derive(Debug, Default, PartialEq)]
pub struct Regions {
    /// Named regions, their inner lines (each with its line ending).
    pub named: BTreeMap<String, String>,
    /// What follows the `keep below` marker line.
    pub below: Option<String>,
}

/// Reads the regions of `text`; `what` names the file in errors.
pub fn regions(text: &str, what: &str) -> MResult<Regions> {
    let mut r = Regions::default();
    let mut open: Option<(String, usize, String)> = None;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim();
        let lineno = n + 1;
        if t == BELOW {
            if let Some((name, at, _)) = &open {
                return Err(MigrationError::new(format!(
                    "{what}:{lineno}: `{BELOW}` inside the keep region {name:?} opened at line {at}"
                )));
            }
            r.below = Some(text[offset + line.len()..].to_owned());
            return Ok(r);
        }
        if let Some(name) = t.strip_prefix(START) {
            if let Some((open_name, at, _)) = &open {
                return Err(MigrationError::new(format!(
                    "{what}:{lineno}: keep region {name:?} opened inside {open_name:?} (line {at}); close it with `{END}`"
                )));
            }
            open = Some((name.trim().to_owned(), lineno, String::new()));
        } else if t == END {
            let Some((name, _, body)) = open.take() else {
                return Err(MigrationError::new(format!(
                    "{what}:{lineno}: `{END}` without a `{START}<Name>` before it"
                )));
            };
            if r.named.insert(name.clone(), body).is_some() {
                return Err(MigrationError::new(format!(
                    "{what}:{lineno}: a second keep region {name:?}"
                )));
            }
        } else if let Some((_, _, body)) = &mut open {
            body.push_str(line);
        }
        offset += line.len();
    }
    if let Some((name, at, _)) = open {
        return Err(MigrationError::new(format!(
            "{what}:{at}: the keep region {name:?} is not closed (`{END}`)"
        )));
    }
    Ok(r)
}

/// `fresh` (a newly generated module) with the regions of `old` (the file it replaces) put
/// back.
pub fn carry(old: &str, fresh: &str) -> MResult<String> {
    let kept = regions(old, "the existing file")?;
    let fresh_regions = regions(fresh, "the generated module")?;
    for (name, body) in &kept.named {
        if !fresh_regions.named.contains_key(name) && !body.trim().is_empty() {
            return Err(MigrationError::new(format!(
                "the existing file's keep region {name:?} holds code, but the regenerated module has no class {name}: move that code out of the region (or below `{BELOW}`), then regenerate"
            )));
        }
    }
    let mut out = String::with_capacity(fresh.len() + old.len());
    let mut lines = fresh.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let t = line.trim();
        out.push_str(line);
        if t == BELOW {
            if let Some(below) = &kept.below {
                out.push_str(below);
            }
            break;
        }
        if let Some(name) = t.strip_prefix(START) {
            if let Some(body) = kept.named.get(name.trim()) {
                // Skip the fresh region's own (empty) body, keep its end marker.
                for inner in lines.by_ref() {
                    if inner.trim() == END {
                        out.push_str(body);
                        out.push_str(inner);
                        break;
                    }
                    out.push_str(inner);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: &str = "class A(Model):\n    x = 1\n\n    # chakra: keep A\n    # chakra: end keep\n\n\n# chakra: keep below\n";

    #[test]
    fn regions_and_below_are_carried_over() {
        let old = "class A(Model):\n    y = 2\n\n    # chakra: keep A\n    def hello(self) -> str:\n        return \"hi\"\n    # chakra: end keep\n\n\n# chakra: keep below\nVALUE = 3\n";
        let out = carry(old, FRESH).unwrap();
        assert_eq!(
            out,
            "class A(Model):\n    x = 1\n\n    # chakra: keep A\n    def hello(self) -> str:\n        return \"hi\"\n    # chakra: end keep\n\n\n# chakra: keep below\nVALUE = 3\n"
        );
        // Carrying again changes nothing.
        assert_eq!(carry(&out, FRESH).unwrap(), out);
    }

    #[test]
    fn a_region_whose_class_is_gone_is_refused_by_name() {
        let old = "    # chakra: keep Gone\n    def f(self) -> None: ...\n    # chakra: end keep\n";
        let e = carry(old, FRESH).unwrap_err().to_string();
        assert!(e.contains("\"Gone\""), "{e}");
        // An empty one is simply dropped.
        let empty = "    # chakra: keep Gone\n    # chakra: end keep\n";
        assert_eq!(carry(empty, FRESH).unwrap(), FRESH);
    }

    #[test]
    fn malformed_regions_are_named_errors() {
        let unclosed = regions("a\n# chakra: keep A\nb\n", "f.py")
            .unwrap_err()
            .to_string();
        assert!(
            unclosed.contains("f.py:2") && unclosed.contains("not closed"),
            "{unclosed}"
        );
        let stray = regions("# chakra: end keep\n", "f.py")
            .unwrap_err()
            .to_string();
        assert!(stray.contains("f.py:1"), "{stray}");
        let nested = regions("# chakra: keep A\n# chakra: keep B\n", "f.py")
            .unwrap_err()
            .to_string();
        assert!(
            nested.contains("\"B\"") && nested.contains("\"A\""),
            "{nested}"
        );
    }
}
