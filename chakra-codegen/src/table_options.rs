//! Model attributes for table-level options: `#[chakra(index(name = "…", fields = "a, b",
//! condition = r#"{ status = "live" }"#))]`, `unique(…)` (the same keys), and
//! `check(name = "…", condition = "…")`. A condition is the lookup form migration files use
//! (an inline table: lookups ANDed, `or = [...]`, `and = [...]`, `not = {...}`), read here at
//! compile time into `chakra::dsl::table_options::Cond`.

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
        } else if m.path.is_ident("condition") {
            condition = Some(cond_tokens(&s)?);
        } else {
            return Err(m.error(
                "table options take `name = \"…\"`, `fields = \"a, b\"` (not on check) and \
                 `condition = \"{ field__lookup = value }\"`",
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
    if kind != Kind::Check && fields.is_empty() {
        return Err(syn::Error::new(span, "an index needs `fields = \"a, b\"`"));
    }
    Ok(Some(TableOption {
        kind,
        name,
        fields,
        condition,
    }))
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
            let unique = o.kind == Kind::Unique;
            indexes.push(quote!(::chakra::dsl::table_options::IndexOption {
                name: ::std::string::String::from(#name),
                fields: ::std::vec![#(::std::string::String::from(#fields)),*],
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
