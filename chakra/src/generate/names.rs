//! Names for generated code: one identifier per field or relation that is safe in both
//! languages (so the Rust and Python models of a table declare the same field names, and
//! both describe the same migration state), and model names from table names.
//!
//! A name that is a keyword in either language, or that a model already uses (`save`,
//! `query`, `objects`, the type names the generated Python module's annotations read), gets
//! a trailing `_` (`type` → `type_`); the generated field then names its column (`column =
//! "type"`), so the table is unchanged. Two names that come out the same are told apart by
//! more trailing `_`, the earlier one (in table order) keeping the shorter name.

use std::collections::BTreeSet;

/// Rust's strict and reserved keywords (2024 edition), and the path keywords.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Python's keywords and soft keywords (a soft keyword is a legal attribute name, but
/// `match`/`case`/`type` as field names read badly and `type` shadows the builtin).
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Names a model class or struct already has (methods of `chakra.Model` and the Rust
/// `Model` trait, whose column accessors share the namespace), and the names the generated
/// Python module reads inside class bodies (a field named `int` would shadow the `int` of
/// the annotations after it).
const TAKEN: &[&str] = &[
    // chakra.Model (Python)
    "objects",
    "pk",
    "save",
    "save_sync",
    "delete",
    "delete_sync",
    "refresh_from_db",
    "refresh_from_db_sync",
    "clean",
    "full_clean",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "fetch_related",
    "fetch_related_sync",
    "Meta",
    // chakra::Model (Rust)
    "meta",
    "from_row",
    "apply_row",
    "to_values",
    "set_pk_value",
    "pk_value",
    "pk_is_unset",
    "run_hook",
    "apply_auto_now",
    "fill_relation",
    "query",
    "related",
    "load_related",
    "add_related",
    "remove_related",
    "get",
    "refresh",
    "save_fields",
    "insert_many",
    "insert_all",
    // what annotations in the generated Python read
    "int",
    "str",
    "bool",
    "float",
    "bytes",
    "list",
    "dict",
    "object",
    "datetime",
    "date",
    "decimal",
    "uuid",
    "enum",
    "Any",
    "ClassVar",
    "Field",
    "ForeignKey",
    "OneToOne",
    "ManyToMany",
    "Reverse",
    "RelatedManager",
    "Index",
    "UniqueConstraint",
    "CheckConstraint",
    "Q",
    "F",
    "Lower",
    "Upper",
    "Length",
];

/// The names a generated module itself defines or imports (a table `text` must not make a
/// class `Text` that hides `chakra.Text`): model and enum classes get a trailing `_` instead.
pub const MODULE_NAMES: &[&str] = &[
    "Model",
    "Field",
    "ForeignKey",
    "OneToOne",
    "ManyToMany",
    "Reverse",
    "RelatedManager",
    "Index",
    "UniqueConstraint",
    "CheckConstraint",
    "Q",
    "F",
    "Lower",
    "Upper",
    "Length",
    "Integer",
    "BigInteger",
    "String",
    "Text",
    "Boolean",
    "Float",
    "Decimal",
    "DateTime",
    "Date",
    "Bytes",
    "JSON",
    "UUID",
    "Array",
    "Enum",
    "NOW",
    "CASCADE",
    "SET_NULL",
    "RESTRICT",
    "NO_ACTION",
    "Any",
    "ClassVar",
    "SCHEMA_FINGERPRINT",
    "SCHEMA_MIGRATIONS",
    "Option",
    "Vec",
    "Result",
    "Box",
    "Self",
];

/// Is `name` a keyword of Rust or Python?
pub fn is_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name) || PYTHON_KEYWORDS.contains(&name)
}

/// `name` made a plain identifier: ASCII letters, digits and `_` (others become `_`), not
/// starting with a digit, never a keyword of either language nor a name models already use.
pub fn safe_ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if is_keyword(&s) || TAKEN.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Hands out identifiers within one scope (a model's fields and relations, or the module's
/// classes): each request gets [`safe_ident`]'s form, with `_` appended until unused.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    used: BTreeSet<String>,
}

impl Scope {
    /// An empty scope.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Marks `name` used (a name the scope must not hand out).
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_owned());
    }

    /// Is `name` handed out or reserved?
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }

    /// A new identifier for `name`, unique in the scope.
    pub fn claim(&mut self, name: &str) -> String {
        let mut s = safe_ident(name);
        while self.used.contains(&s) || is_keyword(&s) {
            s.push('_');
        }
        self.used.insert(s.clone());
        s
    }
}

/// A model name from a table name: CamelCase of its words (`blog_posts` → `BlogPosts`,
/// `2fa` → `T2fa`), made a safe identifier.
pub fn camel_case(table: &str) -> String {
    let mut out = String::new();
    for word in table.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// The model name for a table: the migration's model name when it is a CamelCase
/// identifier (`User`), else the table's name in CamelCase (`posts_tags` → `PostsTags`).
pub fn model_name(state_name: &str, table: &str) -> String {
    let ok = state_name.starts_with(|c: char| c.is_ascii_uppercase())
        && state_name.chars().all(|c| c.is_ascii_alphanumeric())
        && !is_keyword(state_name);
    if ok {
        state_name.to_owned()
    } else {
        camel_case(table)
    }
}

/// `snake_case` of a CamelCase name (`BlogPost` → `blog_post`).
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A string literal both Rust and Python read as `s` (printable ASCII kept, the rest
/// escaped as `\u{…}` in Rust).
pub fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// A Python string literal for `s` (double-quoted; `\`, `"` and control characters escaped;
/// other characters kept, the module being UTF-8).
pub fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_of_either_language_get_an_underscore() {
        assert_eq!(safe_ident("type"), "type_");
        assert_eq!(safe_ident("fn"), "fn_");
        assert_eq!(safe_ident("class"), "class_");
        assert_eq!(safe_ident("from"), "from_");
        assert_eq!(safe_ident("match"), "match_");
        assert_eq!(safe_ident("self"), "self_");
        assert_eq!(safe_ident("None"), "None_");
        assert_eq!(safe_ident("username"), "username");
    }

    #[test]
    fn names_models_use_and_annotation_types_are_kept_free() {
        assert_eq!(safe_ident("query"), "query_");
        assert_eq!(safe_ident("save"), "save_");
        assert_eq!(safe_ident("objects"), "objects_");
        assert_eq!(safe_ident("int"), "int_");
        assert_eq!(safe_ident("datetime"), "datetime_");
    }

    #[test]
    fn other_characters_and_leading_digits() {
        assert_eq!(safe_ident("2fa code"), "_2fa_code");
        assert_eq!(safe_ident("a-b"), "a_b");
        assert_eq!(safe_ident(""), "__");
    }

    #[test]
    fn collisions_after_conversion_are_named_apart_in_order() {
        let mut s = Scope::new();
        assert_eq!(s.claim("type"), "type_");
        assert_eq!(s.claim("type_"), "type__");
        assert_eq!(s.claim("a-b"), "a_b");
        assert_eq!(s.claim("a b"), "a_b_");
        assert_eq!(s.claim("a_b"), "a_b__");
        // The same requests in the same order give the same names.
        let mut t = Scope::new();
        let again: Vec<String> = ["type", "type_", "a-b", "a b", "a_b"]
            .iter()
            .map(|n| t.claim(n))
            .collect();
        assert_eq!(again, ["type_", "type__", "a_b", "a_b_", "a_b__"]);
    }

    #[test]
    fn model_names() {
        assert_eq!(model_name("User", "users"), "User");
        assert_eq!(model_name("posts_tags", "posts_tags"), "PostsTags");
        assert_eq!(camel_case("blog-posts 2"), "BlogPosts2");
        assert_eq!(camel_case("2fa"), "T2fa");
        assert_eq!(snake_case("BlogPost"), "blog_post");
    }

    #[test]
    fn string_literals() {
        assert_eq!(py_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(py_str("ann ✓"), "\"ann ✓\"");
        assert_eq!(rust_str("a\"b"), "\"a\\\"b\"");
    }
}
