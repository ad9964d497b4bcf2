//! `#[chakra(...)]` attributes: parsed into [`ModelAttrs`] / [`FieldAttrs`], each remembering
//! where it was written so errors and type checks point at it.

use chakra_dsl::names::RELATION_KIND_NAMES;
use chakra_dsl::{Concurrency, RelationKind};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, ExprLit, ExprUnary, Fields, Ident, Lit, LitStr, Type, UnOp};

const MODEL_ATTRS: &str =
    "`table = \"name\"`, `app = \"name\"`, `ordering = \"-field, field\"`, `hooks`, `schema = crate::schema::table`, `no_default`, `index(…)`, `unique(…)` and `check(…)`";
const FIELD_ATTRS: &str = "`primary_key`, `auto_increment`, `auto_now`, `auto_now_add`, `unique`, `index`, `max_length = N`, \
`precision = P`, `scale = S`, `default = \"now()\"` or `default = <literal>`, `column = \"name\"`, \
`relation = OneToMany | ForeignKey | OneToOne | ManyToMany`, `foreign_key = \"column\"`, \
`back_populates = \"field\"`, `on_delete = Cascade | SetNull | Restrict | NoAction`, \
`through = \"table\"`, `source_column = \"column\"`, `target_column = \"column\"`, `version` \
and `unchecked`";

/// A declared default.
pub(crate) enum Default {
    /// `default = "now()"`.
    Now,
    /// A literal, as a token expression of a concrete Rust type (`5i64`, `1.5f64`, `"x"`, `true`).
    Literal(proc_macro2::TokenStream),
}

/// Relation attributes of a `Related<…>` field.
pub(crate) struct RelationAttrs {
    /// The kind, parsed by `chakra_dsl::names` (`ManyToOne` read as `ForeignKey`; a
    /// `ManyToMany`'s table and columns are in `through`, `source_column`, `target_column`).
    pub(crate) kind: RelationKind,
    pub(crate) foreign_key: Option<String>,
    pub(crate) back_populates: Option<String>,
    /// `on_delete = Cascade | SetNull | Restrict | NoAction` (with its span).
    pub(crate) on_delete: Option<(Ident, Span)>,
    pub(crate) through: Option<String>,
    pub(crate) source_column: Option<String>,
    pub(crate) target_column: Option<String>,
}

/// One field.
pub(crate) struct FieldAttrs {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) vis: syn::Visibility,
    pub(crate) column: String,
    pub(crate) primary_key: bool,
    pub(crate) auto_increment: Option<Span>,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) max_length: Option<(u32, Span)>,
    pub(crate) precision: Option<(u32, Span)>,
    pub(crate) scale: Option<(u32, Span)>,
    pub(crate) default: Option<(Default, Span)>,
    pub(crate) relation: Option<RelationAttrs>,
    /// `version` (the model's version column) or `unchecked` (no compare-and-set), parsed
    /// by `chakra_dsl::names`.
    pub(crate) concurrency: Option<(Concurrency, Span)>,
    /// `auto_now` (`OnSave`) or `auto_now_add` (`OnAdd`): the `AutoNow` variant.
    pub(crate) auto_now: Option<(Ident, Span)>,
}

/// The whole model.
pub(crate) struct ModelAttrs {
    pub(crate) table: String,
    /// `app = "blog"`: the migrations app a new table goes to.
    pub(crate) app: Option<String>,
    /// `schema = crate::schema::users`: the module of `schema.rs` the fields are checked
    /// against.
    pub(crate) schema: Option<syn::Path>,
    pub(crate) no_default: bool,
    pub(crate) fields: Vec<FieldAttrs>,
    /// `index(…)`, `unique(…)`, `check(…)`: table-level options.
    pub(crate) options: Vec<crate::table_options::TableOption>,
    /// `ordering = "-created_at, id"`: the default ordering, as field names with `-` for
    /// descending (checked against the struct's fields).
    pub(crate) ordering: Vec<(String, bool)>,
    /// `hooks`: the struct implements `chakra::model::Hooks`, which the writes call.
    pub(crate) hooks: bool,
}

/// `"-created_at, id"` → `[("created_at", true), ("id", false)]`; each name a column field
/// of the struct (`pk`: the primary key), else an error pointing at the string.
fn parse_ordering(lit: &LitStr, fields: &[FieldAttrs]) -> syn::Result<Vec<(String, bool)>> {
    let text = lit.value();
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (name, desc) = match part.strip_prefix('-') {
            Some(n) => (n.trim(), true),
            None => (part, false),
        };
        let columns = || fields.iter().filter(|f| f.relation.is_none());
        let found = if name == "pk" {
            columns().find(|f| f.primary_key)
        } else {
            columns().find(|f| f.ident == name)
        };
        match found {
            Some(f) => out.push((f.ident.to_string(), desc)),
            None => {
                let names: Vec<String> = columns().map(|f| f.ident.to_string()).collect();
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "`ordering` names {name:?}, which is no field of this struct; fields: {}",
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

pub(crate) fn snake_case(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                s.push('_');
            }
            s.extend(c.to_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

fn set_once<T>(slot: &mut Option<T>, v: T, span: Span, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("`{key}` is given twice; write each chakra attribute once"),
        ));
    }
    *slot = Some(v);
    Ok(())
}

fn flag(slot: &mut bool, span: Span, key: &str) -> syn::Result<()> {
    if *slot {
        return Err(syn::Error::new(
            span,
            format!("`{key}` is given twice; write each chakra attribute once"),
        ));
    }
    *slot = true;
    Ok(())
}

fn is_related(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Related"),
        _ => false,
    }
}

fn parse_default(e: &Expr) -> syn::Result<Default> {
    let lit_tokens =
        |lit: &Lit, neg: bool| -> syn::Result<proc_macro2::TokenStream> {
            let minus = if neg {
                quote::quote!(-)
            } else {
                quote::quote!()
            };
            Ok(match lit {
                Lit::Int(i) => {
                    let v: i64 = i.base10_parse()?;
                    quote::quote!(#minus #v)
                }
                Lit::Float(f) => {
                    let v: f64 = f.base10_parse()?;
                    quote::quote!(#minus #v)
                }
                Lit::Bool(b) if !neg => quote::quote!(#b),
                Lit::Str(s) if !neg => quote::quote!(#s),
                _ => return Err(syn::Error::new(
                    lit.span(),
                    "a default must be \"now()\", a number, `true`/`false`, or a string literal",
                )),
            })
        };
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value() == "now()" => Ok(Default::Now),
        Expr::Lit(ExprLit { lit, .. }) => Ok(Default::Literal(lit_tokens(lit, false)?)),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => Ok(Default::Literal(lit_tokens(lit, true)?)),
            other => Err(syn::Error::new(
                other.span(),
                "a default must be \"now()\" or a literal",
            )),
        },
        other => Err(syn::Error::new(
            other.span(),
            "a default must be \"now()\", a number, `true`/`false`, or a string literal",
        )),
    }
}

fn parse_field(f: &syn::Field) -> syn::Result<FieldAttrs> {
    let ident = f.ident.clone().expect("named field");
    let mut column: Option<String> = None;
    let mut primary_key = false;
    let mut auto_increment = None;
    let mut unique = false;
    let mut index = false;
    let mut max_length = None;
    let mut precision = None;
    let mut scale = None;
    let mut default = None;
    let mut kind: Option<RelationKind> = None;
    let mut foreign_key = None;
    let mut back_populates = None;
    let mut on_delete: Option<(Ident, Span)> = None;
    let mut through = None;
    let mut source_column = None;
    let mut target_column = None;
    let mut relation_span = None;
    let mut concurrency: Option<(Concurrency, Span)> = None;
    let mut auto_now: Option<(Ident, Span)> = None;
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("chakra")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let string = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<String> {
                let s: LitStr = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(span, format!("`{key}` takes a string: `{key} = \"…\"`"))
                })?;
                Ok(s.value())
            };
            let number = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<u32> {
                let n: syn::LitInt = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(span, format!("`{key}` takes a whole number: `{key} = 50`"))
                })?;
                n.base10_parse()
            };
            match key.as_str() {
                "primary_key" => flag(&mut primary_key, span, &key),
                "unique" => flag(&mut unique, span, &key),
                "index" => flag(&mut index, span, &key),
                // A concurrency mode's name (`compare`, the default, is not an attribute).
                k if k
                    .parse::<Concurrency>()
                    .is_ok_and(|c| c != Concurrency::Compare) =>
                {
                    let c = k
                        .parse::<Concurrency>()
                        .map_err(|e| syn::Error::new(span, e.to_string()))?;
                    if concurrency.is_some() {
                        return Err(syn::Error::new(
                            span,
                            "`version` and `unchecked` are given at most once, and not together",
                        ));
                    }
                    concurrency = Some((c, span));
                    Ok(())
                }
                "auto_now" | "auto_now_add" => {
                    let variant = if key == "auto_now" { "OnSave" } else { "OnAdd" };
                    if auto_now.is_some() {
                        return Err(syn::Error::new(
                            span,
                            "`auto_now` and `auto_now_add` are given at most once, and not together",
                        ));
                    }
                    auto_now = Some((Ident::new(variant, span), span));
                    Ok(())
                }
                "auto_increment" => set_once(&mut auto_increment, span, span, &key),
                "max_length" => {
                    let n = number(&meta)?;
                    if n == 0 {
                        return Err(syn::Error::new(span, "`max_length` must be at least 1"));
                    }
                    set_once(&mut max_length, (n, span), span, &key)
                }
                "precision" => {
                    let n = number(&meta)?;
                    set_once(&mut precision, (n, span), span, &key)
                }
                "scale" => {
                    let n = number(&meta)?;
                    set_once(&mut scale, (n, span), span, &key)
                }
                "column" => {
                    let s = string(&meta)?;
                    if s.is_empty() || s.contains('"') || s.len() > 63 {
                        return Err(syn::Error::new(
                            span,
                            "`column` must be a name of 1 to 63 bytes without double quotes",
                        ));
                    }
                    set_once(&mut column, s, span, &key)
                }
                "default" => {
                    let e: Expr = meta.value()?.parse()?;
                    set_once(&mut default, (parse_default(&e)?, span), span, &key)
                }
                "relation" => {
                    let k: Ident = meta.value()?.parse().map_err(|_| {
                        syn::Error::new(
                            span,
                            "`relation` takes a kind: OneToMany, ForeignKey, OneToOne or ManyToMany",
                        )
                    })?;
                    // Django's name for the key side, read as ForeignKey.
                    let written = k.to_string();
                    let name = if written == "ManyToOne" { "ForeignKey" } else { &written };
                    let k = name.parse::<RelationKind>().map_err(|_| {
                        syn::Error::new(
                            k.span(),
                            format!(
                                "unknown relation kind `{k}`; the kinds are {} (and ManyToOne, read as ForeignKey)",
                                RELATION_KIND_NAMES.join(", ")
                            ),
                        )
                    })?;
                    relation_span = Some(span);
                    set_once(&mut kind, k, span, &key)
                }
                "foreign_key" => {
                    let s = string(&meta)?;
                    set_once(&mut foreign_key, s, span, &key)
                }
                "back_populates" => {
                    let s = string(&meta)?;
                    set_once(&mut back_populates, s, span, &key)
                }
                "on_delete" => {
                    let k: Ident = meta.value()?.parse().map_err(|_| {
                        syn::Error::new(
                            span,
                            "`on_delete` takes Cascade, SetNull, Restrict or NoAction",
                        )
                    })?;
                    let k = match k.to_string().as_str() {
                        "Cascade" | "CASCADE" => Ident::new("Cascade", k.span()),
                        "SetNull" | "SET_NULL" => Ident::new("SetNull", k.span()),
                        "Restrict" | "RESTRICT" => Ident::new("Restrict", k.span()),
                        "NoAction" | "NO_ACTION" => Ident::new("NoAction", k.span()),
                        other => {
                            return Err(syn::Error::new(
                                k.span(),
                                format!("unknown on_delete `{other}`; choose Cascade, SetNull, Restrict or NoAction"),
                            ))
                        }
                    };
                    set_once(&mut on_delete, (k, span), span, &key)
                }
                "through" => {
                    let s = string(&meta)?;
                    set_once(&mut through, s, span, &key)
                }
                "source_column" => {
                    let s = string(&meta)?;
                    set_once(&mut source_column, s, span, &key)
                }
                "target_column" => {
                    let s = string(&meta)?;
                    set_once(&mut target_column, s, span, &key)
                }
                "table" | "no_default" => Err(syn::Error::new(
                    span,
                    format!("`{key}` belongs on the struct, not on a field; field attributes are {FIELD_ATTRS}"),
                )),
                _ => {
                    let p = &meta.path;
                    Err(syn::Error::new(
                        span,
                        format!(
                            "unknown chakra attribute `{}`; field attributes are {FIELD_ATTRS}",
                            quote::quote!(#p).to_string().replace(' ', "")
                        ),
                    ))
                }
            }
        })?;
    }
    let related = is_related(&f.ty);
    let relation = match (kind, related) {
        (Some(kind), true) => {
            if matches!(kind, RelationKind::ManyToMany { .. }) {
                if through.is_none() {
                    return Err(syn::Error::new(
                        relation_span.unwrap_or_else(|| f.span()),
                        "a ManyToMany relation needs `through = \"table\"` (its columns default to `<model>_id`; set `source_column` / `target_column` to name them)",
                    ));
                }
            } else if through.is_some() || source_column.is_some() || target_column.is_some() {
                return Err(syn::Error::new(
                    relation_span.unwrap_or_else(|| f.span()),
                    "`through`, `source_column` and `target_column` apply only to `relation = ManyToMany`",
                ));
            }
            if let Some((_, span)) = &on_delete {
                if !matches!(kind, RelationKind::ForeignKey | RelationKind::OneToOne) {
                    return Err(syn::Error::new(
                        *span,
                        "`on_delete` applies to the side that holds the key: `relation = ForeignKey` or `OneToOne`",
                    ));
                }
            }
            Some(RelationAttrs {
                kind,
                foreign_key,
                back_populates,
                on_delete,
                through,
                source_column,
                target_column,
            })
        }
        (Some(_), false) => {
            return Err(syn::Error::new(
                relation_span.unwrap_or_else(|| f.span()),
                "`relation` goes on a `Related<…>` field (`pub posts: Related<Vec<Post>>`)",
            ))
        }
        (None, true) => {
            return Err(syn::Error::new(
                f.ty.span(),
                "a `Related<…>` field needs `#[chakra(relation = OneToMany | ForeignKey | OneToOne | ManyToMany, …)]`",
            ))
        }
        (None, false) => {
            let stray = [
                ("foreign_key", foreign_key.is_some()),
                ("back_populates", back_populates.is_some()),
                ("on_delete", on_delete.is_some()),
                ("through", through.is_some()),
                ("source_column", source_column.is_some()),
                ("target_column", target_column.is_some()),
            ];
            if let Some((k, _)) = stray.iter().find(|(_, set)| *set) {
                return Err(syn::Error::new(
                    f.span(),
                    format!("`{k}` applies only to a `Related<…>` field with `relation = …`"),
                ));
            }
            None
        }
    };
    if relation.is_some() {
        let column_attrs = primary_key
            || unique
            || index
            || auto_increment.is_some()
            || max_length.is_some()
            || precision.is_some()
            || scale.is_some()
            || default.is_some()
            || column.is_some();
        if column_attrs {
            return Err(syn::Error::new(
                f.span(),
                "a `Related<…>` field is not a column: column attributes (primary_key, unique, index, auto_increment, max_length, precision, scale, default, column) do not apply",
            ));
        }
    }
    if let Some(span) = auto_increment {
        if !primary_key {
            return Err(syn::Error::new(
                span,
                "`auto_increment` is allowed only together with `primary_key`",
            ));
        }
    }
    if let (Some((_, span)), Some(_)) = (&default, &auto_increment) {
        return Err(syn::Error::new(
            *span,
            "an `auto_increment` key is generated by the database and cannot have a `default`",
        ));
    }
    Ok(FieldAttrs {
        column: column.unwrap_or_else(|| ident.to_string()),
        ident,
        ty: f.ty.clone(),
        vis: f.vis.clone(),
        primary_key,
        auto_increment,
        unique,
        index,
        max_length,
        precision,
        scale,
        default,
        relation,
        concurrency,
        auto_now,
    })
}

/// Parses and checks the whole derive input.
pub(crate) fn parse_model(input: &DeriveInput) -> syn::Result<ModelAttrs> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "a Model cannot be generic: one struct maps to one table",
        ));
    }
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => &n.named,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Model)] needs a struct with named fields",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Model)] works on structs only",
            ))
        }
    };
    let mut table = None;
    let mut app = None;
    let mut schema: Option<syn::Path> = None;
    let mut no_default = false;
    let mut options = Vec::new();
    let mut ordering: Option<(LitStr, Span)> = None;
    let mut hooks = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("chakra")) {
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("table") {
                let s: LitStr = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(span, "`table` takes a string: `table = \"users\"`")
                })?;
                let v = s.value();
                if v.is_empty() || v.contains('"') || v.len() > 63 {
                    return Err(syn::Error::new(
                        s.span(),
                        "`table` must be a name of 1 to 63 bytes without double quotes",
                    ));
                }
                set_once(&mut table, v, span, "table")
            } else if meta.path.is_ident("schema") {
                let p: syn::Path = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(
                        span,
                        "`schema` takes the table's module in schema.rs: `schema = crate::schema::users`",
                    )
                })?;
                set_once(&mut schema, p, span, "schema")
            } else if meta.path.is_ident("app") {
                let s: LitStr = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(span, "`app` takes a string: `app = \"blog\"`")
                })?;
                let v = s.value();
                if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(syn::Error::new(
                        s.span(),
                        "`app` is a migrations folder name: letters, digits and underscores",
                    ));
                }
                set_once(&mut app, v, span, "app")
            } else if meta.path.is_ident("ordering") {
                let s: LitStr = meta.value()?.parse().map_err(|_| {
                    syn::Error::new(
                        span,
                        "`ordering` takes a string: `ordering = \"-created_at, id\"`",
                    )
                })?;
                set_once(&mut ordering, (s, span), span, "ordering")
            } else if meta.path.is_ident("hooks") {
                flag(&mut hooks, span, "hooks")
            } else if meta.path.is_ident("no_default") {
                flag(&mut no_default, span, "no_default")
            } else if let Some(o) = crate::table_options::parse(&meta)? {
                options.push(o);
                Ok(())
            } else {
                let p = &meta.path;
                Err(syn::Error::new(
                    span,
                    format!(
                        "unknown chakra attribute `{}` on a model; model attributes are {MODEL_ATTRS} (field attributes go on fields)",
                        quote::quote!(#p).to_string().replace(' ', "")
                    ),
                ))
            }
        })?;
    }
    let fields = fields
        .iter()
        .map(parse_field)
        .collect::<syn::Result<Vec<_>>>()?;
    let pks: Vec<&FieldAttrs> = fields.iter().filter(|f| f.primary_key).collect();
    match pks.len() {
        0 => {
            return Err(syn::Error::new(
                input.ident.span(),
                "a Model needs a primary key: mark one field `#[chakra(primary_key)]`",
            ))
        }
        1 => {}
        2..=4 => {
            // A composite key: its values are given, never generated.
            if let Some(span) = pks.iter().find_map(|f| f.auto_increment) {
                return Err(syn::Error::new(
                    span,
                    "`auto_increment` cannot be on a field of a composite primary key \
                     (several `primary_key` fields): its values are given, not generated",
                ));
            }
        }
        _ => {
            return Err(syn::Error::new(
                pks[4].ident.span(),
                "a composite primary key has at most 4 fields (`Model::get` takes a tuple of them)",
            ))
        }
    }
    let mut seen = std::collections::HashSet::new();
    for f in fields.iter().filter(|f| f.relation.is_none()) {
        if !seen.insert(f.column.clone()) {
            return Err(syn::Error::new(
                f.ident.span(),
                format!("two fields map to the column `{}`", f.column),
            ));
        }
    }
    for f in &fields {
        let Some(r) = &f.relation else { continue };
        let kind = r.kind.name();
        if matches!(r.kind, RelationKind::ManyToMany { .. }) {
            continue;
        }
        let Some(fk) = &r.foreign_key else {
            return Err(syn::Error::new(
                f.ident.span(),
                format!("a {kind} relation needs `foreign_key = \"column\"`: the key column (on this struct for ForeignKey, on the related struct for OneToMany)"),
            ));
        };
        let local = fields
            .iter()
            .any(|c| c.relation.is_none() && (c.ident == fk.as_str() || c.column == *fk));
        if r.kind == RelationKind::ForeignKey && !local {
            return Err(syn::Error::new(
                f.ident.span(),
                format!("`foreign_key = \"{fk}\"` names no field of this struct: a ForeignKey relation needs its key column as a field (`pub {fk}: i64`, or `Option<i64>` when nullable)"),
            ));
        }
        if let (Some((_, span)), false) = (&r.on_delete, local) {
            return Err(syn::Error::new(
                *span,
                "`on_delete` goes on the side that holds the key column; this OneToOne's key is on the related struct",
            ));
        }
    }
    let ordering = match ordering {
        None => Vec::new(),
        Some((lit, _)) => parse_ordering(&lit, &fields)?,
    };
    Ok(ModelAttrs {
        ordering,
        hooks,
        table: table.unwrap_or_else(|| snake_case(&input.ident.to_string())),
        app,
        schema,
        no_default,
        fields,
        options,
    })
}
