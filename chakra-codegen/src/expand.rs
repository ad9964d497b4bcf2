//! The code `#[derive(Model)]` generates: the `Model` impl (metadata, row decoding, values),
//! column and relation accessors, the registry entry, `Default`, and compile-time checks that
//! tie attributes to field types (errors point at the attribute).

use crate::attrs::{Default as Dflt, FieldAttrs, ModelAttrs};
use chakra_dsl::{Concurrency, RelationKind};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::DeriveInput;

/// `tokens` with every span (inside groups too) set to `span`, so an error about them points
/// at the attribute that asked for the check.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut ng = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                tt = proc_macro2::TokenTree::Group(ng);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// A compile-time check that `ty` implements `bound`, reported at `span`.
fn assert_bound(ty: &syn::Type, bound: TokenStream, span: Span) -> TokenStream {
    let ty = respan(quote!(#ty), span);
    quote_spanned! {span=>
        const _: fn() = || {
            fn __chakra_check<__T: #bound>() {}
            __chakra_check::<#ty>();
        };
    }
}

/// The relation whose key column is field `f` (a ForeignKey or forward OneToOne naming it).
fn key_relation<'a>(f: &FieldAttrs, m: &'a ModelAttrs) -> Option<&'a FieldAttrs> {
    m.fields.iter().find(|r| {
        r.relation.as_ref().is_some_and(|ra| {
            matches!(ra.kind, RelationKind::ForeignKey | RelationKind::OneToOne)
                && ra
                    .foreign_key
                    .as_deref()
                    .is_some_and(|fk| f.ident == fk || f.column == fk)
        })
    })
}

/// True when this OneToOne's key column is a field of this struct (the forward side).
fn is_local_key(r: &FieldAttrs, m: &ModelAttrs) -> bool {
    let fk = r.relation.as_ref().and_then(|ra| ra.foreign_key.as_deref());
    m.fields
        .iter()
        .any(|c| c.relation.is_none() && fk.is_some_and(|fk| c.ident == fk || c.column == fk))
}

fn field_meta(f: &FieldAttrs, m: &ModelAttrs) -> TokenStream {
    let name = f.ident.to_string();
    let column = &f.column;
    let ty = &f.ty;
    let max_length = opt_u32(f.max_length.map(|(n, _)| n));
    let precision = opt_u32(f.precision.map(|(n, _)| n));
    let scale = opt_u32(f.scale.map(|(n, _)| n));
    let primary_key = f.primary_key;
    let auto_increment = f.auto_increment.is_some();
    let key_rel = key_relation(f, m);
    let one_to_one = key_rel
        .and_then(|r| r.relation.as_ref())
        .is_some_and(|ra| ra.kind == RelationKind::OneToOne);
    // A one-to-one's key column is unique, unless it is the primary key (unique already).
    let unique = f.unique || (one_to_one && !f.primary_key);
    let index = f.index || key_rel.is_some();
    let references = match key_rel {
        None => quote!(::core::option::Option::None),
        Some(r) => {
            let rty = &r.ty;
            let on_delete = match r.relation.as_ref().and_then(|ra| ra.on_delete.as_ref()) {
                Some((k, _)) => quote!(::chakra::dsl::OnDelete::#k),
                None => quote!(::chakra::dsl::OnDelete::Restrict),
            };
            quote! {
                ::core::option::Option::Some(::chakra::dsl::ForeignKeyRef {
                    model: ::std::string::String::from(
                        <#rty as ::chakra::dsl::typed::RelatedField>::TARGET,
                    ),
                    table: ::std::string::String::new(),
                    column: ::std::string::String::new(),
                    on_delete: #on_delete,
                })
            }
        }
    };
    let concurrency = match f.concurrency.map(|(c, _)| c) {
        Some(Concurrency::Version) => quote!(::chakra::dsl::Concurrency::Version),
        Some(Concurrency::Unchecked) => quote!(::chakra::dsl::Concurrency::Unchecked),
        Some(Concurrency::Compare) | None => quote!(::chakra::dsl::Concurrency::Compare),
    };
    let auto_now = match &f.auto_now {
        Some((k, _)) => quote!(::chakra::dsl::meta::AutoNow::#k),
        None => quote!(::chakra::dsl::meta::AutoNow::Off),
    };
    let default = match &f.default {
        None => quote!(::core::option::Option::None),
        Some((Dflt::Now, _)) => {
            quote!(::core::option::Option::Some(
                ::chakra::dsl::DefaultValue::Now
            ))
        }
        Some((Dflt::Literal(lit), _)) => quote! {
            ::core::option::Option::Some(::chakra::dsl::DefaultValue::Value(
                <#ty as ::chakra::dsl::typed::ColumnType>::into_value(
                    <#ty as ::chakra::dsl::typed::FromLiteral<_>>::from_literal(#lit),
                ),
            ))
        },
    };
    quote! {
        {
            let mut f = ::chakra::dsl::FieldMeta::new(
                #name,
                <#ty as ::chakra::dsl::typed::ColumnType>::field_type(
                    &::chakra::dsl::typed::FieldOptions {
                        max_length: #max_length,
                        precision: #precision,
                        scale: #scale,
                    },
                ),
            );
            f.column = ::std::string::String::from(#column);
            f.nullable = <#ty as ::chakra::dsl::typed::ColumnType>::NULLABLE;
            f.primary_key = #primary_key;
            f.auto_increment = #auto_increment;
            f.unique = #unique;
            f.index = #index;
            f.default = #default;
            f.references = #references;
            f.concurrency = #concurrency;
            f.auto_now = #auto_now;
            f
        }
    }
}

fn opt_u32(v: Option<u32>) -> TokenStream {
    match v {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    }
}

fn relation_meta(f: &FieldAttrs, m: &ModelAttrs, model_name: &str) -> TokenStream {
    let r = f.relation.as_ref().expect("relation field");
    let name = f.ident.to_string();
    let ty = &f.ty;
    let opt = |v: &Option<String>| match v {
        Some(s) => quote!(::core::option::Option::Some(::std::string::String::from(#s))),
        None => quote!(::core::option::Option::None),
    };
    let kind = match &r.kind {
        RelationKind::ManyToMany { .. } => {
            let through = r.through.as_deref().unwrap_or_default();
            let source = match r.source_column.as_deref() {
                Some(c) => quote!(::std::string::String::from(#c)),
                None => quote!(::chakra::dsl::relations::default_join_column(#model_name)),
            };
            let target = match r.target_column.as_deref() {
                Some(c) => quote!(::std::string::String::from(#c)),
                None => quote! {
                    ::chakra::dsl::relations::default_join_column(
                        <#ty as ::chakra::dsl::typed::RelatedField>::TARGET,
                    )
                },
            };
            quote! {
                ::chakra::dsl::RelationKind::ManyToMany {
                    through: ::std::string::String::from(#through),
                    source_column: #source,
                    target_column: #target,
                }
            }
        }
        RelationKind::OneToOne if !is_local_key(f, m) => {
            quote!(::chakra::dsl::RelationKind::ReverseOneToOne)
        }
        RelationKind::OneToOne => quote!(::chakra::dsl::RelationKind::OneToOne),
        RelationKind::ForeignKey => quote!(::chakra::dsl::RelationKind::ForeignKey),
        RelationKind::OneToMany => quote!(::chakra::dsl::RelationKind::OneToMany),
        RelationKind::ReverseOneToOne => quote!(::chakra::dsl::RelationKind::ReverseOneToOne),
    };
    let fk = opt(&r.foreign_key);
    let back = opt(&r.back_populates);
    quote! {
        ::chakra::dsl::RelationMeta {
            name: ::std::string::String::from(#name),
            kind: #kind,
            target: ::std::string::String::from(
                <#ty as ::chakra::dsl::typed::RelatedField>::TARGET,
            ),
            foreign_key: #fk,
            back_populates: #back,
        }
    }
}

fn default_value(f: &FieldAttrs) -> TokenStream {
    let ty = &f.ty;
    match &f.default {
        Some((Dflt::Now, span)) => {
            let ty = respan(quote!(#ty), *span);
            quote_spanned! {*span=>
                <#ty as ::chakra::dsl::typed::NowDefault>::now()
            }
        }
        Some((Dflt::Literal(lit), span)) => quote_spanned! {*span=>
            <#ty as ::chakra::dsl::typed::FromLiteral<_>>::from_literal(#lit)
        },
        None => quote!(::core::default::Default::default()),
    }
}

/// Compile-time checks against `schema.rs`: the module's table is the model's, and every
/// column field exists there with the same Rust type (nullability included). Each error
/// points at the field. A field whose column the schema module lacks (read from the crate's
/// `src/…/schema.rs` when the path leads there) is an error saying how to add it. All of it
/// sits in `chakra::__schema_check!`, which expands to nothing when chakra's
/// `skip-schema-check` feature is on: the build `chakra migrate make` runs from.
fn schema_checks(schema: &syn::Path, table: &str, columns: &[&FieldAttrs]) -> TokenStream {
    let mut out = Vec::new();
    let msg = format!("the model's table \"{table}\" is not the table of its `schema` module");
    let sspan = syn::spanned::Spanned::span(schema);
    out.push(quote_spanned! {sspan=>
        const _: () = ::core::assert!(
            ::chakra::dsl::typed::same_str(#schema::TABLE, #table),
            #msg
        );
    });
    let known = crate::schema_file::columns_of(schema);
    for f in columns {
        let ty = &f.ty;
        let span = syn::spanned::Spanned::span(ty);
        if let Some((file, cols)) = &known {
            if !cols.contains(&f.column) {
                let module = schema
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::");
                let msg = format!(
                    "column `{col}` is not in {module} ({file}): the migrations do not have it yet. \
                     Write the migration with `chakra migrate make` from a build without the schema \
                     check (`cargo run --features chakra/skip-schema-check -- migrate make`), then \
                     `chakra migrate schema --out {file}`",
                    col = f.column,
                );
                let fspan = f.ident.span();
                out.push(quote_spanned! {fspan=> ::core::compile_error!(#msg); });
                continue;
            }
        }
        let col = syn::Ident::new_raw_or_plain(&f.column, f.ident.span());
        let ty = respan(quote!(#ty), span);
        out.push(quote_spanned! {span=>
            const _: fn() = || {
                fn __chakra_schema<__F: ::chakra::dsl::typed::SchemaColumn<__C>, __C>() {}
                __chakra_schema::<#ty, #schema::#col>();
            };
        });
    }
    quote!(::chakra::__schema_check! { #(#out)* })
}

trait IdentExt {
    fn new_raw_or_plain(s: &str, span: Span) -> syn::Ident;
}

impl IdentExt for syn::Ident {
    fn new_raw_or_plain(s: &str, span: Span) -> syn::Ident {
        syn::parse_str::<syn::Ident>(s)
            .map(|mut i| {
                i.set_span(span);
                i
            })
            .unwrap_or_else(|_| syn::Ident::new_raw(s, span))
    }
}

/// Generates everything for one model.
pub(crate) fn expand(input: &DeriveInput, m: &ModelAttrs) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let name = ident.to_string();
    let table = &m.table;
    let columns: Vec<&FieldAttrs> = m.fields.iter().filter(|f| f.relation.is_none()).collect();
    let relations: Vec<&FieldAttrs> = m.fields.iter().filter(|f| f.relation.is_some()).collect();
    let pks: Vec<&&FieldAttrs> = columns.iter().filter(|f| f.primary_key).collect();
    let pk = pks.first().expect("checked: a primary key");
    let pk_ident = &pk.ident;
    let pk_fname = pk_ident.to_string();
    // One key field: its type; a composite key: the tuple of the key fields' types.
    let (pk_ty, pk_fn, set_pk) = if pks.len() == 1 {
        let ty = &pk.ty;
        (
            quote!(#ty),
            quote!(::core::clone::Clone::clone(&self.#pk_ident)),
            quote! {
                self.#pk_ident = ::chakra::model::decode_value::<#ty>(v, #name, #pk_fname)?;
                ::core::result::Result::Ok(())
            },
        )
    } else {
        let tys = pks.iter().map(|f| &f.ty);
        let ids = pks.iter().map(|f| &f.ident);
        (
            quote!((#(#tys,)*)),
            quote!((#(::core::clone::Clone::clone(&self.#ids),)*)),
            quote! {
                let _ = v;
                ::core::result::Result::Err(::chakra::dsl::Error::InvalidQuery(::std::format!(
                    "{} has a composite primary key: its values are given, never generated",
                    #name
                )))
            },
        )
    };

    let table_options = crate::table_options::tokens(&m.options);
    let app = match &m.app {
        Some(a) => quote!(::core::option::Option::Some(::std::string::String::from(#a))),
        None => quote!(::core::option::Option::None),
    };
    let ordering = m.ordering.iter().map(|(field, desc)| {
        quote!(::chakra::dsl::meta::OrderKey {
            field: ::std::string::String::from(#field),
            desc: #desc,
        })
    });
    let full_clean = if m.hooks {
        quote! {
            fn full_clean(&self) -> ::chakra::Result<()> {
                <Self as ::chakra::model::hooks::Hooks>::validate(self)
                    .map_err(|e| e.into_error(#name))
            }

            const HOOKED: bool = true;

            fn run_hook(
                &self,
                hook: ::chakra::model::hooks::Hook,
                tx: &mut ::chakra::exec::Transaction,
            ) -> impl ::core::future::Future<Output = ::chakra::Result<()>> + ::core::marker::Send {
                ::chakra::model::hooks::dispatch(self, hook, tx)
            }
        }
    } else {
        quote!()
    };
    let stamped: Vec<_> = columns.iter().filter(|f| f.auto_now.is_some()).collect();
    let apply_auto_now = if stamped.is_empty() {
        quote!()
    } else {
        let arms = stamped.iter().map(|f| {
            let id = &f.ident;
            let fname = id.to_string();
            quote! {
                #fname => self.#id = ::chakra::model::decode_value(v.clone(), #name, #fname)?,
            }
        });
        quote! {
            fn apply_auto_now(
                &mut self,
                values: &[(usize, ::chakra::dsl::Value)],
            ) -> ::chakra::Result<()> {
                let meta = <Self as ::chakra::model::Model>::meta();
                meta.check_auto_now()?;
                for (i, v) in values {
                    match meta.fields[*i].name.as_str() {
                        #(#arms)*
                        _ => {}
                    }
                }
                ::core::result::Result::Ok(())
            }
        }
    };
    let field_metas = columns.iter().map(|f| field_meta(f, m));
    let relation_metas = relations.iter().map(|f| relation_meta(f, m, &name));

    let decode_fields = m.fields.iter().map(|f| {
        let id = &f.ident;
        let fname = id.to_string();
        let ty = &f.ty;
        if f.relation.is_some() {
            quote!(#id: ::chakra::dsl::typed::Related::unloaded_for(#name, #fname))
        } else {
            quote!(#id: ::chakra::model::decode_cell::<#ty>(&mut __cells, #name, #fname)?)
        }
    });
    let read_fields = m.fields.iter().map(|f| {
        let id = &f.ident;
        let fname = id.to_string();
        let ty = &f.ty;
        if f.relation.is_some() {
            quote!(#id: ::chakra::dsl::typed::Related::unloaded_for(#name, #fname))
        } else {
            quote!(#id: ::chakra::dsl::typed::read_field::<#ty, __R>(__cells, #name, #fname)?)
        }
    });
    let apply_fields = columns.iter().map(|f| {
        let id = &f.ident;
        let fname = id.to_string();
        let ty = &f.ty;
        quote!(self.#id = ::chakra::model::decode_cell::<#ty>(&mut __cells, #name, #fname)?;)
    });
    let to_values = columns.iter().map(|f| {
        let id = &f.ident;
        quote!(::chakra::dsl::typed::ColumnType::to_value(&self.#id))
    });
    let n_columns = columns.len();
    let pk_unset = if pks.len() == 1 && pk.auto_increment.is_some() {
        quote!(::chakra::dsl::typed::ColumnType::is_unset_key(&self.#pk_ident))
    } else {
        quote!(false)
    };

    let accessors = columns.iter().map(|f| {
        let id = &f.ident;
        let vis = &f.vis;
        let ty = &f.ty;
        let column = &f.column;
        let fname = id.to_string();
        let doc = format!("The `{column}` column of `{table}` (field `{fname}`).");
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis fn #id() -> ::chakra::dsl::typed::Column<#ident, #ty> {
                ::chakra::dsl::typed::Column::new(#table, #column, #fname)
            }
        }
    });
    let relation_accessors = relations.iter().map(|f| {
        let id = &f.ident;
        let vis = &f.vis;
        let ty = &f.ty;
        let fname = id.to_string();
        let doc = format!("The `{fname}` relation, for relationship loading.");
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis fn #id() -> ::chakra::dsl::typed::Relation<#ident, #ty> {
                ::chakra::dsl::typed::Relation::new(#fname)
            }
        }
    });

    let fill_arms = relations.iter().map(|f| {
        let id = &f.ident;
        let fname = id.to_string();
        quote!(#fname => ::chakra::model::RelatedSlot::fill(&mut self.#id, rows, links),)
    });
    let relation_names: Vec<String> = relations.iter().map(|f| f.ident.to_string()).collect();
    let prefetch_arms = relations.iter().map(|f| {
        let id = &f.ident;
        let ty = &f.ty;
        let fname = id.to_string();
        quote! {
            #fname => {
                fn __slot(m: &mut #ident) -> &mut #ty {
                    &mut m.#id
                }
                <#ty as ::chakra::load_typed::TypedSlot>::prefetch::<Self, __E>(
                    exec, p, parents, __slot,
                )
            }
        }
    });
    let joined_arms = relations.iter().map(|f| {
        let id = &f.ident;
        let ty = &f.ty;
        let fname = id.to_string();
        quote! {
            #fname => <#ty as ::chakra::load_typed::TypedSlot>::read_joined(&mut self.#id, j, cells),
        }
    });
    let joined_prefetch_arms = relations.iter().map(|f| {
        let id = &f.ident;
        let ty = &f.ty;
        let fname = id.to_string();
        quote! {
            #fname => {
                fn __slot(m: &mut #ident) -> &mut #ty {
                    &mut m.#id
                }
                <#ty as ::chakra::load_typed::TypedSlot>::joined_prefetch::<Self, __E>(
                    exec, j, parents, __slot,
                )
            }
        }
    });
    let unknown = quote! {
        ::chakra::dsl::Error::UnknownRelation {
            model: ::std::string::String::from(#name),
            relation: ::std::string::String::from(__relation),
            choices: ::std::vec![#(::std::string::String::from(#relation_names)),*],
        }
    };
    let duplicate_fields = m.fields.iter().map(|f| {
        let id = &f.ident;
        let ty = &f.ty;
        let fname = id.to_string();
        if f.relation.is_some() {
            quote!(#id: <#ty as ::chakra::load_typed::TypedSlot>::duplicate(&self.#id, #name, #fname))
        } else {
            quote!(#id: ::core::clone::Clone::clone(&self.#id))
        }
    });
    let field_value_arms = columns.iter().enumerate().map(|(i, f)| {
        let id = &f.ident;
        quote!(#i => ::chakra::dsl::typed::ColumnType::to_value(&self.#id),)
    });

    let mut checks = Vec::new();
    if let Some(schema) = &m.schema {
        checks.push(schema_checks(schema, table, &columns));
    }
    for f in &m.fields {
        let ty = &f.ty;
        if f.relation.is_some() {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::RelatedField),
                f.ident.span(),
            ));
            continue;
        }
        checks.push(assert_bound(
            ty,
            quote!(::chakra::dsl::typed::ColumnType),
            syn::spanned::Spanned::span(ty),
        ));
        if let Some(span) = f.auto_increment {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::AutoIncrementType),
                span,
            ));
        }
        if let Some((_, span)) = f.max_length {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::MaxLengthType),
                span,
            ));
        }
        for (_, span) in f.precision.iter().chain(f.scale.iter()) {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::DecimalType),
                *span,
            ));
        }
        if let Some((_, span)) = &f.auto_now {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::AutoNowType),
                *span,
            ));
        }
        // With a generated `Default`, its `now()` call already checks this.
        if let (Some((Dflt::Now, span)), true) = (&f.default, m.no_default) {
            checks.push(assert_bound(
                ty,
                quote!(::chakra::dsl::typed::NowDefault),
                *span,
            ));
        }
    }

    let default_impl = if m.no_default {
        quote!()
    } else {
        let inits = m.fields.iter().map(|f| {
            let id = &f.ident;
            if f.relation.is_some() {
                let fname = id.to_string();
                return quote!(#id: ::chakra::dsl::typed::Related::unloaded_for(#name, #fname));
            }
            let v = default_value(f);
            quote!(#id: #v)
        });
        quote! {
            impl ::core::default::Default for #ident {
                /// Every field at its declared default (`now()` is the current time), others
                /// at their type's default.
                fn default() -> Self {
                    #ident { #(#inits,)* }
                }
            }
        }
    };

    Ok(quote! {
        impl #ident {
            #(#accessors)*
            #(#relation_accessors)*
        }

        #default_impl

        impl ::chakra::dsl::typed::RelationTarget for #ident {
            const MODEL_NAME: &'static str = #name;
            type Model = #ident;
            fn model_meta() -> &'static ::std::sync::Arc<::chakra::dsl::ModelMeta> {
                <#ident as ::chakra::model::Model>::meta()
            }
        }

        impl ::chakra::dsl::typed::Cardinality for #ident {
            const MANY: bool = false;
        }

        impl ::chakra::dsl::typed::OneRow for #ident {}

        impl ::chakra::dsl::typed::ReadRow for #ident {
            #[inline]
            fn read_row<__R: ::chakra::dsl::typed::RowCells>(
                __cells: &mut __R,
            ) -> ::chakra::Result<Self> {
                ::core::result::Result::Ok(#ident { #(#read_fields,)* })
            }

            fn from_values(row: ::std::vec::Vec<::chakra::dsl::Value>) -> ::chakra::Result<Self> {
                <Self as ::chakra::model::Model>::from_row(row)
            }
        }

        impl ::chakra::model::Model for #ident {
            type PrimaryKey = #pk_ty;
            const NAME: &'static str = #name;

            fn meta() -> &'static ::std::sync::Arc<::chakra::dsl::ModelMeta> {
                static META: ::std::sync::LazyLock<::std::sync::Arc<::chakra::dsl::ModelMeta>> =
                    ::std::sync::LazyLock::new(|| {
                        ::std::sync::Arc::new(::chakra::dsl::ModelMeta {
                            name: ::std::string::String::from(#name),
                            table: ::std::string::String::from(#table),
                            fields: ::std::vec![#(#field_metas),*],
                            relations: ::std::vec![#(#relation_metas),*],
                            app: #app,
                            options: #table_options,
                            ordering: ::std::vec![#(#ordering),*],
                        })
                    });
                &META
            }

            #full_clean

            #apply_auto_now

            fn from_row(row: ::std::vec::Vec<::chakra::dsl::Value>) -> ::chakra::Result<Self> {
                let mut __cells = row.into_iter();
                ::core::result::Result::Ok(#ident { #(#decode_fields,)* })
            }

            fn apply_row(
                &mut self,
                row: ::std::vec::Vec<::chakra::dsl::Value>,
            ) -> ::chakra::Result<()> {
                let mut __cells = row.into_iter();
                #(#apply_fields)*
                ::core::result::Result::Ok(())
            }

            fn to_values(&self) -> ::std::vec::Vec<::chakra::dsl::Value> {
                let mut v = ::std::vec::Vec::with_capacity(#n_columns);
                #(v.push(#to_values);)*
                v
            }

            fn pk(&self) -> #pk_ty {
                #pk_fn
            }

            fn pk_is_unset(&self) -> bool {
                #pk_unset
            }

            fn set_pk_value(&mut self, v: ::chakra::dsl::Value) -> ::chakra::Result<()> {
                #set_pk
            }

            fn fill_relation(
                &mut self,
                name: &str,
                rows: &mut ::chakra::model::RelatedRows,
                links: &[usize],
            ) -> ::chakra::Result<()> {
                match name {
                    #(#fill_arms)*
                    _ => ::core::result::Result::Err(::chakra::dsl::Error::UnknownRelation {
                        model: ::std::string::String::from(#name),
                        relation: ::std::string::String::from(name),
                        choices: ::std::vec![#(::std::string::String::from(#relation_names)),*],
                    }),
                }
            }

            fn field_value(&self, index: usize) -> ::chakra::dsl::Value {
                match index {
                    #(#field_value_arms)*
                    _ => ::chakra::dsl::Value::Null(::chakra::dsl::ValueType::Text),
                }
            }

            fn duplicate(&self) -> Self {
                #ident { #(#duplicate_fields,)* }
            }

            fn prefetch_relation<'a, __E: ::chakra::exec::Executor>(
                exec: &'a mut __E,
                p: &'a ::chakra::dsl::load_plan::Prefetch,
                parents: &'a mut [Self],
            ) -> ::chakra::load_typed::LevelFuture<'a> {
                match p.attr.as_str() {
                    #(#prefetch_arms)*
                    __relation => {
                        let e = #unknown;
                        ::std::boxed::Box::pin(async move { ::core::result::Result::Err(e) })
                    }
                }
            }

            fn read_joined<__R: ::chakra::dsl::typed::RowCells>(
                &mut self,
                j: &::chakra::dsl::load_plan::Joined,
                cells: &mut __R,
            ) -> ::chakra::Result<()> {
                match j.name.as_str() {
                    #(#joined_arms)*
                    __relation => ::core::result::Result::Err(#unknown),
                }
            }

            fn joined_prefetch<'a, __E: ::chakra::exec::Executor>(
                exec: &'a mut __E,
                j: &'a ::chakra::dsl::load_plan::Joined,
                parents: &'a mut [Self],
            ) -> ::chakra::load_typed::LevelFuture<'a> {
                match j.name.as_str() {
                    #(#joined_prefetch_arms)*
                    __relation => {
                        let e = #unknown;
                        ::std::boxed::Box::pin(async move { ::core::result::Result::Err(e) })
                    }
                }
            }
        }

        ::chakra::inventory::submit! {
            ::chakra::model::ModelRegistration::new(<#ident as ::chakra::model::Model>::meta)
        }

        #(#checks)*
    })
}
