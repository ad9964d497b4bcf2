//! The Rust door's relationship loading: a [`LoadPlan`]'s main statement and its prefetch
//! levels read into structs by the generated row readers ([`ReadRow`]; on PostgreSQL
//! straight from the wire), with no tree of [`Value`] rows in between. The Python door keeps
//! [`crate::load`]'s `Loaded` tree.
//!
//! Each prefetch level: the parents' keys ([`Model::field_value`]) deduplicated, one group
//! per distinct key, and bound as one array ([`Prefetch::statement_keyed`]); the related
//! rows read by the target's reader (a direct link's parent key is the target's own field;
//! through a join table the row is a [`Keyed`]: the target's fields, then the parent key in
//! the key column's Rust type); their own levels run on them; then each row is moved into
//! its key's group and each group into its parent's `Related` field ([`TypedSlot`]), a
//! group shared by several parents (the author of several posts) duplicated for all but
//! the last ([`Model::duplicate`]).
//!
//! A `select_related` row holds several models' blocks: it is read as a [`JoinedRow`], the
//! queried model by its reader, then each joined model whose key is not NULL by its own
//! ([`Model::read_joined`]), at the offsets the plan's [`Node`] gives. A row type has no
//! argument (diesel builds it from the row alone), so the node is lent for the duration of
//! the statement through a thread-local set around each poll of the read ([`WithLayout`]):
//! the rows are decoded inside that poll, on whichever thread runs it. Prefetch levels under
//! a joined model run on the joined objects, taken out of their fields and put back
//! ([`Model::joined_prefetch`]).

use crate::exec::Executor;
use crate::load::{key_of, Key};
use crate::model::Model;
use chakra_dsl::load_plan::Joined;
use chakra_dsl::load_plan::{Node, Prefetch};
use chakra_dsl::relations::Link;
use chakra_dsl::typed::{ColumnType, Keyed, Related, RelationTarget, KEY_CELL};
use chakra_dsl::typed::{ReadRow, RowCells, ValueCells};
use chakra_dsl::{Error, LoadPlan, Result, Statement, Value, ValueType};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The future of one prefetch level ([`Model::prefetch_relation`]): boxed, as levels nest
/// through models that may point back at each other.
pub type LevelFuture<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

/// Runs `plan` on `exec`, reading every row into its model's struct.
pub async fn run<M: Model, E: Executor>(exec: &mut E, plan: &LoadPlan) -> Result<Vec<M>> {
    let stmt = Statement::Select(plan.select.clone());
    let mut models = if plan.root.joined.is_empty() {
        exec.fetch_models::<M>(&stmt).await?
    } else {
        let layout = Arc::new(plan.root.clone());
        let read = exec.fetch_models::<JoinedRow<M>>(&stmt);
        let rows = WithLayout::new(layout, read).await?;
        rows.into_iter().map(|r| r.0).collect()
    };
    prefetch_node(exec, &plan.root, &mut models).await?;
    Ok(models)
}

/// Runs the prefetch levels of `node` for `models` (and, under each, the levels below).
pub async fn prefetch_node<M: Model, E: Executor>(
    exec: &mut E,
    node: &Node,
    models: &mut [M],
) -> Result<()> {
    for j in &node.joined {
        if has_prefetch(&j.node) {
            M::joined_prefetch(exec, j, models).await?;
        }
    }
    for p in &node.prefetch {
        M::prefetch_relation(exec, p, models).await?;
    }
    Ok(())
}

/// True when `node` or a model joined below it has prefetch levels.
fn has_prefetch(node: &Node) -> bool {
    !node.prefetch.is_empty() || node.joined.iter().any(|j| has_prefetch(&j.node))
}

thread_local! {
    /// The layout of the `select_related` rows being read on this thread ([`WithLayout`]).
    static LAYOUT: RefCell<Option<Arc<Node>>> = const { RefCell::new(None) };
}

/// A read of `select_related` rows, with their layout lent to [`JoinedRow`] during each
/// poll (the previous one put back after, so reads may nest).
pub struct WithLayout<F> {
    layout: Arc<Node>,
    read: Pin<Box<F>>,
}

impl<F: Future> WithLayout<F> {
    /// `read` with `layout` lent to the rows it decodes.
    pub fn new(layout: Arc<Node>, read: F) -> WithLayout<F> {
        WithLayout {
            layout,
            read: Box::pin(read),
        }
    }
}

impl<F: Future> Future for WithLayout<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let lent = Some(self.layout.clone());
        let before = LAYOUT.with(|l| l.replace(lent));
        let r = self.read.as_mut().poll(cx);
        LAYOUT.with(|l| l.replace(before));
        r
    }
}

/// A `select_related` row read into the queried model with its joined models, by the
/// generated readers, at the offsets of the layout [`WithLayout`] lends.
pub struct JoinedRow<M>(pub M);

impl<M: Model> ReadRow for JoinedRow<M> {
    fn read_row<R: RowCells>(cells: &mut R) -> Result<Self> {
        LAYOUT.with(|l| match &*l.borrow() {
            Some(node) => read_node::<M, R>(node, cells).map(JoinedRow),
            None => Err(Error::InvalidQuery(format!(
                "a select_related row of {} was read without its layout",
                M::NAME
            ))),
        })
    }
    fn from_values(row: Vec<Value>) -> Result<Self> {
        Self::read_row(&mut ValueCells::new(row))
    }
}

/// Reads the block of `node` (and the blocks joined below it) from `cells`.
pub fn read_node<M: Model, R: RowCells>(node: &Node, cells: &mut R) -> Result<M> {
    cells.seek(node.offset);
    let mut m = M::read_row(cells)?;
    for j in &node.joined {
        m.read_joined(j, cells)?;
    }
    Ok(m)
}

/// A relation field that a prefetch level fills with objects read by their generated row
/// reader: `Related<Vec<T>>`, `Related<Option<T>>`, `Related<T>`.
pub trait TypedSlot: Sized + Send + 'static {
    /// The related model.
    type Target: Model;
    /// True when the field holds a list.
    const MANY: bool;

    /// Stores one parent's related objects (in the level's order).
    fn store(&mut self, objects: Vec<Self::Target>) -> Result<()>;

    /// A copy of the field, its loaded objects duplicated ([`Model::duplicate`]).
    fn duplicate(&self, owner: &'static str, relation: &'static str) -> Self;

    /// Takes the loaded objects out of the field (leaving it unloaded).
    fn take_objects(&mut self) -> Vec<Self::Target>;

    /// Reads the joined model `j` from a `select_related` row into the field: none when its
    /// key cell is NULL (an error for a required `Related<T>`).
    fn read_joined<R: RowCells>(&mut self, j: &Joined, cells: &mut R) -> Result<()> {
        let objects = if cells.is_null_at(j.key_column) {
            Vec::new()
        } else {
            vec![read_node::<Self::Target, R>(&j.node, cells)?]
        };
        self.store(objects)
    }

    /// Runs the prefetch levels under the joined model `j` on the objects the field `slot`
    /// gives for each of `parents` (taken out, loaded, put back).
    fn joined_prefetch<'a, P: Model, E: Executor>(
        exec: &'a mut E,
        j: &'a Joined,
        parents: &'a mut [P],
        slot: fn(&mut P) -> &mut Self,
    ) -> LevelFuture<'a> {
        Box::pin(async move {
            let mut counts = Vec::with_capacity(parents.len());
            let mut objects = Vec::with_capacity(parents.len());
            for parent in parents.iter_mut() {
                let taken = slot(parent).take_objects();
                counts.push(taken.len());
                objects.extend(taken);
            }
            prefetch_node(exec, &j.node, &mut objects).await?;
            let mut objects = objects.into_iter();
            for (parent, n) in parents.iter_mut().zip(counts) {
                slot(parent).store(objects.by_ref().take(n).collect())?;
            }
            Ok(())
        })
    }

    /// Runs prefetch level `p` for `parents`, storing each parent's objects in the field
    /// `slot` gives (what the generated [`Model::prefetch_relation`] calls).
    fn prefetch<'a, P: Model, E: Executor>(
        exec: &'a mut E,
        p: &'a Prefetch,
        parents: &'a mut [P],
        slot: fn(&mut P) -> &mut Self,
    ) -> LevelFuture<'a> {
        Box::pin(async move {
            let mut level = read_level::<P, Self::Target, E>(exec, p, parents).await?;
            let parent_group = std::mem::take(&mut level.parent_group);
            for (parent, group) in parents.iter_mut().zip(parent_group) {
                let mut objects = match group {
                    None => Vec::new(),
                    Some(g) => level.take(g as usize),
                };
                if !Self::MANY {
                    objects.truncate(1);
                }
                slot(parent).store(objects)?;
            }
            Ok(())
        })
    }
}

impl<T: Model + RelationTarget> TypedSlot for Related<Vec<T>> {
    type Target = T;
    const MANY: bool = true;
    fn store(&mut self, objects: Vec<T>) -> Result<()> {
        self.set(objects);
        Ok(())
    }
    fn duplicate(&self, owner: &'static str, relation: &'static str) -> Self {
        let mut r = Related::unloaded_for(owner, relation);
        if let Ok(v) = self.get() {
            r.set(v.iter().map(T::duplicate).collect());
        }
        r
    }
    fn take_objects(&mut self) -> Vec<T> {
        self.take().unwrap_or_default()
    }
}

impl<T: Model + RelationTarget> TypedSlot for Related<Option<T>> {
    type Target = T;
    const MANY: bool = false;
    fn store(&mut self, objects: Vec<T>) -> Result<()> {
        self.set(objects.into_iter().next());
        Ok(())
    }
    fn duplicate(&self, owner: &'static str, relation: &'static str) -> Self {
        let mut r = Related::unloaded_for(owner, relation);
        if let Ok(v) = self.get() {
            r.set(v.as_ref().map(T::duplicate));
        }
        r
    }
    fn take_objects(&mut self) -> Vec<T> {
        self.take().flatten().into_iter().collect()
    }
}

impl<T: Model + RelationTarget> TypedSlot for Related<T> {
    type Target = T;
    const MANY: bool = false;
    fn store(&mut self, objects: Vec<T>) -> Result<()> {
        match objects.into_iter().next() {
            Some(t) => {
                self.set(t);
                Ok(())
            }
            None => Err(crate::model::related::missing_required::<T>()),
        }
    }
    fn duplicate(&self, owner: &'static str, relation: &'static str) -> Self {
        let mut r = Related::unloaded_for(owner, relation);
        if let Ok(v) = self.get() {
            r.set(v.duplicate());
        }
        r
    }
    fn take_objects(&mut self) -> Vec<T> {
        self.take().into_iter().collect()
    }
}

/// The related objects of one level, grouped by parent key, and each parent's group.
struct Level<T> {
    /// One group per distinct parent key, its objects in the level's order.
    groups: Vec<Vec<T>>,
    /// How many parents share each group (a group used once is moved, not duplicated).
    uses: Vec<u32>,
    /// Each parent's group (`None`: a NULL key).
    parent_group: Vec<Option<u32>>,
}

impl<T: Model> Level<T> {
    /// The objects of group `g`: moved out at its last use, duplicated before.
    fn take(&mut self, g: usize) -> Vec<T> {
        if self.uses[g] > 1 {
            self.uses[g] -= 1;
            return self.groups[g].iter().map(T::duplicate).collect();
        }
        std::mem::take(&mut self.groups[g])
    }
}

type KeyMap<V> = HashMap<Key, V, foldhash::fast::RandomState>;

/// Reads level `p` for `parents`: the related objects (with their own levels loaded),
/// grouped by the parent key each carries.
async fn read_level<P: Model, T: Model, E: Executor>(
    exec: &mut E,
    p: &Prefetch,
    parents: &[P],
) -> Result<Level<T>> {
    // One group per distinct key, in the parents' order; its key bound once.
    let mut group_of: KeyMap<u32> =
        KeyMap::with_capacity_and_hasher(parents.len(), Default::default());
    let mut keys = Vec::new();
    let mut uses: Vec<u32> = Vec::new();
    let parent_group: Vec<Option<u32>> = parents
        .iter()
        .map(|m| {
            let v = m.field_value(p.parent_key);
            let k = key_of(&v)?;
            let next = keys.len() as u32;
            let g = *group_of.entry(k).or_insert(next);
            if g == next {
                keys.push(v);
                uses.push(0);
            }
            uses[g as usize] += 1;
            Some(g)
        })
        .collect();
    let (mut rows, row_group) = if keys.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        read_rows::<T, E>(exec, p, keys, &group_of).await?
    };
    prefetch_node(exec, &p.node, &mut rows).await?;
    // Each row into the group of the parent key it carries, sized first.
    let mut sizes = vec![0usize; uses.len()];
    for g in row_group.iter().flatten() {
        sizes[*g as usize] += 1;
    }
    let mut groups: Vec<Vec<T>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (t, g) in rows.into_iter().zip(row_group) {
        if let Some(g) = g {
            groups[g as usize].push(t);
        }
    }
    Ok(Level {
        groups,
        uses,
        parent_group,
    })
}

/// The related rows of level `p` for the parent keys `keys`, each with the group
/// (`group_of`) of the parent key it belongs to (`None`: a NULL key, or one no parent has):
/// a direct link's key is the related model's own field (no key column read); through a
/// join table, the key cell after the fields is read in the key column's Rust type. A
/// statement of another shape than the model's fields (and the key) reads through
/// [`Value`] rows.
async fn read_rows<T: Model, E: Executor>(
    exec: &mut E,
    p: &Prefetch,
    keys: Vec<Value>,
    group_of: &KeyMap<u32>,
) -> Result<(Vec<T>, Vec<Option<u32>>)> {
    let group = |k: Option<Key>| k.and_then(|k| group_of.get(&k).copied());
    let width = T::meta().fields.len();
    let (stmt, key_field) = p.statement_keyed(keys);
    if let Some(at) = key_field {
        let fits = matches!(&stmt, Statement::Select(s) if s.columns.len() == width);
        let objects: Vec<T> = if fits {
            exec.fetch_models::<T>(&stmt).await?
        } else {
            let rows = exec.fetch(&stmt).await?;
            rows.into_iter()
                .map(|mut r| {
                    r.truncate(width);
                    T::from_values(r)
                })
                .collect::<Result<_>>()?
        };
        let groups = objects
            .iter()
            .map(|t| group(owned_key(t.field_value(at))))
            .collect();
        return Ok((objects, groups));
    }
    let key_ty = match &stmt {
        Statement::Select(s) if s.columns.len() == width + 1 => s.columns.last().map(|c| &c.ty),
        _ => None,
    };
    let r = match key_ty {
        Some(ValueType::I32) => keyed::<T, i32, E>(exec, &stmt).await,
        Some(ValueType::I64) => keyed::<T, i64, E>(exec, &stmt).await,
        Some(ValueType::Text) => keyed::<T, String, E>(exec, &stmt).await,
        Some(ValueType::Uuid) => keyed::<T, uuid::Uuid, E>(exec, &stmt).await,
        _ => by_values::<T, E>(exec, &stmt, width).await,
    };
    let (objects, keys) = r.map_err(|e| name_key_cell(e, p))?;
    Ok((objects, keys.into_iter().map(group).collect()))
}

/// The hashable key of `v` ([`key_of`]), an integer's without a call or a drop.
#[inline]
fn owned_key(v: Value) -> Option<Key> {
    match v {
        Value::I64(x) => Some(Key::Int(x)),
        Value::I32(x) => Some(Key::Int(i64::from(x))),
        other => key_of(&other),
    }
}

/// A key column's Rust type, as the hashable key the parents' values give.
trait KeyCell: ColumnType {
    fn key(self) -> Key;
}

impl KeyCell for i32 {
    fn key(self) -> Key {
        Key::Int(self as i64)
    }
}
impl KeyCell for i64 {
    fn key(self) -> Key {
        Key::Int(self)
    }
}
impl KeyCell for String {
    fn key(self) -> Key {
        Key::Text(self)
    }
}
impl KeyCell for uuid::Uuid {
    fn key(self) -> Key {
        Key::Bytes(self.as_bytes().to_vec())
    }
}

async fn keyed<T: Model, K: KeyCell, E: Executor>(
    exec: &mut E,
    stmt: &Statement,
) -> Result<(Vec<T>, Vec<Option<Key>>)> {
    let rows = exec.fetch_models::<Keyed<T, Option<K>>>(stmt).await?;
    let mut objects = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for Keyed(t, k) in rows {
        objects.push(t);
        keys.push(k.map(K::key));
    }
    Ok((objects, keys))
}

async fn by_values<T: Model, E: Executor>(
    exec: &mut E,
    stmt: &Statement,
    width: usize,
) -> Result<(Vec<T>, Vec<Option<Key>>)> {
    let rows = exec.fetch(stmt).await?;
    let mut objects = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for mut r in rows {
        keys.push(r.pop().as_ref().and_then(key_of));
        r.truncate(width);
        objects.push(T::from_values(r)?);
    }
    Ok((objects, keys))
}

/// A `Decode` error of the key cell ([`KEY_CELL`]) named by the key column's model and
/// field.
fn name_key_cell(e: Error, p: &Prefetch) -> Error {
    match e {
        Error::Decode { column, reason } if column.starts_with(KEY_CELL) => {
            let column = match &p.rel.link {
                Link::Direct { target_field, .. } => {
                    format!("{}.{}", p.rel.target.name, target_field.name)
                }
                Link::Through {
                    table,
                    source_column,
                    ..
                } => format!("{table}.{source_column}"),
            };
            Error::Decode { column, reason }
        }
        other => other,
    }
}
