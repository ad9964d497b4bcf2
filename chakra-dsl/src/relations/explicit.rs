//! Statements for one object's related rows, loaded or changed explicitly: the rows related
//! to one source row (`await user.posts.all()`, Rust `user.related(User::posts())`), and
//! the join-table rows of a many-to-many (`post.tags.add(…)`, `remove`, `clear`, `set`).

use super::{Link, ResolvedRelation};
use crate::error::{Error, Result};
use crate::ir::{Delete, Expr, Insert, Select, Source};
use crate::meta::FieldMeta;
use crate::value::Value;

use super::{column_as, field_as as col};

/// The condition, over the target model (qualified by its table name), that selects the rows
/// related to the source row whose key (`rel.source_key()`) is `key`.
pub fn related_filter(rel: &ResolvedRelation, key: Value) -> Expr {
    match &rel.link {
        Link::Direct { target_field, .. } => {
            col(&rel.target.table, target_field).eq(Expr::Value(key))
        }
        Link::Through {
            table,
            source_key,
            source_column,
            target_column,
            target_key,
        } => {
            let j = |c: &str, f: &FieldMeta| column_as("_j1", c, f);
            let mut s = Select::from(Source::aliased(table.clone(), "_j1"))
                .column(j(target_column, target_key), target_key.ty.value_type());
            s.add_filter(j(source_column, source_key).eq(Expr::Value(key)));
            s.add_filter(j(target_column, target_key).eq(col(&rel.target.table, target_key)));
            Expr::Exists(Box::new(s))
        }
    }
}

fn through(rel: &ResolvedRelation) -> Result<(&str, &FieldMeta, &str, &str, &FieldMeta)> {
    match &rel.link {
        Link::Through {
            table,
            source_key,
            source_column,
            target_column,
            target_key,
        } => Ok((table, source_key, source_column, target_column, target_key)),
        Link::Direct { .. } => Err(Error::InvalidRelation {
            model: rel.source.name.clone(),
            relation: rel.name.clone(),
            reason: "add/remove/clear/set work on many-to-many relations; set the foreign key \
                     on the related object instead"
                .into(),
        }),
    }
}

/// `SELECT target_column FROM through WHERE source_column = key AND target_column IN
/// (targets)`: which of `targets` are already linked.
pub fn linked(rel: &ResolvedRelation, key: Value, targets: Vec<Value>) -> Result<Select> {
    let (table, sk, sc, tc, tk) = through(rel)?;
    let c = |name: &str, f: &FieldMeta| column_as(table, name, f);
    let mut s = Select::from(Source::table(table)).column(c(tc, tk), tk.ty.value_type());
    s.add_filter(c(sc, sk).eq(Expr::Value(key)));
    s.add_filter(c(tc, tk).is_in(targets));
    Ok(s)
}

/// `INSERT INTO through (source_column, target_column) VALUES (key, t), …`.
pub fn link(rel: &ResolvedRelation, key: Value, targets: Vec<Value>) -> Result<Insert> {
    let (table, _, sc, tc, _) = through(rel)?;
    Ok(Insert {
        enum_types: Default::default(),
        table: table.to_owned(),
        columns: vec![sc.to_owned(), tc.to_owned()],
        rows: targets.into_iter().map(|t| vec![key.clone(), t]).collect(),
        returning: Vec::new(),
    })
}

/// `DELETE FROM through WHERE source_column = key [AND target_column IN (targets)]`.
pub fn unlink(rel: &ResolvedRelation, key: Value, targets: Option<Vec<Value>>) -> Result<Delete> {
    let (table, sk, sc, tc, tk) = through(rel)?;
    let c = |name: &str, f: &FieldMeta| column_as(table, name, f);
    let mut filter = c(sc, sk).eq(Expr::Value(key));
    if let Some(t) = targets {
        filter = filter.and(c(tc, tk).is_in(t));
    }
    Ok(Delete {
        table: table.to_owned(),
        filter: Some(filter),
        returning: Vec::new(),
    })
}
