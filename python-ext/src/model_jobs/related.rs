//! Jobs on an object's relations: the query over its related rows (`related_query`),
//! many-to-many link changes (`links_job`), relation paths loaded onto it
//! (`fetch_related_job`).

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::hydrate::{Mode, Tree};
use crate::job::{Finish, Job, LinkOp, Op};
use crate::model::ModelHandle;
use crate::session::target_of;
use chakra_dsl::relations::explicit::related_filter;
use chakra_dsl::relations::{resolve_relation, Link};
use chakra_dsl::{pk_filter_values, Error, LoadPlan, LoadSpec, ModelQuery, PrefetchSpec};
use pyo3::intern;
use pyo3::prelude::*;

impl ModelHandle {
    /// The query over the rows related to `obj` through relation `name` (explicit
    /// loading: `await user.posts.all()`, `user.posts.filter(...)`).
    pub(super) fn build_related_query(
        &self,
        obj: &Bound<'_, PyAny>,
        name: &str,
    ) -> PyResult<crate::query::Query> {
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let key = self.key_of(obj, rel.source_key(), name)?;
        let target = models.info(&rel.target.name).cloned().ok_or_else(|| {
            err(Error::UnknownModel {
                model: rel.target.name.clone(),
                referenced_by: rel.display(),
            })
        })?;
        let mut mq = ModelQuery::new(rel.target.clone()).filter(related_filter(&rel, key));
        // The target's default ordering, else primary-key order, as prefetch_related gives
        // them (order_by() replaces either).
        // (Every key field of a composite key.)
        if mq.order_by.is_empty() {
            for pk in rel.target.primary_key_fields() {
                mq = mq.order_by(chakra_dsl::field_expr(&rel.target, pk), false);
            }
        }
        Ok(crate::query::Query::new(target, mq))
    }

    /// Changes the many-to-many links of `obj` through relation `name`: `op` is `"add"`,
    /// `"remove"`, `"clear"` or `"set"`, `objs` the related objects (or their keys).
    /// Returns the number of join rows written or deleted.
    pub(super) fn build_links(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        name: &str,
        op: &str,
        objs: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Job> {
        let py = obj.py();
        let models = crate::registry::snapshot();
        let rel = resolve_relation(&models, &self.info.meta, name).map_err(err)?;
        let Link::Through { target_key, .. } = &rel.link else {
            return Err(err(Error::InvalidRelation {
                model: self.info.meta.name.clone(),
                relation: name.to_owned(),
                reason: format!(
                    "{op}() works on many-to-many relations; set the foreign key on the \
                     related object instead"
                ),
            }));
        };
        let key = self.key_of(obj, rel.source_key(), name)?;
        let mut values = Vec::with_capacity(objs.len());
        for o in &objs {
            let k = match o.getattr(intern!(py, "__chakra__")) {
                Ok(_) => o.getattr(intern!(py, "pk"))?,
                Err(_) => o.clone(),
            };
            if k.is_none() {
                return Err(self.bad(
                    name,
                    o,
                    &target_key.ty,
                    format!(
                        "the {} has no primary key yet (save it first)",
                        rel.target.name
                    ),
                ));
            }
            values.push(
                from_py::value(&k, &target_key.ty.value_type())
                    .map_err(|r| self.bad(name, o, &target_key.ty, r))?,
            );
        }
        let op = match op {
            "add" => LinkOp::Add(values),
            "remove" => LinkOp::Remove(values),
            "clear" => LinkOp::Clear,
            "set" => LinkOp::Set(values),
            other => {
                return Err(err(Error::InvalidQuery(format!(
                    "unknown link operation {other:?}"
                ))))
            }
        };
        Ok(Job::new(
            Op::Links(target_of(target)?, Box::new(rel), key, op),
            Finish::RowCount,
        ))
    }

    /// Loads relation paths (`"author"`, `"comments__commenter"`) onto `obj` with one
    /// statement per level (`await post.fetch_related(...)`).
    pub(super) fn build_fetch_related(
        &self,
        target: &Bound<'_, PyAny>,
        obj: &Bound<'_, PyAny>,
        paths: Vec<String>,
    ) -> PyResult<Job> {
        let meta = &self.info.meta;
        let keys = meta.primary_key_fields();
        if keys.is_empty() {
            return Err(err(Error::InvalidQuery(format!(
                "{} has no primary key",
                meta.name
            ))));
        }
        let mut key = Vec::with_capacity(keys.len());
        for pk in keys {
            key.push(self.key_of(obj, pk, "fetch_related")?);
        }
        let mq = ModelQuery::new(meta.clone()).filter(pk_filter_values(meta, key).map_err(err)?);
        let spec = LoadSpec {
            select_related: Vec::new(),
            prefetch: paths.into_iter().map(PrefetchSpec::new).collect(),
        };
        let models = crate::registry::snapshot();
        let plan = LoadPlan::build(&models, &mq, &spec).map_err(err)?;
        Ok(Job::new(
            Op::Load(target_of(target)?, Box::new(plan)),
            Finish::Tree(Tree {
                root: self.info.clone(),
                models,
                mode: Mode::Onto(obj.clone().unbind()),
                annotations: Vec::new(),
            }),
        ))
    }
}
