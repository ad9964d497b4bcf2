//! `#[derive(Enum)]`: a fieldless Rust enum stored as text, one stored value per variant
//! (`chakra::dsl::typed::ColumnType` with the canonical type `Enum`).
//!
//! `#[chakra(name = "ticket_status")]` on the enum names it in migrations (default: the enum
//! name in snake_case); `#[chakra(value = "on hold")]` on a variant gives its stored text
//! (default: the variant name in snake_case). Values are checked at compile time: non-empty,
//! no NUL, none repeated.

use crate::attrs::snake_case;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

/// Reads `#[chakra(<key> = "…")]` from `attrs`, the only key allowed being `key`.
fn string_attr(attrs: &[syn::Attribute], key: &str, what: &str) -> syn::Result<Option<LitStr>> {
    let mut found = None;
    for attr in attrs {
        if !attr.path().is_ident("chakra") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                found = Some(meta.value()?.parse::<LitStr>()?);
                Ok(())
            } else {
                Err(meta.error(format!(
                    "unknown chakra attribute on {what}; the only one is `{key} = \"...\"`"
                )))
            }
        })?;
    }
    Ok(found)
}

/// The generated `impl ColumnType` and the enum's constants.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            ident,
            "#[derive(Enum)] needs an enum whose variants have no fields",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Enum)] needs an enum without generic parameters",
        ));
    }
    let enum_name = string_attr(&input.attrs, "name", "an Enum")?
        .map(|l| l.value())
        .unwrap_or_else(|| snake_case(&ident.to_string()));
    let mut variants = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                v,
                "#[derive(Enum)] variants carry no fields (each is one stored value)",
            ));
        }
        let lit = string_attr(&v.attrs, "value", "an Enum variant")?;
        let value = lit
            .as_ref()
            .map(|l| l.value())
            .unwrap_or_else(|| snake_case(&v.ident.to_string()));
        variants.push(&v.ident);
        values.push(value);
    }
    if let Err(why) = chakra_check_declaration(&enum_name, &values) {
        return Err(syn::Error::new_spanned(ident, why));
    }
    let n = values.len();
    let type_name = ident.to_string();
    Ok(quote! {
        impl #ident {
            /// The enum's name in migrations.
            pub const ENUM_NAME: &'static str = #enum_name;
            /// The stored value of each variant, in declaration order.
            pub const VALUES: [&'static str; #n] = [#(#values),*];

            /// The text this variant is stored as.
            pub fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #values,)*
                }
            }

            /// The variant stored as `s`, if any.
            pub fn from_stored(s: &str) -> ::std::option::Option<Self> {
                match s {
                    #(#values => ::std::option::Option::Some(Self::#variants),)*
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::chakra::dsl::typed::ValueFor<#ident> for #ident {
            fn into_value_for(self) -> ::chakra::dsl::Value {
                ::chakra::dsl::typed::ColumnType::to_value(&self)
            }
        }
        impl ::chakra::dsl::typed::ValueFor<::std::option::Option<#ident>> for #ident {
            fn into_value_for(self) -> ::chakra::dsl::Value {
                ::chakra::dsl::typed::ColumnType::to_value(&self)
            }
        }
        // `#[chakra(default = "value")]` on a field of this enum: the variant stored as
        // that text (a text no variant has is refused when the model's metadata is built).
        impl ::chakra::dsl::typed::FromLiteral<&'static str> for #ident {
            fn from_literal(x: &'static str) -> Self {
                Self::from_stored(x).unwrap_or_else(|| {
                    ::std::panic!(
                        "the default {:?} is not a value of the enum {} (values: {:?})",
                        x, #enum_name, Self::VALUES
                    )
                })
            }
        }
        impl ::chakra::dsl::typed::EnumColumn for #ident {}
        impl ::chakra::dsl::typed::TextType for #ident {}
        impl ::chakra::dsl::typed::Ordered for #ident {
            type Inner = #ident;
        }
        impl ::chakra::dsl::typed::ValueFor<#ident> for &#ident {
            fn into_value_for(self) -> ::chakra::dsl::Value {
                ::chakra::dsl::typed::ColumnType::to_value(self)
            }
        }

        impl ::chakra::dsl::typed::ColumnType for #ident {
            type Nullable = ::std::option::Option<#ident>;
            fn value_type() -> ::chakra::dsl::ValueType {
                ::chakra::dsl::ValueType::Text
            }
            fn field_type(_: &::chakra::dsl::typed::FieldOptions) -> ::chakra::dsl::FieldType {
                ::chakra::dsl::FieldType::Enum {
                    name: #enum_name.to_owned(),
                    values: ::std::vec![#(#values.to_owned()),*],
                }
            }
            fn enum_type() -> ::std::option::Option<&'static str> {
                ::std::option::Option::Some(#enum_name)
            }
            fn to_value(&self) -> ::chakra::dsl::Value {
                ::chakra::dsl::Value::Text(self.as_str().to_owned())
            }
            fn from_value(v: ::chakra::dsl::Value) -> ::std::result::Result<Self, ::std::string::String> {
                match v {
                    ::chakra::dsl::Value::Text(s) => Self::from_stored(&s).ok_or_else(|| {
                        ::std::format!(
                            "the stored value {}",
                            ::chakra::dsl::contract::enum_violation(
                                #enum_name,
                                &Self::VALUES.map(::std::borrow::ToOwned::to_owned),
                                &s,
                            )
                        )
                    }),
                    other if other.is_null() => ::std::result::Result::Err(::std::format!(
                        "NULL in a non-nullable {} column", #type_name
                    )),
                    other => ::std::result::Result::Err(::std::format!(
                        "{} is a {}, not a {}", other, other.value_type(), #type_name
                    )),
                }
            }
        }
    })
}

/// The declaration rules of `chakra_dsl::types::check_enum_declaration`, applied at compile
/// time (the proc-macro crate does not depend on the core).
fn chakra_check_declaration(name: &str, values: &[String]) -> Result<(), String> {
    let ident_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident_ok {
        return Err(format!(
            "the enum name {name:?} must be an identifier (letters, digits, underscores)"
        ));
    }
    if values.is_empty() {
        return Err(format!("the enum {name} has no values"));
    }
    for (i, v) in values.iter().enumerate() {
        if v.is_empty() || v.contains('\0') {
            return Err(format!(
                "the enum {name} has the value {v:?}: values are non-empty text without NUL"
            ));
        }
        if values[..i].contains(v) {
            return Err(format!("the enum {name} repeats the value {v:?}"));
        }
    }
    Ok(())
}
