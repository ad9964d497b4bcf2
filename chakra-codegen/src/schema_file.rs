//! Reading the crate's `schema.rs` at expansion time, so a field whose column it lacks gets
//! an error saying how to add it (instead of a bare "cannot find type"). Best effort: the
//! module path `crate::a::schema::users` is looked up in `src/a/schema.rs` (or
//! `src/a/schema/mod.rs`) under `CARGO_MANIFEST_DIR`; anything else (a `#[path]` module, an
//! inline one) leaves the compiler's own check to speak.

use std::path::PathBuf;
use syn::ext::IdentExt;

/// The file (as written in the message) and the columns of the table module `path` names,
/// when its file can be read.
pub fn columns_of(path: &syn::Path) -> Option<(String, Vec<String>)> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let (first, rest) = segs.split_first()?;
    if first != "crate" || rest.len() < 2 {
        return None;
    }
    let (table, modules) = rest.split_last()?;
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?).join("src");
    let stem = modules.join("/");
    for rel in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
        let file = root.join(&rel);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let parsed = syn::parse_file(&text).ok()?;
        let columns = parsed.items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == table.as_str() => {
                m.content.as_ref().map(|(_, items)| {
                    items
                        .iter()
                        .filter_map(|i| match i {
                            syn::Item::Type(t) => Some(t.ident.unraw().to_string()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                })
            }
            _ => None,
        })?;
        return Some((format!("src/{rel}"), columns));
    }
    None
}
