//! Model attributes for table-level options: `#[chakra(index(name = "…", fields = "a, b",
//! condition = r#"{ status = "live" }"#))]`, `unique(…)` (the same keys), and
//! `check(name = "…", condition = "…")`. A condition is the lookup form migration files use
//! (an inline table: lookups ANDed, `or = [...]`, `and = [...]`, `not = {...}`), read here at
//! compile time into `chakra::dsl::table_options::Cond`. An expression index lists its keys
//! as Chakra expressions, `expressions = "lower(email)"` (a field, or `lower`/`upper`/
//! `length` of one; several separated by commas), read at compile time into
//! `chakra::dsl::table_options::IndexExpr`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::LitStr;

/// One declared option.
pub(crate) struct TableOption {
    kind: Kind,
    name: String,
    fields: Vec<String>,
    expressions: Vec<TokenStream>,
    condition: Option<TokenStream>,
}

#[derive(PartialEq)]
enum Kind {
    Index,
    Unique,
    Check,
}

/// Parses `index(…)`, `unique(…)` or `check(…)`; `None` for another attribute.
pub(crate) fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Option<TableOption>> {
    let kind = if meta.path.is_ident("index") {
        Kind::Index
    } else if meta.path.is_ident("unique") {
        Kind::Unique
    } else if meta.path.is_ident("check") {
        Kind::Check
    } else {
        return Ok(None);
    };
    let span = meta.path.span();
    let (mut name, mut fields, mut condition) = (None, None, None);
    let mut expressions = Vec::new();
    meta.parse_nested_meta(|m| {
        let s: LitStr = m.value()?.parse()?;
        if m.path.is_ident("name") {
            name = Some(s.value());
        } else if m.path.is_ident("fields") && kind != Kind::Check {
            fields = Some(
                s.value()
                    .split(',')
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect::<Vec<_>>(),
            );
        } else if m.path.is_ident("expressions") && kind != Kind::Check {
            expressions = expressions_tokens(&s)?;
        } else if m.path.is_ident("condition") {
            condition = Some(cond_tokens(&s)?);
        } else {
            return Err(m.error(
                "table options take `name = \"…\"`, `fields = \"a, b\"` and `expressions = \
                 \"lower(email)\"` (not on check) and `condition = \"{ field__lookup = value }\"`",
            ));
        }
        Ok(())
    })?;
    let name = name.ok_or_else(|| syn::Error::new(span, "a table option needs `name = \"…\"`"))?;
    let fields = fields.unwrap_or_default();
    if kind == Kind::Check && condition.is_none() {
        return Err(syn::Error::new(
            span,
            "`check(…)` needs `condition = \"…\"`",
        ));
    }
    if kind != Kind::Check && fields.is_empty() && expressions.is_empty() {
        return Err(syn::Error::new(
            span,
            "an index needs `fields = \"a, b\"` or `expressions = \"lower(a)\"`",
        ));
    }
    Ok(Some(TableOption {
        kind,
        name,
        fields,
        expressions,
        condition,
    }))
}

/// `"lower(email), upper(name)"` → one `IndexExpr` per key.
fn expressions_tokens(s: &LitStr) -> syn::Result<Vec<TokenStream>> {
    let text = s.value();
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices().chain([(text.len(), ',')]) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(index_expr(text[start..i].trim(), s.span(), 0)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

fn index_expr(t: &str, span: Span, depth: usize) -> syn::Result<TokenStream> {
    let bad = |why: String| {
        syn::Error::new(
            span,
            format!(
                "index expression {t:?}: {why} (write a field name or lower(…), upper(…), \
                 length(…) of one)"
            ),
        )
    };
    if depth > 8 {
        return Err(bad("nested too deep".into()));
    }
    if let Some(open) = t.find('(') {
        if t.contains(')') && !t.ends_with(')') {
            return Err(bad("text follows the function's closing parenthesis".into()));
        }
        let inner = t[open + 1..]
            .strip_suffix(')')
            .ok_or_else(|| bad("unbalanced parentheses".into()))?;
        let func = match t[..open].trim().to_ascii_lowercase().as_str() {
            "lower" => quote!(Lower),
            "upper" => quote!(Upper),
            "length" => quote!(Length),
            other => return Err(bad(format!("unknown function {other:?}"))),
        };
        let arg = index_expr(inner.trim(), span, depth + 1)?;
        return Ok(quote!(::chakra::dsl::table_options::IndexExpr::Func(
            ::chakra::dsl::table_options::IndexFunc::#func,
            ::std::boxed::Box::new(#arg)
        )));
    }
    let mut chars = t.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(bad(format!("{t:?} is not a field name")));
    }
    Ok(quote!(::chakra::dsl::table_options::IndexExpr::Field(
        ::std::string::String::from(#t)
    )))
}

fn cond_tokens(s: &LitStr) -> syn::Result<TokenStream> {
    let table: toml::Table = toml::from_str(&format!("c = {}", s.value())).map_err(|e| {
        syn::Error::new(
            s.span(),
            format!("a condition is an inline table such as {{ age__gte = 18 }}: {e}"),
        )
    })?;
    cond(&table["c"], s.span())
}

fn cond(v: &toml::Value, span: Span) -> syn::Result<TokenStream> {
    let toml::Value::Table(t) = v else {
        return Err(syn::Error::new(span, "a condition is an inline table"));
    };
    if t.is_empty() {
        return Err(syn::Error::new(span, "an empty condition"));
    }
    let mut items = Vec::new();
    for (k, v) in t {
        items.push(match k.as_str() {
            "and" | "or" => {
                let toml::Value::Array(parts) = v else {
                    return Err(syn::Error::new(span, format!("`{k}` takes an array")));
                };
                let parts = parts
                    .iter()
                    .map(|p| cond(p, span))
                    .collect::<syn::Result<Vec<_>>>()?;
                if k == "and" {
                    quote!(::chakra::dsl::table_options::Cond::And(
                        ::std::vec![#(#parts),*]
                    ))
                } else {
                    quote!(::chakra::dsl::table_options::Cond::Or(
                        ::std::vec![#(#parts),*]
                    ))
                }
            }
            "not" => {
                let inner = cond(v, span)?;
                quote!(::chakra::dsl::table_options::Cond::Not(::std::boxed::Box::new(#inner)))
            }
            key => {
                let value = value(v, span)?;
                quote!(::chakra::dsl::table_options::Cond::Lookup {
                    key: ::std::string::String::from(#key),
                    value: #value,
                })
            }
        });
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        quote!(::chakra::dsl::table_options::Cond::And(
            ::std::vec![#(#items),*]
        ))
    })
}

fn value(v: &toml::Value, span: Span) -> syn::Result<TokenStream> {
    Ok(match v {
        toml::Value::String(s) => {
            quote!(::chakra::dsl::table_options::CondValue::Text(::std::string::String::from(#s)))
        }
        toml::Value::Integer(i) => quote!(::chakra::dsl::table_options::CondValue::Int(#i)),
        toml::Value::Boolean(b) => quote!(::chakra::dsl::table_options::CondValue::Bool(#b)),
        toml::Value::Array(items) => {
            let items = items
                .iter()
                .map(|x| value(x, span))
                .collect::<syn::Result<Vec<_>>>()?;
            quote!(::chakra::dsl::table_options::CondValue::List(
                ::std::vec![#(#items),*]
            ))
        }
        _ => {
            return Err(syn::Error::new(
                span,
                "a condition value is a string, an integer, a boolean or an array of them",
            ))
        }
    })
}

/// `TableOptions { … }` for the model's `ModelMeta`.
pub(crate) fn tokens(options: &[TableOption]) -> TokenStream {
    let mut indexes = Vec::new();
    let mut checks = Vec::new();
    for o in options {
        let name = &o.name;
        let condition = match &o.condition {
            Some(c) => quote!(::std::option::Option::Some(#c)),
            None => quote!(::std::option::Option::None),
        };
        if o.kind == Kind::Check {
            let c = o.condition.clone().expect("checked when parsed");
            checks.push(quote!(::chakra::dsl::table_options::CheckOption {
                name: ::std::string::String::from(#name),
                check: #c,
            }));
        } else {
            let fields = &o.fields;
            let expressions = &o.expressions;
            let unique = o.kind == Kind::Unique;
            indexes.push(quote!(::chakra::dsl::table_options::IndexOption {
                name: ::std::string::String::from(#name),
                fields: ::std::vec![#(::std::string::String::from(#fields)),*],
                expressions: ::std::vec![#(#expressions),*],
                unique: #unique,
                condition: #condition,
            }));
        }
    }
    quote!(::chakra::dsl::table_options::TableOptions {
        indexes: ::std::vec![#(#indexes),*],
        checks: ::std::vec![#(#checks),*],
    })
}
