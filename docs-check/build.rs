//! Writes, from the Rust code blocks of `docs/*.md`:
//! - `$OUT_DIR/pages.rs`: for each page, a module with one async function running the page's
//!   blocks in order, and a test calling it through `chakra_docs_check::run_page`;
//!   Each TOML block becomes a test too: a migration file is parsed by the migration
//!   parser, a `chakra.toml` by the configuration reader (unknown or bad settings fail);
//! - `$OUT_DIR/declarations.rs`: each block declaring models (`#[derive(…Model…)]`), in a
//!   module of its own, and a test building each declared model's metadata. These blocks are
//!   items only; they live in their own test binary because model names are unique within a
//!   binary (relations name their target by model name), and pages declare their own `User`.

use std::fmt::Write as _;
use std::path::Path;

/// A Rust block: where it starts (1-based line) and its lines, unindented, with the hidden
/// `# ` prefix removed.
struct Block {
    line: usize,
    code: String,
    /// Marked `<!-- docs-check: not on mysql: why -->` on the line before the fence.
    not_on_mysql: bool,
}

/// The marker of a block that cannot run on MySQL/MariaDB (the reason follows it).
const NOT_ON_MYSQL: &str = "<!-- docs-check: not on mysql: ";

fn rust_blocks(text: &str) -> Vec<Block> {
    blocks_of(text, "rust")
}

/// The page's code blocks in `language`, unindented (hidden `# ` lines kept for Rust only).
fn blocks_of(text: &str, language: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let all: Vec<&str> = text.lines().collect();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let lang = info.split_whitespace().next().unwrap_or("");
        let mut code = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") && l.trim() == "```" {
                break;
            }
            let l = if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            };
            let l = if language != "rust" {
                l
            } else if l == "#" {
                ""
            } else {
                l.strip_prefix("# ").unwrap_or(l)
            };
            code.push_str(l);
            code.push('\n');
        }
        if lang == language {
            let not_on_mysql = i > 0 && all[i - 1].trim_start().starts_with(NOT_ON_MYSQL);
            out.push(Block {
                line: i + 1,
                code,
                not_on_mysql,
            });
        }
    }
    out
}

/// The models of `src/models.rs`: a block declaring one of these is compiled on its own.
const SUPPORT_MODELS: [&str; 8] = [
    "User", "Profile", "Post", "Tag", "Account", "Thing", "Reading", "Member",
];

/// Whether the block declares models (and so goes to `declarations.rs`).
fn declares_models(code: &str) -> bool {
    code.lines()
        .any(|l| l.trim_start().starts_with("#[derive(") && l.contains("Model"))
}

/// The names of the structs a declaration block declares.
fn struct_names(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("pub ")
                .unwrap_or(l)
                .strip_prefix("struct ")?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

fn main() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    println!("cargo:rerun-if-changed={}", docs.display());
    let mut pages: Vec<_> = std::fs::read_dir(&docs)
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    let mut out = String::new();
    let mut decls = String::new();
    for page in pages {
        println!("cargo:rerun-if-changed={}", page.display());
        let text = std::fs::read_to_string(&page).unwrap();
        let file = page.file_name().unwrap().to_str().unwrap().to_owned();
        let stem = file.trim_end_matches(".md").replace(['-', '.'], "_");
        for b in blocks_of(&text, "toml") {
            let check = if b.code.contains("[migration]") {
                "chakra::migrate::format::parse_migration(TEXT, WHERE).map(|_| ())"
            } else if b.code.contains("[database]") {
                "chakra::config::PoolSettings::from_toml(TEXT).map(|_| ())"
            } else if b.code.contains("[databases.") {
                "chakra::databases::settings::from_toml(TEXT).map(|_| ())"
            } else {
                panic!("docs/{file}:{}: a TOML block that is neither a migration ([migration]) nor a chakra.toml ([database], [databases.NAME])", b.line)
            };
            writeln!(
                out,
                "#[test]\nfn {stem}_toml_{}() {{\n    const TEXT: &str = {:?};\n    const WHERE: &str = \"docs/{file}:{}\";\n    if let Err(e) = {check} {{\n        panic!(\"{{WHERE}}: {{e}}\");\n    }}\n}}\n",
                b.line, b.code, b.line
            )
            .unwrap();
        }
        let all = rust_blocks(&text);
        let declarations: Vec<&Block> = all.iter().filter(|b| declares_models(&b.code)).collect();
        // A declaration of new models also runs in the page (the blocks after it use them);
        // one redeclaring a model of `chakra_docs_check::models` is compiled on its own only.
        let blocks: Vec<&Block> = all
            .iter()
            .filter(|b| {
                !declares_models(&b.code)
                    || struct_names(&b.code)
                        .iter()
                        .all(|n| !SUPPORT_MODELS.contains(&n.as_str()))
            })
            .collect();
        for b in declarations {
            let module = format!("{stem}_{}", b.line);
            writeln!(decls, "/// docs/{file}:{}\n#[allow(unused, clippy::all)]\nmod decl_{module} {{\n    use chakra::prelude::*;\n    use chakra_docs_check::models::*;", b.line).unwrap();
            decls.push_str(&b.code);
            writeln!(decls, "}}\n#[test]\nfn {module}() {{").unwrap();
            for name in struct_names(&b.code) {
                writeln!(
                    decls,
                    "    let _ = <decl_{module}::{name} as chakra::Model>::meta();"
                )
                .unwrap();
            }
            writeln!(decls, "}}\n").unwrap();
        }
        if blocks.is_empty() {
            continue;
        }
        writeln!(out, "/// The Rust blocks of docs/{file}, in order.").unwrap();
        writeln!(out, "#[allow(unused, clippy::all, clippy::pedantic)]").unwrap();
        writeln!(out, "mod page_{stem} {{").unwrap();
        writeln!(out, "    use chakra_docs_check::prelude::*;").unwrap();
        writeln!(
            out,
            "    pub async fn run(pool: Pool, database_url: String) -> Result<(), chakra_docs_check::BoxError> {{"
        )
        .unwrap();
        for b in &blocks {
            writeln!(out, "// docs/{file}:{}", b.line).unwrap();
            out.push_str(&b.code);
        }
        writeln!(
            out,
            "        #[allow(unreachable_code)]\n        Ok(())\n    }}"
        )
        .unwrap();
        // The page without its blocks marked `not on mysql`, when it has any.
        let run_mysql = if blocks.iter().any(|b| b.not_on_mysql) {
            writeln!(
                out,
                "    pub async fn run_mysql(pool: Pool, database_url: String) -> Result<(), chakra_docs_check::BoxError> {{"
            )
            .unwrap();
            for b in blocks.iter().filter(|b| !b.not_on_mysql) {
                writeln!(out, "// docs/{file}:{}", b.line).unwrap();
                out.push_str(&b.code);
            }
            writeln!(
                out,
                "        #[allow(unreachable_code)]\n        Ok(())\n    }}"
            )
            .unwrap();
            "run_mysql"
        } else {
            "run"
        };
        writeln!(out, "}}").unwrap();
        writeln!(
            out,
            "#[test]\nfn {stem}_md() {{\n    chakra_docs_check::run_page({file:?}, page_{stem}::run, page_{stem}::{run_mysql});\n}}\n"
        )
        .unwrap();
    }
    let dir = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&dir).join("pages.rs"), out).unwrap();
    std::fs::write(Path::new(&dir).join("declarations.rs"), decls).unwrap();
}
