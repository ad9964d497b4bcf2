//! `#[derive(FromRow)]`: a struct read from a result row by column name (`chakra::FromRow`).
//! Each named field reads the column of its name, or `#[chakra(column = "name")]`; its type
//! must be one a model field may have (`chakra::dsl::typed::ColumnType`), checked by the
//! compiler.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr};

/// The generated `impl chakra::FromRow`.
pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            name,
            "#[derive(FromRow)] needs a struct with named fields (its columns are matched by name)",
        ));
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut specs = Vec::new();
    let mut inits = Vec::new();
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("named field");
        let ty = &f.ty;
        let mut column = ident.to_string().trim_start_matches("r#").to_owned();
        for attr in &f.attrs {
            if !attr.path().is_ident("chakra") {
                continue;
            }
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("column") {
                    let lit: LitStr = meta.value()?.parse()?;
                    column = lit.value();
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown chakra attribute on a FromRow field; the only one is `column = \"name\"`",
                    ))
                }
            })?;
        }
        let field_name = ident.to_string().trim_start_matches("r#").to_owned();
        specs.push(quote! {
            (#field_name, #column, <#ty as ::chakra::dsl::typed::ColumnType>::value_type())
        });
        inits.push(quote! {
            #ident: <#ty as ::chakra::dsl::typed::ColumnType>::from_value(
                cells.next().ok_or_else(|| ::chakra::Error::Decode {
                    column: #column.to_owned(),
                    reason: ::std::format!("no value for field {}.{}", Self::NAME, #field_name),
                })?,
            )
            .map_err(|reason| ::chakra::Error::Decode {
                column: #column.to_owned(),
                reason: ::std::format!(
                    "column {:?} does not fit field {}.{}: {}",
                    #column, Self::NAME, #field_name, reason
                ),
            })?,
        });
    }
    let struct_name = name.to_string();
    Ok(quote! {
        impl #impl_generics ::chakra::FromRow for #name #ty_generics #where_clause {
            const NAME: &'static str = #struct_name;
            fn fields() -> ::std::vec::Vec<(&'static str, &'static str, ::chakra::dsl::ValueType)> {
                ::std::vec![#(#specs),*]
            }
            fn from_cells(
                cells: ::std::vec::Vec<::chakra::dsl::Value>,
            ) -> ::chakra::Result<Self> {
                let mut cells = cells.into_iter();
                ::core::result::Result::Ok(#name { #(#inits)* })
            }
        }
    })
}
