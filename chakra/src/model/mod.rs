//! The [`Model`] trait `#[derive(Model)]` implements, with the model-level operations:
//! `User::get`, `User::query`, `user.save`, `user.delete`, `User::insert_many`.
//!
//! - [`registry`]: every model of the binary, for migrations and relation lookups.
//! - [`related`]: filling `Related<…>` fields from eagerly loaded rows.
//! - [`write`](mod@write): how a model becomes an INSERT or UPDATE and takes generated values back.

pub mod hooks;
pub mod registry;
pub mod related;
pub mod write;

pub use registry::{registered_models, ModelRegistration};
pub use related::{RelatedRows, RelatedSlot};

use crate::exec::Executor;
use crate::query::Query;
use crate::sql::cache::{compile_shape, Shape, ShapeKind};
use crate::sql::{CompiledQuery, Dialect};
use chakra_dsl::relations::explicit;
use chakra_dsl::typed::group::GroupKey;
use chakra_dsl::typed::{
    ColumnType, KeyType, RelatedField, Relation, RelationPathOf, RelationTarget,
};
use chakra_dsl::{pk_filter_values, Error, ModelMeta, ModelQuery, Result, Statement, Value};
use std::future::Future;
use std::sync::Arc;

/// A struct mapped to a table. Derive it with `#[derive(Model)]`; the required methods are
/// generated, the provided ones are the model-level API.
pub trait Model: chakra_dsl::typed::ReadRow + Sized + Send + Sync + 'static {
    /// The Rust type of the primary key: the key field's type, or a tuple of the key fields'
    /// types in declared order for a composite key (several `#[chakra(primary_key)]` fields).
    type PrimaryKey: KeyType;
    /// The model's name (the struct's name).
    const NAME: &'static str;

    /// The model's metadata: table, fields in declaration order, relations.
    fn meta() -> &'static Arc<ModelMeta>;

    /// Builds a model from a row holding every column field in declaration order.
    fn from_row(row: Vec<Value>) -> Result<Self>;

    /// Overwrites every column field from a row in declaration order (generated ids and
    /// database defaults after an insert).
    fn apply_row(&mut self, row: Vec<Value>) -> Result<()>;

    /// Every column field's value, in declaration order.
    fn to_values(&self) -> Vec<Value>;

    /// The primary key's value.
    fn pk(&self) -> Self::PrimaryKey;

    /// Sets the primary key from a value read back from the database (the key it
    /// generated). The derive sets the field directly; this default rewrites every column
    /// field through [`Model::apply_row`].
    fn set_pk_value(&mut self, v: Value) -> Result<()> {
        let meta = Self::meta();
        let idx = meta
            .fields
            .iter()
            .position(|f| f.primary_key)
            .ok_or_else(|| Error::InvalidQuery(format!("{} has no primary key", Self::NAME)))?;
        let mut row = self.to_values();
        row[idx] = v;
        self.apply_row(row)
    }

    /// The primary key as one bindable value, for a model keyed by one field. A composite
    /// key has no single value: this gives a NULL, which no key filter matches and which
    /// [`chakra_dsl::pk_filter`] refuses by name; per-row paths use [`Model::pk_values`].
    fn pk_value(&self) -> Value {
        let mut v = self.pk_values();
        match v.len() {
            1 => v.pop().expect("one value"),
            _ => Value::Null(chakra_dsl::ValueType::Text),
        }
    }

    /// The primary key's values, one per key field in declared order.
    fn pk_values(&self) -> Vec<Value> {
        self.pk().key_values()
    }

    /// True when the key is an `auto_increment` key not assigned yet (`0` or `None`): the
    /// row is new, and the database will generate its key.
    fn pk_is_unset(&self) -> bool;

    /// Runs the model's validation ([`hooks::Hooks::validate`] when derived with
    /// `#[chakra(hooks)]`; otherwise nothing): [`Error::Validation`] naming the model and
    /// the fields. `save`, `save_fields`, `insert_many` and `insert_all` call it first.
    fn full_clean(&self) -> Result<()> {
        Ok(())
    }

    /// True when derived with `#[chakra(hooks)]`: the save and delete hooks of
    /// [`hooks::Hooks`] run around its writes ([`Model::run_hook`]).
    const HOOKED: bool = false;

    /// Runs one of the model's save/delete hooks in `tx` ([`hooks::Hooks`] when derived with
    /// `#[chakra(hooks)]`; otherwise nothing).
    fn run_hook(
        &self,
        hook: hooks::Hook,
        tx: &mut crate::exec::Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = (hook, tx);
        async { Ok(()) }
    }

    /// Sets the `auto_now` / `auto_now_add` fields to `values` (from
    /// [`ModelMeta::auto_now_values`]: field index and time, one instant for all); generated
    /// for models declaring such fields. `save` and `insert_many` call it.
    fn apply_auto_now(&mut self, values: &[(usize, Value)]) -> Result<()> {
        let _ = values;
        Ok(())
    }

    /// Stores loaded related rows into the relation field `name` (generated: one arm per
    /// `Related<…>` field).
    fn fill_relation(&mut self, name: &str, rows: &mut RelatedRows, links: &[usize]) -> Result<()>;

    /// The value of column field `index` (declaration order, as in [`ModelMeta::fields`]):
    /// a prefetch level's parent key. Generated: one arm per column field.
    fn field_value(&self, index: usize) -> Value {
        self.to_values().swap_remove(index)
    }

    /// A copy of this object with its loaded relations (a prefetched row linked to several
    /// parents, such as the author of several posts). Generated: no `Clone` is required of
    /// the model.
    fn duplicate(&self) -> Self;

    /// Reads the joined model `j` of a `select_related` row from `cells` into the relation
    /// field `j.name` ([`crate::load_typed::read_node`]). Generated: one arm per `Related<…>`
    /// field.
    fn read_joined<R: chakra_dsl::typed::RowCells>(
        &mut self,
        j: &chakra_dsl::load_plan::Joined,
        cells: &mut R,
    ) -> Result<()>;

    /// Runs the prefetch levels under the joined model `j` for `parents`' joined objects.
    /// Generated: one arm per `Related<…>` field.
    fn joined_prefetch<'a, E: Executor>(
        exec: &'a mut E,
        j: &'a chakra_dsl::load_plan::Joined,
        parents: &'a mut [Self],
    ) -> crate::load_typed::LevelFuture<'a>;

    /// Runs the prefetch level `p` for `parents` and stores each parent's related objects in
    /// the relation field `p.attr`, read by the target model's generated row reader
    /// ([`crate::load_typed`]). Generated: one arm per `Related<…>` field.
    fn prefetch_relation<'a, E: Executor>(
        exec: &'a mut E,
        p: &'a chakra_dsl::load_plan::Prefetch,
        parents: &'a mut [Self],
    ) -> crate::load_typed::LevelFuture<'a>;

    /// A query over every row of this model.
    fn query() -> Query<Self> {
        Query::new()
    }

    /// A query over the rows related to this one through `rel` (explicit loading, never
    /// hidden I/O): `user.related(User::posts()).all(&pool)`,
    /// `post.related(Post::tags()).filter(…)`.
    fn related<R>(&self, rel: Relation<Self, R>) -> Query<R::Target>
    where
        Self: RelationTarget,
        R: RelatedField,
        R::Target: Model,
    {
        let (r, key) = resolved_with_key(self, rel.name());
        Query::new().filter_ir(explicit::related_filter(&r, key))
    }

    /// Loads relations onto this object (explicit loading, Django's `fetch_related`): one
    /// statement per level, as `prefetch_related` runs them for a query.
    /// `post.load_related(&pool, Post::author()).await?` then `post.author.get()?`.
    fn load_related<E: Executor, P: RelationPathOf<Self>>(
        &mut self,
        exec: E,
        path: P,
    ) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        let spec = chakra_dsl::LoadSpec {
            select_related: Vec::new(),
            prefetch: vec![chakra_dsl::PrefetchSpec::new(path.lookup_path())],
        };
        let key = KeyShown(self.pk_values());
        async move {
            let meta = Self::meta();
            let q = ModelQuery::new(meta.clone()).filter(pk_filter_values(meta, key.0.clone())?);
            let plan = chakra_dsl::LoadPlan::build(&registry::models_with(meta), &q, &spec)?;
            let loaded = crate::load::run(&mut exec, &plan).await?;
            if loaded.rows.is_empty() {
                return Err(Error::NotFound {
                    model: Self::NAME.to_owned(),
                    detail: Some(format!("{}={key}", pk_name(meta))),
                });
            }
            RelatedRows::root(loaded).fill_into(0, self)
        }
    }

    /// Links this row to `targets` through a many-to-many relation (rows already linked
    /// are left alone); returns how many links were added.
    fn add_related<E: Executor, R>(
        &self,
        exec: E,
        rel: Relation<Self, R>,
        targets: &[&R::Target],
    ) -> impl Future<Output = Result<u64>> + Send
    where
        Self: RelationTarget,
        R: RelatedField,
        R::Target: Model,
    {
        let mut exec = exec;
        let (r, key) = resolved_with_key(self, rel.name());
        let wanted: Vec<Value> = targets.iter().map(|t| t.pk_value()).collect();
        async move {
            if wanted.is_empty() {
                return Ok(0);
            }
            let existing = exec
                .fetch(&Statement::Select(explicit::linked(
                    &r,
                    key.clone(),
                    wanted.clone(),
                )?))
                .await?;
            let mut missing: Vec<Value> = Vec::new();
            for w in wanted {
                if !existing.iter().any(|row| row.first() == Some(&w)) && !missing.contains(&w) {
                    missing.push(w);
                }
            }
            if missing.is_empty() {
                return Ok(0);
            }
            exec.execute(&Statement::Insert(explicit::link(&r, key, missing)?))
                .await
        }
    }

    /// Unlinks this row from `targets` (all of them when `None`) through a many-to-many
    /// relation; returns how many links were removed.
    fn remove_related<E: Executor, R>(
        &self,
        exec: E,
        rel: Relation<Self, R>,
        targets: Option<&[&R::Target]>,
    ) -> impl Future<Output = Result<u64>> + Send
    where
        Self: RelationTarget,
        R: RelatedField,
        R::Target: Model,
    {
        let mut exec = exec;
        let (r, key) = resolved_with_key(self, rel.name());
        let t: Option<Vec<Value>> = targets.map(|t| t.iter().map(|x| x.pk_value()).collect());
        async move {
            exec.execute(&Statement::Delete(explicit::unlink(&r, key, t)?))
                .await
        }
    }

    /// The row with primary key `pk`; [`Error::NotFound`] when there is none.
    fn get<E: Executor>(
        exec: E,
        pk: Self::PrimaryKey,
    ) -> impl Future<Output = Result<Self>> + Send {
        let mut exec = exec;
        async move {
            let meta = Self::meta();
            let key = KeyShown(pk.key_values());
            let q = select_by_pk(meta, ShapeKind::GetByPk, exec.dialect(), key.0.clone())?;
            let mut rows = exec.fetch_compiled_models::<Self>(&q).await?;
            match rows.pop() {
                Some(row) => Ok(row),
                None => Err(Error::NotFound {
                    model: Self::NAME.to_owned(),
                    detail: Some(format!("{}={key}", pk_name(meta))),
                }),
            }
        }
    }

    /// Reloads every field from the row with this object's key (Django's
    /// `refresh_from_db`); [`Error::NotFound`] when the row is gone. Loaded relations are
    /// left as they are.
    fn refresh<E: Executor>(&mut self, exec: E) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        async move {
            let meta = Self::meta();
            let key = KeyShown(self.pk_values());
            let q = select_by_pk(meta, ShapeKind::GetByPk, exec.dialect(), key.0.clone())?;
            match exec.fetch_compiled(&q).await?.pop() {
                Some(row) => self.apply_row(row),
                None => Err(Error::NotFound {
                    model: Self::NAME.to_owned(),
                    detail: Some(format!("{}={key}", pk_name(meta))),
                }),
            }
        }
    }

    /// Writes only `fields` of the row by primary key (Django's
    /// `save(update_fields=[…])`): `user.save_fields(&pool, (User::email(), User::balance()))`.
    /// [`Error::NotFound`] when no row has the key (nothing is inserted). Calls the save
    /// hooks (`created` false) as [`Model::save`] does.
    fn save_fields<E: Executor, K: GroupKey<Self>>(
        &self,
        exec: E,
        fields: K,
    ) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        let meta = Self::meta();
        let columns: Vec<(String, chakra_dsl::ValueType)> = fields
            .columns()
            .into_iter()
            .map(|c| (c.name.to_string(), c.ty))
            .collect();
        async move {
            if !Self::HOOKED {
                return save_fields_row(self, &mut exec, meta, &columns).await;
            }
            let mut scope = exec.tx_scope().await?;
            let r = async {
                let tx = scope.tx()?;
                self.run_hook(hooks::Hook::PreSave, tx).await?;
                save_fields_row(self, &mut *tx, meta, &columns).await?;
                self.run_hook(hooks::Hook::PostSave { created: false }, tx)
                    .await
            }
            .await;
            scope.finish(r).await
        }
    }

    /// Writes the row: an INSERT when the key is unset (then the generated key and database
    /// defaults are written back into `self`), else an UPDATE of every field by primary key,
    /// falling back to an INSERT when no row has that key. Under `#[chakra(hooks)]`,
    /// [`hooks::Hooks::pre_save`] runs first and [`hooks::Hooks::post_save`] after, in the
    /// executor's transaction or one of their own (see [`hooks::Hooks`]).
    fn save<E: Executor>(&mut self, exec: E) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        async move {
            if !Self::HOOKED {
                return save_row(self, &mut exec).await.map(drop);
            }
            let mut scope = exec.tx_scope().await?;
            let r = async {
                let tx = scope.tx()?;
                self.run_hook(hooks::Hook::PreSave, tx).await?;
                let created = save_row(self, &mut *tx).await?;
                self.run_hook(hooks::Hook::PostSave { created }, tx).await
            }
            .await;
            scope.finish(r).await
        }
    }

    /// Deletes the row by primary key; [`Error::NotFound`] when there was none. The rows
    /// referencing it get what the models declare (`Cascade`, `SetNull`), as with
    /// [`Query::delete`], all or nothing. Under `#[chakra(hooks)]`,
    /// [`hooks::Hooks::pre_delete`] and [`hooks::Hooks::post_delete`] run around it in one
    /// transaction.
    fn delete<E: Executor>(&self, exec: E) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        async move {
            if !Self::HOOKED {
                return delete_row(self, &mut exec).await;
            }
            let mut scope = exec.tx_scope().await?;
            let r = async {
                let tx = scope.tx()?;
                self.run_hook(hooks::Hook::PreDelete, tx).await?;
                delete_row(self, &mut *tx).await?;
                self.run_hook(hooks::Hook::PostDelete, tx).await
            }
            .await;
            scope.finish(r).await
        }
    }

    /// Inserts many rows in one atomic step and writes the generated keys back, in order.
    /// Rows whose key is left to the database return only their key; rows with a key set
    /// return nothing (every other field holds what was sent). PostgreSQL runs one statement
    /// (`unnest`, split at the bind limit, in one transaction); SQLite runs one prepared
    /// single-row statement per row in one transaction (`docs/sqlite.md`).
    fn insert_many<E: Executor>(
        exec: E,
        models: &mut [Self],
    ) -> impl Future<Output = Result<()>> + Send {
        let mut exec = exec;
        async move {
            let meta = Self::meta();
            for m in models.iter() {
                m.full_clean()?;
            }
            let stamps = meta.auto_now_values(true);
            if !stamps.is_empty() {
                for m in models.iter_mut() {
                    m.apply_auto_now(&stamps)?;
                }
            }
            for group in write::insert_groups(models) {
                let (mut stmt, idx) = group?;
                let Statement::Insert(ins) = &mut stmt else {
                    unreachable!("insert_groups builds inserts")
                };
                let generated = write::omits_key(meta, ins);
                if !generated {
                    ins.returning.clear();
                    let n = exec.execute(&stmt).await?;
                    if n != idx.len() as u64 {
                        return Err(Error::InvalidQuery(format!(
                            "bulk insert of {} inserted {n} rows for {} objects",
                            Self::NAME,
                            idx.len()
                        )));
                    }
                    continue;
                }
                ins.returning = write::returning_key(meta);
                let rows = exec.fetch(&stmt).await?;
                if rows.len() != idx.len() {
                    return Err(Error::InvalidQuery(format!(
                        "bulk insert of {} returned {} rows for {} objects",
                        Self::NAME,
                        rows.len(),
                        idx.len()
                    )));
                }
                for (row, i) in rows.into_iter().zip(idx) {
                    let key = row.into_iter().next().ok_or_else(|| {
                        Error::InvalidQuery(format!(
                            "bulk insert of {} returned no key",
                            Self::NAME
                        ))
                    })?;
                    models[i].set_pk_value(key)?;
                }
            }
            Ok(())
        }
    }

    /// Inserts many rows like [`Model::insert_many`] but without `RETURNING`: nothing is
    /// decoded or written back (generated keys stay unset in `models`), for loads that do
    /// not need them. Returns the number of rows inserted. (Python:
    /// `bulk_create(objs, return_ids=False)`.)
    fn insert_all<E: Executor>(
        exec: E,
        models: &[Self],
    ) -> impl Future<Output = Result<u64>> + Send {
        let mut exec = exec;
        let clean: Result<()> = models.iter().try_for_each(|m| m.full_clean());
        let groups = write::insert_groups(models);
        async move {
            clean?;
            let mut n = 0;
            for group in groups {
                let (mut stmt, _) = group?;
                if let Statement::Insert(ins) = &mut stmt {
                    ins.returning.clear();
                }
                n += exec.execute(&stmt).await?;
            }
            Ok(n)
        }
    }
}

/// [`Model::save`]'s write: returns true when the row was inserted.
async fn save_row<M: Model, E: Executor>(m: &mut M, exec: &mut E) -> Result<bool> {
    m.full_clean()?;
    let meta = M::meta();
    if !m.pk_is_unset() {
        m.apply_auto_now(&meta.auto_now_values(false))?;
        let n = exec.execute(&write::update_by_pk(m)?).await?;
        if n > 0 {
            return Ok(false);
        }
    }
    m.apply_auto_now(&meta.auto_now_values(true))?;
    let rows = exec.fetch(&write::insert_one(m)?).await?;
    write::apply_returned(m, rows)?;
    Ok(true)
}

/// [`Model::save_fields`]'s write of `columns` (name, type).
async fn save_fields_row<M: Model, E: Executor>(
    m: &M,
    exec: &mut E,
    meta: &'static Arc<ModelMeta>,
    columns: &[(String, chakra_dsl::ValueType)],
) -> Result<()> {
    m.full_clean()?;
    let mut values = m.to_values();
    let mut sets = Vec::new();
    for (name, ty) in columns {
        if let Some(i) = meta.fields.iter().position(|f| &f.name == name) {
            sets.push((
                i,
                std::mem::replace(&mut values[i], Value::Null(ty.clone())),
            ));
        }
    }
    let key = KeyShown(m.pk_values());
    let stmt = write::update_fields::<M>(key.0.clone(), sets)?;
    if exec.execute(&stmt).await? == 0 {
        return Err(Error::NotFound {
            model: M::NAME.to_owned(),
            detail: Some(format!("{}={key}", pk_name(meta))),
        });
    }
    Ok(())
}

/// [`Model::delete`]'s delete by key, with the declared rules.
async fn delete_row<M: Model, E: Executor>(m: &M, exec: &mut E) -> Result<()> {
    let key = KeyShown(m.pk_values());
    let q = ModelQuery::new(M::meta().clone()).filter(pk_filter_values(M::meta(), key.0.clone())?);
    let n = crate::query::delete_rules::delete_registered(exec, M::meta(), &q).await?;
    if n == 0 {
        return Err(Error::NotFound {
            model: M::NAME.to_owned(),
            detail: Some(format!("{}={key}", pk_name(M::meta()))),
        });
    }
    Ok(())
}

/// Resolves relation `name` of `M` against `M` and its target, with the value of the
/// relation's key on `m`. A relation declared inconsistently (a key column that does not
/// exist) is a programming error caught on first use.
fn resolved_with_key<M: Model + RelationTarget>(
    m: &M,
    name: &str,
) -> (chakra_dsl::relations::ResolvedRelation, Value) {
    let models = registry::models_with(M::meta());
    let r = chakra_dsl::relations::resolve_relation(&models, M::meta(), name)
        .unwrap_or_else(|e| panic!("relation {}.{name}: {e}", M::NAME));
    let idx = M::meta()
        .field_index(&r.source_key().name)
        .expect("the relation key is a field of the model");
    let key = m.to_values().swap_remove(idx);
    (r, key)
}

/// A key's values as an error detail shows them: the value, or `(a, b)` for a composite key.
struct KeyShown(Vec<Value>);

impl std::fmt::Display for KeyShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("(")?;
                for (i, v) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The compiled SELECT of every field of the row with primary key `key` (locked
/// `FOR UPDATE` for [`ShapeKind::GetByPkForUpdate`]), through the statement-shape cache
/// ([`crate::sql::cache`]): the IR is built and compiled once per model and dialect.
pub fn select_by_pk(
    meta: &'static Arc<ModelMeta>,
    kind: ShapeKind,
    dialect: Dialect,
    key: Vec<Value>,
) -> Result<CompiledQuery> {
    compile_shape(Shape::of(meta, kind, dialect), key, |values| {
        let mut q = ModelQuery::new(meta.clone()).filter(pk_filter_values(meta, values)?);
        if kind == ShapeKind::GetByPkForUpdate {
            q = q.lock(Some(chakra_dsl::RowLock::update()));
        }
        Ok(Statement::Select(q.select()))
    })
}

fn pk_name(meta: &ModelMeta) -> String {
    match meta.primary_key_fields().as_slice() {
        [one] => one.name.clone(),
        [] => "pk".to_owned(),
        _ => meta.key_names(),
    }
}

/// Reads `v` as field `field` of `model` (the derive's `set_pk_value`).
pub fn decode_value<T: ColumnType>(v: Value, model: &str, field: &str) -> Result<T> {
    T::from_value(v).map_err(|reason| Error::Decode {
        column: format!("{model}.{field}"),
        reason,
    })
}

/// Reads the next cell of a row as field `field` of `model` (generated row decoding).
pub fn decode_cell<T: ColumnType>(
    cells: &mut std::vec::IntoIter<Value>,
    model: &str,
    field: &str,
) -> Result<T> {
    let v = cells.next().ok_or_else(|| Error::Decode {
        column: format!("{model}.{field}"),
        reason: "the row has fewer columns than the model has fields".into(),
    })?;
    T::from_value(v).map_err(|reason| Error::Decode {
        column: format!("{model}.{field}"),
        reason,
    })
}
