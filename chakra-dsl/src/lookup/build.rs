//! Building the IR condition of a parsed lookup from its argument, with type checks that
//! name the model, the field and the value.

use super::kinds::Lookup;
use super::parse::{ArgShape, ParsedLookup};
use crate::error::{Error, Result};
use crate::ir::{CmpOp, Expr, LikeKind};
use crate::meta::ModelMeta;
use crate::types::ValueType;
use crate::value::Value;

/// One side of a comparison: a value, or an expression such as another column (`F("x")`).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A bound value.
    Value(Value),
    /// An expression over the model's columns.
    Expr(Expr),
}

impl From<Value> for Operand {
    fn from(v: Value) -> Self {
        Operand::Value(v)
    }
}

/// The argument of a lookup, in the shape [`ParsedLookup::arg_shape`] asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum LookupArg {
    /// One operand (`exact`, `gt`, `contains`, `isnull`, …).
    Scalar(Operand),
    /// A list of values (`in`).
    List(Vec<Value>),
    /// Two operands (`range`).
    Pair(Operand, Operand),
}

impl From<Value> for LookupArg {
    fn from(v: Value) -> Self {
        LookupArg::Scalar(Operand::Value(v))
    }
}

/// A filter condition and the nullable columns it reads (when there are any, the condition
/// can be NULL, and a negation must keep those rows: see [`super::QNode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition.
    pub expr: Expr,
    /// Nullable columns whose NULL would make `expr` unknown rather than false.
    pub nullable: Vec<Expr>,
}

impl Condition {
    /// True when the condition can evaluate to NULL (it reads a nullable column).
    pub fn may_be_null(&self) -> bool {
        !self.nullable.is_empty()
    }
}

/// Checks that `v` fits `expected` (the operand type of the lookup) and converts between
/// the integer widths and to floats/decimals where that loses nothing.
pub fn coerce_value(pl: &ParsedLookup<'_>, expected: &ValueType, v: Value) -> Result<Value> {
    let bad = |v: &Value, reason: Option<String>| Error::BadValue {
        model: pl.model.name.clone(),
        field: pl.key.clone(),
        value: v.to_string(),
        expected: expected.to_string(),
        reason,
    };
    if let Value::Null(_) = v {
        return Ok(Value::Null(expected.clone()));
    }
    let got = v.value_type();
    if got == *expected {
        return Ok(v);
    }
    Ok(match (v, expected) {
        (Value::I32(x), ValueType::I64) => Value::I64(x as i64),
        (Value::I64(x), ValueType::I32) => match i32::try_from(x) {
            Ok(x) => Value::I32(x),
            Err(_) => {
                return Err(bad(
                    &Value::I64(x),
                    Some("out of range for a 32-bit Integer".into()),
                ))
            }
        },
        (Value::I32(x), ValueType::F64) => Value::F64(x as f64),
        (Value::I64(x), ValueType::F64) => Value::F64(x as f64),
        (Value::I32(x), ValueType::Decimal) => Value::Decimal(x.into()),
        (Value::I64(x), ValueType::Decimal) => Value::Decimal(x.into()),
        (v, _) => {
            let reason = Some(format!("got a {}", v.value_type()));
            return Err(bad(&v, reason));
        }
    })
}

/// The nullable columns of `meta` that `e` reads.
pub fn nullable_columns(meta: &ModelMeta, e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Column(c) => {
            let nullable = meta
                .fields
                .iter()
                .any(|f| f.column == c.column && f.nullable);
            if nullable && c.table.as_deref().is_none_or(|t| t == meta.table) && !out.contains(e) {
                out.push(e.clone());
            }
        }
        Expr::Extract { expr, .. }
        | Expr::DateOf(expr)
        | Expr::Not(expr)
        | Expr::ArrayLen(expr)
        | Expr::ArrayIndex { expr, .. } => nullable_columns(meta, expr, out),
        Expr::Contain { left, .. } => nullable_columns(meta, left, out),
        Expr::Arith { left, right, .. } | Expr::Compare { left, right, .. } => {
            nullable_columns(meta, left, out);
            nullable_columns(meta, right, out);
        }
        _ => {}
    }
}

impl ParsedLookup<'_> {
    fn bad_arg(&self, shown: &str, reason: &str) -> Error {
        Error::BadValue {
            model: self.model.name.clone(),
            field: self.key.clone(),
            value: shown.to_owned(),
            expected: match self.arg_shape() {
                ArgShape::Scalar(t) => t.to_string(),
                ArgShape::List(t) => format!("list of {t}"),
                ArgShape::Pair(t) => format!("pair of {t}"),
                ArgShape::Bool => "Boolean".into(),
                ArgShape::Text => "String".into(),
            },
            reason: Some(reason.to_owned()),
        }
    }

    fn operand_expr(&self, o: Operand, ty: &ValueType) -> Result<Expr> {
        match o {
            Operand::Value(Value::Null(_)) => Err(self.bad_arg(
                "None",
                &format!(
                    "None cannot be used with {:?}; use {}__isnull=True",
                    self.lookup.name(),
                    self.path()
                ),
            )),
            Operand::Value(v) => Ok(Expr::Value(coerce_value(self, ty, v)?)),
            Operand::Expr(e) => Ok(e),
        }
    }

    fn text_arg(&self, o: Operand) -> Result<String> {
        match o {
            Operand::Value(Value::Text(s)) => Ok(s),
            Operand::Value(Value::Null(_)) => Err(self.bad_arg(
                "None",
                &format!(
                    "None cannot be used with {:?}; use {}__isnull=True",
                    self.lookup.name(),
                    self.path()
                ),
            )),
            Operand::Value(v) => Err(self.bad_arg(&v.to_string(), "expected text")),
            Operand::Expr(_) => Err(self.bad_arg(
                "an expression",
                &format!("{:?} takes literal text", self.lookup.name()),
            )),
        }
    }

    /// A lookup on a JSON key path (`meta__plan="pro"`, `meta__a__b__gte=3`,
    /// `meta__has_key="plan"`): the compared value's JSON type picks what is extracted, and
    /// a value of another JSON type (or a missing key) never matches.
    fn build_json(&self, arg: LookupArg) -> Result<Condition> {
        use crate::ir::JsonAs;
        use serde_json::Value as J;
        let field = self.operand();
        let at = |path: Vec<String>, extract| Expr::JsonPath {
            expr: Box::new(field.clone()),
            path,
            extract,
        };
        let one = match arg {
            LookupArg::Scalar(o) => o,
            _ => return Err(self.bad_arg("a list", "expected one value")),
        };
        let never_null = |expr| Condition {
            expr,
            nullable: Vec::new(),
        };
        if self.lookup == Lookup::HasKey {
            let key = self.text_arg(one)?;
            if !super::parse::valid_json_key(&key) {
                return Err(self.bad_arg(&key, "keys are letters, digits, _, - and spaces"));
            }
            let mut path = self.json_path.clone();
            path.push(key);
            return Ok(never_null(at(path, JsonAs::TypeName).is_not_null()));
        }
        let path = self.json_path.clone();
        let v = match one {
            Operand::Value(v) => v,
            Operand::Expr(_) => {
                return Err(self.bad_arg("an expression", "a JSON key compares with a value"))
            }
        };
        if self.lookup == Lookup::IsNull {
            return match v {
                Value::Bool(b) | Value::Json(J::Bool(b)) => {
                    let p = at(path, JsonAs::TypeName);
                    Ok(never_null(if b { p.is_null() } else { p.is_not_null() }))
                }
                other => Err(self.bad_arg(&other.to_string(), "isnull takes True or False")),
            };
        }
        let j = match v {
            Value::Json(j) => j,
            Value::Text(s) => J::String(s),
            Value::I32(i) => J::from(i),
            Value::I64(i) => J::from(i),
            Value::F64(f) => J::from(f),
            Value::Bool(b) => J::Bool(b),
            Value::Null(_) => J::Null,
            other => {
                return Err(self.bad_arg(
                    &other.to_string(),
                    "a JSON key compares with text, a number, a boolean or None",
                ))
            }
        };
        let op = match self.lookup {
            Lookup::Exact => CmpOp::Eq,
            Lookup::Ne => CmpOp::Ne,
            Lookup::Gt => CmpOp::Gt,
            Lookup::Gte => CmpOp::Ge,
            Lookup::Lt => CmpOp::Lt,
            _ => CmpOp::Le,
        };
        let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let (lhs, rhs) = match j {
            J::Null if !ordering => {
                // `meta__key=None`: the key holds a JSON null.
                let p = at(path, JsonAs::TypeName);
                return Ok(Condition {
                    expr: p.clone().cmp(op, Expr::Value(Value::Text("null".into()))),
                    nullable: vec![p],
                });
            }
            J::String(s) => (at(path, JsonAs::Text), Value::Text(s)),
            J::Number(n) => match n.as_f64() {
                Some(f) => (at(path, JsonAs::Number), Value::F64(f)),
                None => return Err(self.bad_arg(&n.to_string(), "not a finite number")),
            },
            J::Bool(b) if !ordering => (at(path, JsonAs::Bool), Value::Bool(b)),
            other => {
                return Err(self.bad_arg(
                    &other.to_string(),
                    &format!(
                        "{:?} on a JSON key takes text or a number{}",
                        self.lookup.name(),
                        if ordering { "" } else { ", a boolean or None" }
                    ),
                ))
            }
        };
        Ok(Condition {
            expr: lhs.clone().cmp(op, Expr::Value(rhs)),
            nullable: vec![lhs],
        })
    }

    /// A containment or key test on a JSON field or an array (`tags__contains=["a"]`,
    /// `meta__contained_by={…}`, `tags__overlap=[…]`, `meta__has_keys=["a", "b"]`): one
    /// bound value on the right, so the SQL text never depends on how many elements or keys
    /// it holds.
    fn build_contain(&self, arg: LookupArg, ty: &ValueType) -> Result<Condition> {
        use crate::ir::{ContainOf, ContainOp};
        let lhs = self.operand();
        let mut nullable = Vec::new();
        nullable_columns(self.model, &lhs, &mut nullable);
        let of = if *ty == ValueType::Json {
            ContainOf::Json
        } else {
            ContainOf::Array
        };
        let (op, right) = match self.lookup {
            Lookup::HasKeys | Lookup::HasAnyKeys => {
                let keys = match arg {
                    LookupArg::List(v) => v,
                    _ => return Err(self.bad_arg("one value", "expected a list of keys")),
                };
                let mut items = Vec::with_capacity(keys.len());
                for k in keys {
                    match k {
                        Value::Text(t) if super::parse::valid_json_key(&t) => {
                            items.push(Value::Text(t))
                        }
                        other => {
                            return Err(self.bad_arg(
                                &other.to_string(),
                                "keys are text of letters, digits, _, - and spaces",
                            ))
                        }
                    }
                }
                let arr = crate::value::ArrayValue::from_values(&ValueType::Text, &items)
                    .ok_or_else(|| self.bad_arg("?", "keys are text"))?;
                let op = if self.lookup == Lookup::HasKeys {
                    ContainOp::HasAllKeys
                } else {
                    ContainOp::HasAnyKeys
                };
                (op, Expr::Value(Value::Array(arr)))
            }
            l => {
                let v = match arg {
                    LookupArg::Scalar(Operand::Value(v)) => v,
                    LookupArg::Scalar(Operand::Expr(_)) => {
                        return Err(
                            self.bad_arg("an expression", &format!("{:?} takes a value", l.name()))
                        )
                    }
                    _ => return Err(self.bad_arg("a list of values", "expected one value")),
                };
                if v.is_null() {
                    return Err(
                        self.bad_arg("None", &format!("None cannot be used with {:?}", l.name()))
                    );
                }
                let v = coerce_value(self, ty, v)?;
                let op = match l {
                    Lookup::Contains => ContainOp::Contains,
                    Lookup::ContainedBy => ContainOp::ContainedBy,
                    _ => ContainOp::Overlap,
                };
                (op, Expr::Value(v))
            }
        };
        Ok(Condition {
            expr: Expr::Contain {
                op,
                left: Box::new(lhs),
                right: Box::new(right),
                of,
            },
            nullable,
        })
    }

    /// Builds the condition for `arg`, checking its shape and types first.
    pub fn build(&self, arg: LookupArg) -> Result<Condition> {
        if self.lookup == Lookup::HasKey || !self.json_path.is_empty() {
            return self.build_json(arg);
        }
        {
            let ty = self.operand_type();
            if matches!(ty, ValueType::Json | ValueType::Array(_))
                && matches!(
                    self.lookup,
                    Lookup::Contains
                        | Lookup::ContainedBy
                        | Lookup::Overlap
                        | Lookup::HasKeys
                        | Lookup::HasAnyKeys
                )
            {
                return self.build_contain(arg, &ty);
            }
        }
        let lhs = self.operand();
        let ty = self.operand_type();
        let mut nullable = Vec::new();
        nullable_columns(self.model, &lhs, &mut nullable);
        let scalar = |arg: LookupArg| match arg {
            LookupArg::Scalar(o) => Ok(o),
            LookupArg::List(_) => Err(self.bad_arg("a list", "expected one value")),
            LookupArg::Pair(..) => Err(self.bad_arg("a pair", "expected one value")),
        };
        let never_null = |expr| Condition {
            expr,
            nullable: Vec::new(),
        };
        let expr = match self.lookup {
            Lookup::IsNull => match scalar(arg)? {
                Operand::Value(Value::Bool(b)) => {
                    return Ok(never_null(if b {
                        lhs.is_null()
                    } else {
                        lhs.is_not_null()
                    }))
                }
                Operand::Value(v) => {
                    return Err(self.bad_arg(&v.to_string(), "isnull takes True or False"))
                }
                Operand::Expr(_) => {
                    return Err(self.bad_arg("an expression", "isnull takes True or False"))
                }
            },
            Lookup::Exact | Lookup::IExact
                if matches!(scalar(arg.clone())?, Operand::Value(Value::Null(_))) =>
            {
                return Ok(never_null(lhs.is_null()));
            }
            Lookup::Ne if matches!(scalar(arg.clone())?, Operand::Value(Value::Null(_))) => {
                return Ok(never_null(lhs.is_not_null()));
            }
            Lookup::Exact => {
                let rhs = self.operand_expr(scalar(arg)?, &ty)?;
                nullable_columns(self.model, &rhs, &mut nullable);
                lhs.cmp(CmpOp::Eq, rhs)
            }
            Lookup::Ne => {
                // SQL `<>`, as the Rust typed DSL's `ne`: a NULL field does not match
                // (`exclude(field=value)` keeps those rows).
                let rhs = self.operand_expr(scalar(arg)?, &ty)?;
                nullable_columns(self.model, &rhs, &mut nullable);
                lhs.cmp(CmpOp::Ne, rhs)
            }
            Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => {
                let op = match self.lookup {
                    Lookup::Gt => CmpOp::Gt,
                    Lookup::Gte => CmpOp::Ge,
                    Lookup::Lt => CmpOp::Lt,
                    _ => CmpOp::Le,
                };
                let rhs = self.operand_expr(scalar(arg)?, &ty)?;
                nullable_columns(self.model, &rhs, &mut nullable);
                lhs.cmp(op, rhs)
            }
            Lookup::In => {
                let values = match arg {
                    LookupArg::List(v) => v,
                    // `field__in=qs.values("id")`: a one-column subquery of the same type.
                    LookupArg::Scalar(Operand::Expr(Expr::Subquery(query))) => {
                        let sub_ty = query.columns.first().map(|c| c.ty.clone());
                        if sub_ty.as_ref() != Some(&ty) {
                            return Err(self.bad_arg(
                                "a subquery",
                                &format!(
                                    "in takes a subquery selecting one {ty} column, not {}",
                                    sub_ty.map(|t| t.to_string()).unwrap_or_else(|| "?".into())
                                ),
                            ));
                        }
                        return Ok(Condition {
                            expr: Expr::InSubquery {
                                expr: Box::new(lhs),
                                query,
                            },
                            nullable,
                        });
                    }
                    LookupArg::Scalar(Operand::Value(v)) => {
                        return Err(self.bad_arg(&v.to_string(), "in takes a list of values"))
                    }
                    _ => return Err(self.bad_arg("?", "in takes a list of values")),
                };
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    // NULL never equals anything: Django drops it from IN lists too.
                    if !v.is_null() {
                        out.push(coerce_value(self, &ty, v)?);
                    }
                }
                // An empty list stays an (always false) IN, as the typed DSL builds it; the
                // compiler writes FALSE.
                lhs.is_in(out)
            }
            Lookup::Range => {
                let (lo, hi) = match arg {
                    LookupArg::Pair(lo, hi) => (lo, hi),
                    LookupArg::List(mut v) if v.len() == 2 => {
                        let hi = v.pop().expect("two");
                        let lo = v.pop().expect("two");
                        (Operand::Value(lo), Operand::Value(hi))
                    }
                    _ => return Err(self.bad_arg("?", "range takes (low, high)")),
                };
                let lo = self.operand_expr(lo, &ty)?;
                let hi = self.operand_expr(hi, &ty)?;
                nullable_columns(self.model, &lo, &mut nullable);
                nullable_columns(self.model, &hi, &mut nullable);
                lhs.between(lo, hi)
            }
            Lookup::IExact
            | Lookup::Contains
            | Lookup::IContains
            | Lookup::StartsWith
            | Lookup::IStartsWith
            | Lookup::EndsWith
            | Lookup::IEndsWith => {
                let text = self.text_arg(scalar(arg)?)?;
                let (kind, ci) = match self.lookup {
                    Lookup::IExact => (LikeKind::Exact, true),
                    Lookup::Contains => (LikeKind::Contains, false),
                    Lookup::IContains => (LikeKind::Contains, true),
                    Lookup::StartsWith => (LikeKind::StartsWith, false),
                    Lookup::IStartsWith => (LikeKind::StartsWith, true),
                    Lookup::EndsWith => (LikeKind::EndsWith, false),
                    _ => (LikeKind::EndsWith, true),
                };
                lhs.like(kind, text, ci)
            }
            Lookup::HasKey => unreachable!("has_key is built by build_json"),
            Lookup::HasKeys | Lookup::HasAnyKeys | Lookup::ContainedBy | Lookup::Overlap => {
                unreachable!("containment is built by build_contain")
            }
            Lookup::Regex | Lookup::IRegex => {
                let pattern = self.text_arg(scalar(arg)?)?;
                Expr::Regex {
                    expr: Box::new(lhs),
                    pattern,
                    case_insensitive: self.lookup == Lookup::IRegex,
                }
            }
        };
        Ok(Condition { expr, nullable })
    }
}
