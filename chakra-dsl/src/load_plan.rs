//! [`LoadPlan`]: a model query with its relations to load eagerly, resolved before any I/O.
//!
//! - `select_related("author__profile")` joins single-valued relations into the main
//!   statement (INNER for a required key, LEFT for a nullable key or a reverse one-to-one, and
//!   LEFT all the way down once one hop is LEFT); each joined model's columns follow its
//!   parent's in the row, so the executor splits rows into blocks.
//! - `prefetch_related("posts__comments")` adds one statement per level, run after the
//!   level above with the parents' keys bound as one array (`= ANY($1)` on PostgreSQL,
//!   `json_each` on SQLite), so its text never depends on how many parents there are.
//!
//! Both front doors build the same plan: the Rust `Query::select_related(User::profile())`
//! and Python's `select_related("profile")` name the same relation.

use crate::error::{Error, Result};
use crate::ir::{Expr, Join, JoinKind, Select, SelectItem, Source, Statement};
use crate::meta::ModelMeta;
use crate::model_query::{field_expr, ModelQuery};
use crate::relations::{column_as, field_as, resolve_relation, Link, Models, ResolvedRelation};
use crate::value::Value;
use std::sync::Arc;

/// One `prefetch_related` entry: a relation path, optionally with the query the last hop's
/// rows must match (and its ordering), stored under another attribute name.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefetchSpec {
    /// The relation path (`posts__comments`).
    pub path: String,
    /// Filter and ordering for the last hop's rows (over the target model).
    pub query: Option<ModelQuery>,
    /// Attribute to store the rows under instead of the relation's own name.
    pub to_attr: Option<String>,
}

impl PrefetchSpec {
    /// A plain prefetch of `path`.
    pub fn new(path: impl Into<String>) -> Self {
        PrefetchSpec {
            path: path.into(),
            query: None,
            to_attr: None,
        }
    }
}

/// Relations to load with a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadSpec {
    /// `select_related` paths.
    pub select_related: Vec<String>,
    /// `prefetch_related` entries.
    pub prefetch: Vec<PrefetchSpec>,
}

impl LoadSpec {
    /// True when nothing is to be loaded.
    pub fn is_empty(&self) -> bool {
        self.select_related.is_empty() && self.prefetch.is_empty()
    }
}

/// A model's rows in a result and the relations loaded for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The model.
    pub meta: Arc<ModelMeta>,
    /// Index of the model's first column in the row.
    pub offset: usize,
    /// Annotation columns after the fields (the queried model's `annotate()` values; 0 for
    /// related models).
    pub annotations: usize,
    /// Relations joined into the same row.
    pub joined: Vec<Joined>,
    /// Relations loaded by a further statement each.
    pub prefetch: Vec<Prefetch>,
}

impl Node {
    fn new(meta: Arc<ModelMeta>, offset: usize) -> Self {
        Node {
            meta,
            offset,
            annotations: 0,
            joined: Vec::new(),
            prefetch: Vec::new(),
        }
    }

    /// Number of columns of the model's own block (its fields, then the query's annotations
    /// for the queried model).
    pub fn width(&self) -> usize {
        self.meta.fields.len() + self.annotations
    }
}

/// A single-valued relation joined into the parent's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The relation's attribute name.
    pub name: String,
    /// The relation.
    pub rel: ResolvedRelation,
    /// The related model's block.
    pub node: Node,
    /// Column (absolute, in the row) of the related primary key: NULL means no related row.
    pub key_column: usize,
}

/// A relation loaded with its own statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefetch {
    /// The attribute the rows are stored under (the relation's name, or `to_attr`).
    pub attr: String,
    /// The relation.
    pub rel: ResolvedRelation,
    /// The query over the related model (all rows, or the user's filter and ordering).
    pub query: ModelQuery,
    /// Index, within the parent's block, of the field whose values are the keys.
    pub parent_key: usize,
    /// The related rows' block and their own nested loads.
    pub node: Node,
}

impl Prefetch {
    /// The statement loading the related rows of the parents whose keys are `keys`. Each
    /// returned row holds the related model's fields, then the parent key it belongs to.
    pub fn statement(&self, keys: Vec<Value>) -> Statement {
        let target = &self.rel.target;
        let mut s = self.query.select();
        match &self.rel.link {
            Link::Direct { target_field, .. } => {
                let key = field_expr(target, target_field);
                s.add_filter(key.clone().is_in(keys));
                s = s.column(key, target_field.ty.value_type());
            }
            Link::Through {
                table,
                source_key,
                source_column,
                target_column,
                target_key,
            } => {
                let alias = "_j1";
                let j = |c: &str, key: &crate::meta::FieldMeta| column_as(alias, c, key);
                s.joins.push(Join {
                    kind: JoinKind::Inner,
                    source: Source::aliased(table.clone(), alias),
                    on: j(target_column, target_key).eq(field_expr(target, target_key)),
                });
                s.add_filter(j(source_column, source_key).is_in(keys));
                s = s.column(j(source_column, source_key), source_key.ty.value_type());
            }
        }
        Statement::Select(s)
    }

    /// Like [`Prefetch::statement`], for a reader that takes each row's parent key from
    /// the related model's own field when the link is direct: no key column is added, and
    /// the index of that field (in the target's fields) is returned. Through a join table
    /// the key column follows the fields, as in [`Prefetch::statement`] (`None`).
    pub fn statement_keyed(&self, keys: Vec<Value>) -> (Statement, Option<usize>) {
        let target = &self.rel.target;
        match &self.rel.link {
            Link::Direct { target_field, .. } => {
                let Some(at) = target
                    .fields
                    .iter()
                    .position(|f| f.name == target_field.name)
                else {
                    return (self.statement(keys), None);
                };
                let mut s = self.query.select();
                s.add_filter(field_expr(target, target_field).is_in(keys));
                (Statement::Select(s), Some(at))
            }
            Link::Through { .. } => (self.statement(keys), None),
        }
    }
}

/// A model query with its eager loads resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// The main statement (joined relations included).
    pub select: Select,
    /// The queried model's block.
    pub root: Node,
}

impl LoadPlan {
    /// Resolves `spec` against the models and builds the main statement from `query`.
    /// Fails before any I/O on an unknown relation, or a `select_related` of a relation
    /// that can hold many rows.
    pub fn build(models: &dyn Models, query: &ModelQuery, spec: &LoadSpec) -> Result<LoadPlan> {
        if !spec.select_related.is_empty() && !query.grouping().is_empty() {
            return Err(Error::InvalidQuery(format!(
                "select_related() on {} cannot be combined with an aggregate annotation (the \
                 joined columns would have to be grouped too); use prefetch_related(), or a \
                 relation count (Count(\"relation\"))",
                query.meta.name
            )));
        }
        let mut select = query.select();
        let mut root = Node::new(query.meta.clone(), 0);
        // The annotations follow the fields in the queried model's block.
        root.annotations = query.annotations.len();
        let mut n_alias = 0usize;
        for path in &spec.select_related {
            let parts: Vec<&str> = path.split("__").collect();
            join_path(
                models,
                &mut root,
                &query.meta.table,
                false,
                &parts,
                &mut select,
                &mut n_alias,
            )?;
        }
        for p in &spec.prefetch {
            let parts: Vec<&str> = p.path.split("__").collect();
            prefetch_path(models, &mut root, &parts, p)?;
        }
        Ok(LoadPlan { select, root })
    }
}

fn join_path(
    models: &dyn Models,
    node: &mut Node,
    qualifier: &str,
    left: bool,
    parts: &[&str],
    select: &mut Select,
    n_alias: &mut usize,
) -> Result<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    if let Some(pos) = node.joined.iter().position(|j| j.name == *first) {
        let alias = joined_alias(select, node.joined[pos].node.offset);
        let is_left = left || node.joined[pos].rel.is_optional();
        let j = &mut node.joined[pos];
        return join_path(models, &mut j.node, &alias, is_left, rest, select, n_alias);
    }
    let rel = resolve_relation(models, &node.meta, first)?;
    if rel.is_many() {
        return Err(Error::InvalidRelation {
            model: node.meta.name.clone(),
            relation: rel.name.clone(),
            reason: "select_related() follows relations to one row; this one holds many \
                     rows: use prefetch_related()"
                .into(),
        });
    }
    let Link::Direct {
        source_field,
        target_field,
    } = &rel.link
    else {
        unreachable!("single-valued relations link directly");
    };
    *n_alias += 1;
    let alias = format!("_s{n_alias}");
    let is_left = left || rel.is_optional();
    let target = rel.target.clone();
    select.joins.push(Join {
        kind: if is_left {
            JoinKind::Left
        } else {
            JoinKind::Inner
        },
        source: Source::aliased(target.table.clone(), alias.clone()),
        on: field_as(&alias, target_field).eq(field_as(qualifier, source_field)),
    });
    let offset = select.columns.len();
    for f in &target.fields {
        select
            .columns
            .push(SelectItem::new(field_as(&alias, f), f.ty.value_type()));
    }
    let pk_index = target
        .fields
        .iter()
        .position(|f| f.primary_key)
        .or_else(|| {
            target
                .fields
                .iter()
                .position(|f| f.name == target_field.name)
        })
        .unwrap_or(0);
    let mut child = Node::new(target, offset);
    join_path(models, &mut child, &alias, is_left, rest, select, n_alias)?;
    node.joined.push(Joined {
        name: first.to_string(),
        rel,
        node: child,
        key_column: offset + pk_index,
    });
    Ok(())
}

/// The alias of the joined block starting at column `offset`.
fn joined_alias(select: &Select, offset: usize) -> String {
    match &select.columns[offset].expr {
        Expr::Column(c) => c.table.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn prefetch_path(
    models: &dyn Models,
    node: &mut Node,
    parts: &[&str],
    spec: &PrefetchSpec,
) -> Result<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let last = rest.is_empty();
    let attr = match (&spec.to_attr, last) {
        (Some(a), true) => a.clone(),
        _ => first.to_string(),
    };
    // Through a relation already joined or prefetched at this level.
    if !last {
        if let Some(j) = node.joined.iter_mut().find(|j| j.name == *first) {
            return prefetch_path(models, &mut j.node, rest, spec);
        }
    }
    if let Some(p) = node.prefetch.iter_mut().find(|p| p.attr == attr) {
        if last && spec.query.is_some() {
            return Err(Error::InvalidQuery(format!(
                "{}.{} is prefetched twice; give the filtered one a to_attr",
                node.meta.name, attr
            )));
        }
        return prefetch_path(models, &mut p.node, rest, spec);
    }
    let rel = resolve_relation(models, &node.meta, first)?;
    let query = match (&spec.query, last) {
        (Some(q), true) => {
            if q.meta.name != rel.target.name {
                return Err(Error::InvalidQuery(format!(
                    "the prefetch query for {}.{} is over {}, not {}",
                    node.meta.name, first, q.meta.name, rel.target.name
                )));
            }
            let mut q = q.clone();
            // Limits apply per parent in Django; here they would cut across parents.
            if q.limit.is_some() || q.offset.is_some() {
                return Err(Error::InvalidQuery(format!(
                    "a prefetch query for {}.{} cannot be sliced (the slice would apply to \
                     all parents together)",
                    node.meta.name, first
                )));
            }
            q.distinct = false;
            q
        }
        _ => ModelQuery::new(rel.target.clone()),
    };
    // Without an ordering of its own, related rows come in primary-key order, as explicit
    // loading gives them.
    // (Every key field of a composite key.)
    let query = if query.order_by.is_empty() {
        rel.target
            .primary_key_fields()
            .into_iter()
            .fold(query, |q, pk| {
                let e = field_expr(&rel.target, pk);
                q.order_by(e, false)
            })
    } else {
        query
    };
    let key_field = rel.source_key().name.clone();
    let parent_key = node
        .meta
        .fields
        .iter()
        .position(|f| f.name == key_field)
        .ok_or_else(|| Error::InvalidRelation {
            model: node.meta.name.clone(),
            relation: rel.name.clone(),
            reason: format!("{} has no field {key_field:?}", node.meta.name),
        })?;
    let mut child = Node::new(rel.target.clone(), 0);
    prefetch_path(models, &mut child, rest, spec)?;
    node.prefetch.push(Prefetch {
        attr,
        rel,
        query,
        parent_key,
        node: child,
    });
    Ok(())
}
