//! The writes a [`super::Session`] holds until commit, and how each is written inside the
//! commit's transaction.
//!
//! New rows (an unset auto-increment key) of one model are batched: they share one
//! multi-row `INSERT … RETURNING` (on PostgreSQL one `unnest` of one array per column, so the
//! statement text does not depend on the row count), and the returned rows are written back
//! in the order the models were added. A batch is only ever moved earlier past new rows of
//! models it has no foreign key to or from; a keyed save or a delete ends every open batch,
//! so the database sees the writes in an order equivalent to the order they were added.
//!
//! Saves of rows with a key (UPDATE by key, INSERT when no row has it) added one after
//! another are written together: on PostgreSQL their UPDATEs are pipelined inside a
//! savepoint (all sent before the first answer is read; the server still runs them one by
//! one, in order, and each reports its own affected-row count). When one finds no row (its
//! INSERT must run in its place) or fails, the run is rolled back to the savepoint and
//! written one save at a time, so the outcome is always that of the saves run one by one.
//! Deletes stay one statement each, unless a model references the deleted one with CASCADE
//! or SET NULL: then the ORM carries those rules out first, in a savepoint
//! ([`crate::query::delete_rules`]).

use crate::exec::Transaction;
use crate::model::hooks::Hook;
use crate::model::{write, Model};
use crate::query::delete_rules;
use chakra_dsl::{Error, ModelMeta, Result, Statement, Value};
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// A model the session will save, seen without its type.
pub trait Pendable: Send + Sync {
    /// The UPDATE of the model's row by its key (every field but the key).
    fn update(&self) -> Result<Statement>;
    /// Inserts the model as one row; returns the inserted row.
    fn insert<'t>(&'t self, tx: &'t mut Transaction) -> BoxFuture<'t, Result<Vec<Value>>>;
    /// Takes an inserted row back (generated key, database defaults).
    fn apply(&mut self, row: Vec<Value>) -> Result<()>;
    /// The model's metadata (batches group rows of one model).
    fn pending_meta(&self) -> &'static Arc<ModelMeta>;
    /// True when the row is new (its auto-increment key unset): it can join a batched
    /// INSERT.
    fn is_new(&self) -> bool;
    /// The row's values in field order.
    fn values(&self) -> Vec<Value>;
    /// Before the row is written: the model's validation hook, then its `auto_now` (and, when
    /// `inserting`, `auto_now_add`) fields set, as `Model::save` does.
    fn prepare(&mut self, inserting: bool) -> Result<()>;
    /// True when the model's save/delete hooks run (`#[chakra(hooks)]`).
    fn hooked(&self) -> bool;
    /// Runs one of the model's save/delete hooks in `tx`.
    fn hook<'t>(&'t self, hook: Hook, tx: &'t mut Transaction) -> BoxFuture<'t, Result<()>>;
}

impl<M: Model> Pendable for M {
    fn update(&self) -> Result<Statement> {
        write::update_by_pk(self)
    }

    fn insert<'t>(&'t self, tx: &'t mut Transaction) -> BoxFuture<'t, Result<Vec<Value>>> {
        Box::pin(async move {
            let mut rows = tx.fetch(&write::insert_one(self)?).await?;
            match (rows.pop(), rows.is_empty()) {
                (Some(row), true) => Ok(row),
                _ => Err(Error::InvalidQuery(format!(
                    "an insert of one {} did not return exactly one row",
                    M::NAME
                ))),
            }
        })
    }

    fn apply(&mut self, row: Vec<Value>) -> Result<()> {
        self.apply_row(row)
    }

    fn pending_meta(&self) -> &'static Arc<ModelMeta> {
        M::meta()
    }

    fn is_new(&self) -> bool {
        self.pk_is_unset()
    }

    fn values(&self) -> Vec<Value> {
        self.to_values()
    }

    fn prepare(&mut self, inserting: bool) -> Result<()> {
        self.full_clean()?;
        self.apply_auto_now(&M::meta().auto_now_values(inserting))
    }

    fn hooked(&self) -> bool {
        M::HOOKED
    }

    fn hook<'t>(&'t self, hook: Hook, tx: &'t mut Transaction) -> BoxFuture<'t, Result<()>> {
        Box::pin(self.run_hook(hook, tx))
    }
}

/// One pending write.
pub enum Pending<'a> {
    /// Save this model.
    Save(&'a mut dyn Pendable),
    /// Delete a row by key (doing what the models declare for the rows referencing it).
    Delete {
        /// The model's metadata.
        meta: &'static Arc<ModelMeta>,
        /// Model name, for the error when the row is gone.
        model: &'static str,
        /// The key, one value per key field (several for a composite key).
        key: Vec<Value>,
        /// A copy of the deleted object (its column fields), for its delete hooks; `None`
        /// for a model without hooks; `Err` (failing the commit) when the copy could not
        /// be made.
        hooks: Option<std::result::Result<Box<dyn Pendable>, String>>,
    },
}

impl Pending<'_> {
    /// A pending delete of `m`'s row.
    pub fn delete<M: Model>(m: &M) -> Self {
        let hooks = if M::HOOKED {
            // The hooks see the object's column values (not its loaded relations).
            Some(
                M::from_row(m.to_values())
                    .map(|copy| Box::new(copy) as Box<dyn Pendable>)
                    .map_err(|e| {
                        format!("the delete hooks of {} cannot see the object: {e}", M::NAME)
                    }),
            )
        } else {
            None
        };
        Pending::Delete {
            meta: M::meta(),
            model: M::NAME,
            key: m.pk_values(),
            hooks,
        }
    }
}

/// A child's foreign key taken, when it is written, from the key of a parent added to the
/// same unit of work (`Session::add_child`): indices into the pending items, and the
/// position of the foreign-key field among the child's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLink {
    /// The child's item.
    pub child: usize,
    /// The foreign-key field's position among the child's column fields.
    pub field: usize,
    /// The parent's item (added before the child).
    pub parent: usize,
}

/// The pending writes of one commit, with the rows inserts returned.
pub struct PendingWork<'a> {
    items: Vec<Pending<'a>>,
    returned: Vec<Option<Vec<Value>>>,
    links: Vec<KeyLink>,
    /// The children's values before their keys were filled in (put back when the commit
    /// fails).
    before: Vec<(usize, Vec<Value>)>,
}

impl<'a> PendingWork<'a> {
    /// Work for `items`.
    pub fn new(items: Vec<Pending<'a>>) -> Self {
        PendingWork {
            items,
            returned: Vec::new(),
            links: Vec::new(),
            before: Vec::new(),
        }
    }

    /// The links given with [`PendingWork::with_links`].
    pub fn links(&self) -> &[KeyLink] {
        &self.links
    }

    /// Work whose children take their parents' keys when written ([`KeyLink`]).
    pub fn with_links(mut self, links: Vec<KeyLink>) -> Self {
        self.links = links;
        self
    }

    /// The primary key of saved item `i`: the one its insert returned in this commit, else
    /// its own. `None` for a composite key, which no single value holds (such a model is
    /// never a parent: no relation points at it, and `Added::key` needs one column).
    pub fn key_of(&self, i: usize) -> Option<Value> {
        let Some(Pending::Save(m)) = self.items.get(i) else {
            return None;
        };
        if m.pending_meta().has_composite_key() {
            return None;
        }
        let pk = m.pending_meta().fields.iter().position(|f| f.primary_key)?;
        match self.returned.get(i).and_then(Option::as_ref) {
            Some(row) => row.get(pk).cloned(),
            // A new row not written yet has no key.
            None if m.is_new() => None,
            None => m.values().get(pk).cloned(),
        }
    }

    /// Fills the foreign keys of the children among `idx` from their parents' keys (written
    /// earlier in this commit).
    fn fill_links(&mut self, idx: &[usize]) -> Result<()> {
        let links: Vec<KeyLink> = self
            .links
            .iter()
            .filter(|l| idx.contains(&l.child))
            .copied()
            .collect();
        for l in links {
            let key = match self.key_of(l.parent) {
                Some(k) if !k.is_null() => k,
                _ => {
                    return Err(Error::InvalidQuery(format!(
                        "the parent of a pending {} has no key when the child is written (add \
                         the parent to the session before the child)",
                        self.model_name(l.child)
                    )))
                }
            };
            if let Some(Pending::Save(m)) = self.items.get_mut(l.child) {
                let mut values = m.values();
                if !self.before.iter().any(|(i, _)| *i == l.child) {
                    self.before.push((l.child, values.clone()));
                }
                if let Some(slot) = values.get_mut(l.field) {
                    *slot = key;
                }
                m.apply(values)?;
            }
        }
        Ok(())
    }

    fn model_name(&self, i: usize) -> String {
        match self.items.get(i) {
            Some(Pending::Save(m)) => m.pending_meta().name.clone(),
            _ => "row".into(),
        }
    }

    /// Writes every item: new rows of one model batched into one INSERT (see the module
    /// documentation), other saves and deletes one statement each, in the order added (a
    /// delete that finds no row is an error).
    pub async fn write(&mut self, tx: &mut Transaction) -> Result<()> {
        // A re-run starts from the values the objects were added with.
        for (i, values) in std::mem::take(&mut self.before) {
            if let Some(Pending::Save(m)) = self.items.get_mut(i) {
                m.apply(values)?;
            }
        }
        // Save hooks first (`pre_save`, in the order added), then every object is validated
        // and stamped before the first statement, so an invalid one refuses the whole unit
        // of work.
        for item in &self.items {
            if let Pending::Save(m) = item {
                if m.hooked() {
                    m.hook(Hook::PreSave, tx).await?;
                }
            }
        }
        for item in &mut self.items {
            if let Pending::Save(m) = item {
                let new = m.is_new();
                m.prepare(new)?;
            }
        }
        self.returned.clear();
        self.returned.resize(self.items.len(), None);
        for step in plan(&self.items) {
            match step {
                Step::Insert(idx) => {
                    self.fill_links(&idx)?;
                    let Some(first) = idx.first().map(|&i| &self.items[i]) else {
                        continue;
                    };
                    let Pending::Save(m) = first else {
                        continue;
                    };
                    let meta = m.pending_meta();
                    let rows: Vec<Vec<Value>> = idx
                        .iter()
                        .filter_map(|&i| match &self.items[i] {
                            Pending::Save(m) => Some(m.values()),
                            Pending::Delete { .. } => None,
                        })
                        .collect();
                    let stmt = Statement::Insert(write::insert_statement(meta, true, rows)?);
                    let back = tx.fetch(&stmt).await?;
                    if back.len() != idx.len() {
                        return Err(Error::InvalidQuery(format!(
                            "the batched insert of {} {} objects returned {} rows",
                            idx.len(),
                            meta.name,
                            back.len()
                        )));
                    }
                    for (i, row) in idx.into_iter().zip(back) {
                        self.returned[i] = Some(row);
                    }
                }
                Step::Saves(idx) => {
                    self.fill_links(&idx)?;
                    self.write_saves(tx, &idx).await?
                }
                Step::Delete(i) => {
                    if let Pending::Delete {
                        meta,
                        model,
                        key,
                        hooks,
                    } = &self.items[i]
                    {
                        let hooks = match hooks {
                            Some(Ok(h)) => Some(h),
                            Some(Err(why)) => return Err(Error::InvalidQuery(why.clone())),
                            None => None,
                        };
                        if let Some(h) = hooks {
                            h.hook(Hook::PreDelete, tx).await?;
                        }
                        let q = chakra_dsl::ModelQuery::new((*meta).clone())
                            .filter(chakra_dsl::pk_filter_values(meta, key.clone())?);
                        let mut exec = &mut *tx;
                        if delete_rules::delete_registered(&mut exec, meta, &q).await? == 0 {
                            return Err(Error::NotFound {
                                model: (*model).to_owned(),
                                detail: Some(format!(
                                    "delete of key {}",
                                    chakra_dsl::tracked::key_text(key)
                                )),
                            });
                        }
                        if let Some(h) = hooks {
                            h.hook(Hook::PostDelete, tx).await?;
                        }
                    }
                }
            }
        }
        // `post_save` of every hooked save, in the order added; an inserted object first
        // takes its row back (its key), put back as it was if the commit fails.
        for i in 0..self.items.len() {
            let Pending::Save(m) = &mut self.items[i] else {
                continue;
            };
            if !m.hooked() {
                continue;
            }
            let created = match self.returned.get(i).cloned().flatten() {
                Some(row) => {
                    if !self.before.iter().any(|(j, _)| *j == i) {
                        self.before.push((i, m.values()));
                    }
                    m.apply(row)?;
                    true
                }
                None => false,
            };
            m.hook(Hook::PostSave { created }, tx).await?;
        }
        Ok(())
    }

    /// Writes keyed saves (`items[i]` for each `i` of `idx`, in order), each an UPDATE by
    /// key, or an INSERT when no row has the key.
    ///
    /// On PostgreSQL a run of [`PIPELINE_MIN`] or more is pipelined inside a savepoint: every
    /// UPDATE is sent before the first answer is read (one round trip for the run, plus the
    /// savepoint's two). When each found its row, the savepoint is released. When one found
    /// none (its INSERT must run in its place, before the saves after it), or one failed,
    /// the run is rolled back to the savepoint and written one save at a time: the database
    /// always ends as if the saves had run one by one, in order, and a failure is the one
    /// that order meets.
    async fn write_saves(&mut self, tx: &mut Transaction, idx: &[usize]) -> Result<()> {
        if tx.dialect() == crate::sql::Dialect::Sqlite || idx.len() < PIPELINE_MIN {
            return self.write_saves_one_by_one(tx, idx).await;
        }
        let stmts = idx
            .iter()
            .map(|&i| match &self.items[i] {
                Pending::Save(m) if !m.is_new() => m.update(),
                _ => Err(Error::InvalidQuery(
                    "a run of keyed saves holds a new row or a delete".into(),
                )),
            })
            .collect::<Result<Vec<Statement>>>()?;
        tx.savepoint().await?;
        match tx.execute_pipelined(&stmts).await {
            Ok(counts) if counts.iter().all(|&n| n > 0) => tx.release_savepoint().await,
            _ => {
                tx.rollback_to_savepoint().await?;
                self.write_saves_one_by_one(tx, idx).await
            }
        }
    }

    /// Writes keyed saves one statement at a time: UPDATE by key, and INSERT when it found
    /// no row.
    async fn write_saves_one_by_one(&mut self, tx: &mut Transaction, idx: &[usize]) -> Result<()> {
        for &i in idx {
            if let Pending::Save(m) = &mut self.items[i] {
                if tx.execute(&m.update()?).await? == 0 {
                    // No row had the key: an insert, which also sets `auto_now_add`.
                    m.prepare(true)?;
                    self.returned[i] = Some(m.insert(tx).await?);
                }
            }
        }
        Ok(())
    }

    /// After the commit: writes returned rows back into the saved models.
    pub fn apply_returned(&mut self) -> Result<()> {
        let returned = std::mem::take(&mut self.returned);
        for (item, row) in self.items.iter_mut().zip(returned) {
            if let (Pending::Save(m), Some(row)) = (item, row) {
                m.apply(row)?;
            }
        }
        Ok(())
    }

    /// The items, for putting back into the session after a failure (children get their
    /// foreign keys back as they were added).
    pub fn into_items(mut self) -> Vec<Pending<'a>> {
        for (i, values) in std::mem::take(&mut self.before) {
            if let Some(Pending::Save(m)) = self.items.get_mut(i) {
                let _ = m.apply(values);
            }
        }
        self.items
    }
}

/// The fewest keyed saves in a run that are pipelined (below it, one round trip per save
/// costs no more than the pipeline's savepoint and release).
const PIPELINE_MIN: usize = 4;

/// One step of a commit: a batched INSERT of new rows of one model (item indices, in the
/// order added), a run of keyed saves written together (their UPDATEs pipelined), or a
/// delete.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Insert(Vec<usize>),
    Saves(Vec<usize>),
    Delete(usize),
}

/// True when rows of `a` may reference rows of `b` or the other way round (a foreign key
/// column or a declared relation between the two).
fn linked(a: &ModelMeta, b: &ModelMeta) -> bool {
    let refers = |x: &ModelMeta, y: &ModelMeta| {
        x.fields.iter().any(|f| {
            f.references
                .as_ref()
                .is_some_and(|r| r.table == y.table || r.model == y.name)
        }) || x.relations.iter().any(|r| r.target == y.name)
    };
    a.table == b.table || refers(a, b) || refers(b, a)
}

/// Orders the items of a commit into steps. A new row joins the open batch of its model
/// when every new row added since that batch started belongs to a model unrelated to it;
/// a keyed save or a delete closes every open batch (it runs after them, and rows added
/// after it run after it).
fn plan(items: &[Pending<'_>]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // Open batches: (step index, model metadata).
    let mut open: Vec<(usize, &'static Arc<ModelMeta>)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let new_meta = match item {
            Pending::Save(m) if m.is_new() => Some(m.pending_meta()),
            _ => None,
        };
        let Some(meta) = new_meta else {
            open.clear();
            match (item, steps.last_mut()) {
                // A keyed save right after keyed saves joins their run.
                (Pending::Save(_), Some(Step::Saves(run))) => run.push(i),
                (Pending::Save(_), _) => steps.push(Step::Saves(vec![i])),
                (Pending::Delete { .. }, _) => steps.push(Step::Delete(i)),
            }
            continue;
        };
        let joined = open.iter().position(|(_, m)| Arc::ptr_eq(m, meta));
        if let Some(pos) = joined {
            // Models whose batches started after this one's: rows of this model move before
            // their rows, so they must be unrelated.
            let (at, _) = open[pos];
            if open[pos + 1..].iter().all(|(_, m)| !linked(m, meta)) {
                if let Step::Insert(idx) = &mut steps[at] {
                    idx.push(i);
                }
                continue;
            }
            open.remove(pos);
        }
        open.push((steps.len(), meta));
        steps.push(Step::Insert(vec![i]));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use chakra_dsl::{FieldMeta, FieldType, ForeignKeyRef, OnDelete};

    fn meta(name: &str, parent: Option<&str>) -> &'static Arc<ModelMeta> {
        let mut id = FieldMeta::new("id", FieldType::BigInteger);
        id.primary_key = true;
        id.auto_increment = true;
        let mut fields = vec![id];
        if let Some(p) = parent {
            let mut fk = FieldMeta::new("parent_id", FieldType::BigInteger);
            fk.references = Some(ForeignKeyRef {
                model: p.to_owned(),
                table: String::new(),
                column: String::new(),
                on_delete: OnDelete::Cascade,
            });
            fields.push(fk);
        }
        Box::leak(Box::new(Arc::new(ModelMeta {
            name: name.to_owned(),
            table: name.to_lowercase(),
            fields,
            relations: Vec::new(),
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        })))
    }

    /// A row of a model, new or keyed.
    struct Fake(&'static Arc<ModelMeta>, bool);

    impl Pendable for Fake {
        fn update(&self) -> Result<Statement> {
            unreachable!("planning only")
        }
        fn insert<'t>(&'t self, _: &'t mut Transaction) -> BoxFuture<'t, Result<Vec<Value>>> {
            unreachable!("planning only")
        }
        fn apply(&mut self, _: Vec<Value>) -> Result<()> {
            Ok(())
        }
        fn pending_meta(&self) -> &'static Arc<ModelMeta> {
            self.0
        }
        fn is_new(&self) -> bool {
            self.1
        }
        fn values(&self) -> Vec<Value> {
            Vec::new()
        }
        fn prepare(&mut self, _: bool) -> Result<()> {
            Ok(())
        }
        fn hooked(&self) -> bool {
            false
        }
        fn hook<'t>(&'t self, _: Hook, _: &'t mut Transaction) -> BoxFuture<'t, Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn steps(rows: &mut [Fake]) -> Vec<Step> {
        let items: Vec<Pending<'_>> = rows
            .iter_mut()
            .map(|f| Pending::Save(f as &mut dyn Pendable))
            .collect();
        plan(&items)
    }

    #[test]
    fn new_rows_batch_per_model_without_crossing_related_models_or_keyed_writes() {
        let a = meta("A", None);
        let b = meta("B", Some("A"));
        let c = meta("C", None);
        let new = |m| Fake(m, true);
        use Step::{Insert, Saves};
        // Unrelated models interleaved: one batch each.
        assert_eq!(
            steps(&mut [new(a), new(c), new(a), new(c)]),
            [Insert(vec![0, 2]), Insert(vec![1, 3])]
        );
        // B references A: an A row never moves ahead of a B row, nor a B row ahead of an A row.
        assert_eq!(
            steps(&mut [new(a), new(b), new(a), new(b)]),
            [
                Insert(vec![0]),
                Insert(vec![1]),
                Insert(vec![2]),
                Insert(vec![3])
            ]
        );
        // C may move ahead of A and B rows: it references neither.
        assert_eq!(
            steps(&mut [new(c), new(a), new(b), new(c)]),
            [Insert(vec![0, 3]), Insert(vec![1]), Insert(vec![2])]
        );
        // A keyed save ends every batch.
        assert_eq!(
            steps(&mut [new(a), Fake(a, false), new(a)]),
            [Insert(vec![0]), Saves(vec![1]), Insert(vec![2])]
        );
        // Keyed saves one after another share one run, of any models; a new row or a
        // delete ends it.
        assert_eq!(
            steps(&mut [
                Fake(a, false),
                Fake(c, false),
                Fake(a, false),
                new(a),
                Fake(a, false)
            ]),
            [Saves(vec![0, 1, 2]), Insert(vec![3]), Saves(vec![4])]
        );
    }
}
