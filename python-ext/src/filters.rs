//! Python filter arguments → the shared lookup parser: `Q` trees, `field__lookup=value`
//! pairs and `F` expressions become [`QNode`]s and [`Expr`]s. Only value conversion lives
//! here; parsing and building are [`chakra_dsl::lookup`]'s.

use crate::convert::from_py;
use crate::errors::to_py as err;
use crate::model::ModelInfo;
use crate::registry::Snapshot;
use chakra_dsl::lookup::{self, ArgShape, LookupArg, Operand, ParsedLookup, QNode};
use chakra_dsl::{ArithOp, Error, Expr, ModelMeta, Value, ValueType};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};
use std::sync::Arc;

static EXPRESSION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static MODEL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static QUERYSET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The select of a Python queryset placed in another query: its filters, ordering and
/// slice, and the fields of `.values(…)` / `.values_list(…)` when given.
fn queryset_select(qs: &Bound<'_, PyAny>) -> PyResult<chakra_dsl::Select> {
    let py = qs.py();
    let q = qs.getattr(intern!(py, "_q"))?;
    let q = q.cast::<crate::query::Query>()?;
    let fields: Vec<String> = qs.getattr(intern!(py, "_fields"))?.extract()?;
    let mq = &q.get().mq;
    if fields.is_empty() {
        return Ok(mq.select());
    }
    // A relation named in `.values("author")` stands for its key field, as in Django.
    let meta = &mq.meta;
    let names: Vec<&str> = fields
        .iter()
        .map(
            |f| match meta.relation(f).and_then(|r| r.foreign_key.as_deref()) {
                Some(key) if meta.field(f).is_none() => key,
                _ => f.as_str(),
            },
        )
        .collect();
    mq.select_fields(&names).map_err(err)
}

/// `OuterRef("f")`, `Subquery(qs)` and `Exists(qs)` (`~Exists`) in a query over `outer`;
/// `None` for any other object.
pub fn subquery_expr(outer: &ModelMeta, obj: &Bound<'_, PyAny>) -> PyResult<Option<Expr>> {
    let py = obj.py();
    let Ok(kind) = obj.getattr(intern!(py, "_chakra_kind")) else {
        return Ok(None);
    };
    let kind: String = kind.extract()?;
    Ok(Some(match kind.as_str() {
        "outer" => Expr::OuterRef(obj.getattr(intern!(py, "name"))?.extract()?),
        "subquery" => {
            let sel = queryset_select(&obj.getattr(intern!(py, "queryset"))?)?;
            chakra_dsl::subquery::scalar(sel, outer).map_err(err)?
        }
        "exists" => {
            let sel = queryset_select(&obj.getattr(intern!(py, "queryset"))?)?;
            let e = chakra_dsl::subquery::exists(sel, outer).map_err(err)?;
            if obj.getattr(intern!(py, "negated"))?.extract()? {
                e.not()
            } else {
                e
            }
        }
        _ => return Ok(None),
    }))
}

fn is_queryset(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let cls = QUERYSET.import(obj.py(), "chakra.query", "QuerySet")?;
    obj.is_instance(cls)
}

/// A model instance given as a lookup value stands for its primary key
/// (`filter(author=alice)`, `tags__in=[t1, t2]`).
fn model_key<'py>(
    meta: &ModelMeta,
    key: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let cls = MODEL.import(py, "chakra.models", "Model")?;
    if !obj.is_instance(cls)? {
        return Ok(obj.clone());
    }
    let pk = obj.getattr(intern!(py, "pk"))?;
    if pk.is_none() {
        return Err(bad(
            meta,
            key,
            obj,
            "a saved object".into(),
            "the object has no primary key yet (save it first)".into(),
        ));
    }
    Ok(pk)
}

/// The error type `lookup::across` threads through (a Python exception, or a core error
/// converted to one).
struct Fail(PyErr);

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail(err(e))
    }
}

/// Builds the condition for `key=value`, crossing relations (`author__username`,
/// `posts__title__contains`, `tags__name`, `posts__isnull`) through the core's
/// `lookup::across`: the relation hops become `EXISTS` around the condition on the last
/// model.
pub fn leaf_across(
    models: &Snapshot,
    meta: &Arc<ModelMeta>,
    key: &str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<QNode> {
    lookup::across(
        models,
        meta,
        key,
        |m, k| {
            let across = std::cell::RefCell::new(None);
            let root = Root {
                models,
                meta,
                mark: true,
                across: Some(&across),
            };
            let node = leaf(&root, m, k, obj).map_err(Fail)?;
            match across.into_inner() {
                None => Ok(node),
                // `age__lt=F("books__pages")`: the condition inside the books' `EXISTS`.
                Some(hops) if m.table == meta.table => Ok(lookup::wrap_related(hops, node)),
                Some(_) => Err(Fail(err(Error::InvalidQuery(format!(
                    "{key}: an F() through a relation to many rows is only supported in a \
                     lookup on {}'s own fields; write the condition from the related model's \
                     side (`books__pages__gt=F(\"age\")`)",
                    meta.name
                ))))),
            }
        },
        || match obj.cast::<PyBool>() {
            Ok(b) => Ok(b.is_true()),
            Err(_) => Err(Fail(bad(
                meta,
                key,
                obj,
                "Boolean".into(),
                "isnull takes True or False".into(),
            ))),
        },
    )
    .map_err(|f| f.0)
}

fn is_expression(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let cls = EXPRESSION.import(obj.py(), "chakra.expressions", "Expression")?;
    obj.is_instance(cls)
}

fn repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into())
}

fn bad(
    meta: &ModelMeta,
    key: &str,
    obj: &Bound<'_, PyAny>,
    expected: String,
    reason: String,
) -> PyErr {
    err(Error::BadValue {
        model: meta.name.clone(),
        field: key.to_owned(),
        value: repr(obj),
        expected,
        reason: Some(reason),
    })
}

/// The arithmetic operator of a combined Python expression (`F("a") + 1`: its `op`).
pub fn arith_op(obj: &Bound<'_, PyAny>) -> PyResult<ArithOp> {
    let op: String = obj.getattr(intern!(obj.py(), "op"))?.extract()?;
    Ok(match op.as_str() {
        "+" => ArithOp::Add,
        "-" => ArithOp::Sub,
        "*" => ArithOp::Mul,
        "/" => ArithOp::Div,
        other => {
            return Err(err(Error::InvalidQuery(format!(
                "unsupported operator {other:?} in {}",
                repr(obj)
            ))))
        }
    })
}

/// The queried model an `F` resolves against, wherever its lookup sits (`books__pages__gt=
/// F("age")` reads the author's `age`, as in Django).
pub struct Root<'a> {
    /// The registered models (for `F("author__age")`).
    pub models: &'a Snapshot,
    /// The queried model.
    pub meta: &'a Arc<ModelMeta>,
    /// Inside a filter: references to the queried row are marked until the tree is lowered.
    pub mark: bool,
    /// Inside a filter: where an `F` through relations to many rows (`F("books__pages")`)
    /// leaves the hops its condition goes inside (one chain per lookup); `None` refuses
    /// such an `F` (an `update()`).
    pub across:
        Option<&'a std::cell::RefCell<Option<Vec<chakra_dsl::relations::ResolvedRelation>>>>,
}

impl Root<'_> {
    fn field(&self, name: &str) -> PyResult<Expr> {
        if let Some(across) = self.across {
            if let Some((hops, e)) =
                lookup::field_ref_across(self.models, self.meta, name).map_err(err)?
            {
                let mut chain = across.borrow_mut();
                match chain.as_ref() {
                    Some(c) if *c != hops => {
                        return Err(err(Error::InvalidQuery(format!(
                            "F({name:?}): one lookup on {} can cross one chain of relations \
                             to many rows; split the condition",
                            self.meta.name
                        ))))
                    }
                    _ => *chain = Some(hops),
                }
                return Ok(e);
            }
        }
        let e = lookup::field_ref(self.models, self.meta, name).map_err(err)?;
        Ok(if self.mark {
            lookup::mark_outer(e, self.meta)
        } else {
            e
        })
    }
}

/// Converts an `F` expression (or arithmetic over `F`s and values) to an [`Expr`]; plain
/// values are converted to `ty`, the type of the other side. `meta` is the model the
/// lookup's key is on (for messages), `root` the queried model `F` names are resolved on.
pub fn expression(
    root: &Root<'_>,
    meta: &ModelMeta,
    key: &str,
    obj: &Bound<'_, PyAny>,
    ty: &ValueType,
) -> PyResult<Expr> {
    let py = obj.py();
    let _level = crate::convert::Nesting::enter("expressions")?;
    if !is_expression(obj)? {
        let v = from_py::value(obj, ty).map_err(|r| bad(meta, key, obj, ty.to_string(), r))?;
        return Ok(Expr::Value(v));
    }
    if let Some(e) = subquery_expr(root.meta, obj)? {
        return Ok(e);
    }
    if let Ok(name) = obj.getattr(intern!(py, "name")) {
        let name: String = name.extract()?;
        return root.field(&name);
    }
    let lhs = obj.getattr(intern!(py, "lhs"))?;
    let rhs = obj.getattr(intern!(py, "rhs"))?;
    let op = arith_op(obj)?;
    // The side that is an expression decides the type of the plain value on the other side.
    let (left, right) = if is_expression(&lhs)? {
        let l = expression(root, meta, key, &lhs, ty)?;
        let t = l.value_type().unwrap_or_else(|| ty.clone());
        (l, expression(root, meta, key, &rhs, &t)?)
    } else {
        let r = expression(root, meta, key, &rhs, ty)?;
        let t = r.value_type().unwrap_or_else(|| ty.clone());
        (expression(root, meta, key, &lhs, &t)?, r)
    };
    Ok(Expr::Arith {
        left: Box::new(left),
        op,
        right: Box::new(right),
    })
}

fn operand(
    root: &Root<'_>,
    pl: &ParsedLookup<'_>,
    obj: &Bound<'_, PyAny>,
    ty: &ValueType,
) -> PyResult<Operand> {
    let obj = &model_key(pl.model, &pl.key, obj)?;
    if is_expression(obj)? {
        return Ok(Operand::Expr(expression(root, pl.model, &pl.key, obj, ty)?));
    }
    from_py::value(obj, ty)
        .map(Operand::Value)
        .map_err(|r| bad(pl.model, &pl.key, obj, ty.to_string(), r))
}

fn sequence<'py>(obj: &Bound<'py, PyAny>) -> Option<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<pyo3::types::PyBytes>() {
        return None;
    }
    let it = obj.try_iter().ok()?;
    it.collect::<PyResult<Vec<_>>>().ok()
}

/// Builds the condition for `key=value` on `meta`'s own fields (`meta` is `root`'s model or
/// one a relation path reached).
fn leaf(root: &Root<'_>, meta: &ModelMeta, key: &str, obj: &Bound<'_, PyAny>) -> PyResult<QNode> {
    if meta.has_composite_key() && meta.field("pk").is_none() {
        if let Some(lookup) = key
            .strip_prefix("pk")
            .filter(|r| r.is_empty() || r.starts_with("__"))
        {
            return composite_pk_leaf(root, meta, key, lookup, obj);
        }
    }
    let pl = lookup::parse(meta, key).map_err(err)?;
    let arg = match pl.arg_shape() {
        ArgShape::Scalar(ty) => LookupArg::Scalar(operand(root, &pl, obj, &ty)?),
        ArgShape::Bool => match obj.cast::<PyBool>() {
            Ok(b) => LookupArg::Scalar(Operand::Value(Value::Bool(b.is_true()))),
            Err(_) => {
                return Err(bad(
                    meta,
                    key,
                    obj,
                    "Boolean".into(),
                    "isnull takes True or False".into(),
                ))
            }
        },
        ArgShape::Text => {
            if obj.is_none() {
                LookupArg::Scalar(Operand::Value(Value::Null(ValueType::Text)))
            } else {
                match obj.cast::<PyString>() {
                    Ok(s) => LookupArg::Scalar(Operand::Value(Value::Text(s.to_str()?.to_owned()))),
                    Err(_) => {
                        return Err(bad(
                            meta,
                            key,
                            obj,
                            "String".into(),
                            "expected a str".into(),
                        ))
                    }
                }
            }
        }
        // `field__in=qs.values("id")` / `field__in=Subquery(…)`: one subquery.
        ArgShape::List(_) if is_queryset(obj)? => LookupArg::Scalar(Operand::Expr(
            chakra_dsl::subquery::scalar(queryset_select(obj)?, meta).map_err(err)?,
        )),
        ArgShape::List(_) if is_expression(obj)? => match subquery_expr(meta, obj)? {
            Some(e) => LookupArg::Scalar(Operand::Expr(e)),
            None => {
                return Err(bad(
                    meta,
                    key,
                    obj,
                    "a list or a queryset".into(),
                    "in takes a list, tuple or set of values, or a queryset".into(),
                ))
            }
        },
        ArgShape::List(ty) => {
            let items = sequence(obj).ok_or_else(|| {
                bad(
                    meta,
                    key,
                    obj,
                    format!("list of {ty}"),
                    "expected a list, tuple or set".into(),
                )
            })?;
            let mut vals = Vec::with_capacity(items.len());
            for it in &items {
                let it = &model_key(meta, key, it)?;
                vals.push(
                    from_py::value(it, &ty).map_err(|r| bad(meta, key, it, ty.to_string(), r))?,
                );
            }
            LookupArg::List(vals)
        }
        ArgShape::Pair(ty) => {
            let items = sequence(obj).filter(|v| v.len() == 2).ok_or_else(|| {
                bad(
                    meta,
                    key,
                    obj,
                    format!("pair of {ty}"),
                    "expected (low, high)".into(),
                )
            })?;
            LookupArg::Pair(
                operand(root, &pl, &items[0], &ty)?,
                operand(root, &pl, &items[1], &ty)?,
            )
        }
    };
    Ok(QNode::Leaf(pl.build(arg).map_err(err)?))
}

/// `pk=(a, b)` / `pk__exact=(a, b)` / `pk__in=[(a, b), …]` on a model with a composite
/// primary key (as Django's `CompositePrimaryKey`): one condition per key field, ANDed (and
/// ORed over the `in` list). Any other lookup on `pk`, or a value that is not a tuple of one
/// value per key field, is an error naming the model and its key fields.
fn composite_pk_leaf(
    root: &Root<'_>,
    meta: &ModelMeta,
    key: &str,
    lookup: &str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<QNode> {
    let keys = meta.primary_key_fields();
    let one = |value: &Bound<'_, PyAny>| -> PyResult<QNode> {
        let items = sequence(value)
            .filter(|v| v.len() == keys.len() && !value.is_instance_of::<PyDict>())
            .ok_or_else(|| {
                bad(
                    meta,
                    key,
                    value,
                    format!("tuple of {} values {}", keys.len(), meta.key_names()),
                    format!("{} has a composite primary key", meta.name),
                )
            })?;
        let mut parts = Vec::with_capacity(keys.len());
        for (f, v) in keys.iter().zip(&items) {
            parts.push(leaf(root, meta, &f.name, v)?);
        }
        Ok(QNode::And(parts))
    };
    match lookup {
        "" | "__exact" => one(obj),
        "__in" => {
            let items = sequence(obj).ok_or_else(|| {
                bad(
                    meta,
                    key,
                    obj,
                    format!("list of tuples of {} values", keys.len()),
                    "expected a list, tuple or set".into(),
                )
            })?;
            Ok(QNode::Or(items.iter().map(one).collect::<PyResult<_>>()?))
        }
        _ => Err(err(Error::InvalidQuery(format!(
            "{key} on {}: its primary key is composite {}, which takes only pk=(…) and \
             pk__in=[(…), …]",
            meta.name,
            meta.key_names()
        )))),
    }
}

/// Converts a `chakra.Q` object (its `children`, `connector` and `negated`); keys may cross
/// relations of the registered `models`.
pub fn q_node(models: &Snapshot, info: &ModelInfo, q: &Bound<'_, PyAny>) -> PyResult<QNode> {
    q_node_in(models, &info.meta, q)
}

/// The children of a `Q` object.
fn children_of<'py>(q: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let children = q.getattr(intern!(q.py(), "children"))?;
    Ok(children.cast::<PyList>()?.iter().collect())
}

/// [`q_node`] against `meta` (a model's metadata, or one extended with annotations).
pub fn q_node_in(
    models: &Snapshot,
    meta: &std::sync::Arc<chakra_dsl::ModelMeta>,
    q: &Bound<'_, PyAny>,
) -> PyResult<QNode> {
    let py = q.py();
    let _level = crate::convert::Nesting::enter("Q objects")?;
    let connector: String = q.getattr(intern!(py, "connector"))?.extract()?;
    // Children that are un-negated Q objects with the same connector are spliced in (without
    // recursion), so `q1 | q2 | … | qn` is one flat OR however it was built.
    let splice = |child: &Bound<'_, PyAny>| -> bool {
        !child.is_instance_of::<PyTuple>()
            && child
                .getattr(intern!(py, "negated"))
                .is_ok_and(|n| n.is_truthy().ok() == Some(false))
            && child
                .getattr(intern!(py, "connector"))
                .is_ok_and(|c| c.extract::<String>().ok().as_deref() == Some(connector.as_str()))
    };
    let mut stack: Vec<Bound<'_, PyAny>> = children_of(q)?;
    stack.reverse();
    let mut flat = Vec::new();
    while let Some(child) = stack.pop() {
        if splice(&child) {
            stack.extend(children_of(&child)?.into_iter().rev());
        } else {
            flat.push(child);
        }
    }
    let mut nodes = Vec::with_capacity(flat.len());
    for child in flat {
        if let Ok(t) = child.cast::<PyTuple>() {
            let key: String = t.get_item(0)?.extract()?;
            nodes.push(leaf_across(models, meta, &key, &t.get_item(1)?)?);
        } else if is_expression(&child)? {
            // `filter(Exists(…))`: a condition of its own, never NULL.
            match subquery_expr(meta, &child)? {
                Some(expr @ (Expr::Exists(_) | Expr::Not(_))) => {
                    nodes.push(QNode::Leaf(lookup::Condition {
                        expr,
                        nullable: Vec::new(),
                    }))
                }
                _ => {
                    return Err(err(Error::InvalidQuery(format!(
                        "{} is not a condition: filter() takes Q objects, Exists(…) and \
                         field=value pairs",
                        repr(&child)
                    ))))
                }
            }
        } else {
            nodes.push(q_node_in(models, meta, &child)?);
        }
    }
    let node = if connector == "OR" {
        QNode::Or(nodes)
    } else {
        QNode::And(nodes)
    };
    let negated: bool = q.getattr(intern!(py, "negated"))?.extract()?;
    Ok(if negated {
        QNode::Not(Box::new(node))
    } else {
        node
    })
}
