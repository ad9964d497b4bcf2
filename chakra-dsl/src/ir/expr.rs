//! Expressions of the query IR.

use crate::ir::select::Select;
use crate::types::ValueType;
use crate::value::Value;

/// A column reference: `alias.column`, with the column's runtime type so the compiler can
/// emit per-type SQL (SQLite stores dates as text, decimals as text, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef {
    /// Table name or alias qualifying the column; `None` for an unqualified column.
    pub table: Option<String>,
    /// Column name.
    pub column: String,
    /// The column's runtime type.
    pub ty: ValueType,
    /// The name of the enum type the column holds (a field of type `Enum`), `None` for
    /// every other column. Its values are text ([`ValueType::Text`]); the name lets a backend
    /// with native enum types cast binds that meet the column and read it as text.
    pub enum_type: Option<String>,
}

impl ColumnRef {
    /// A column of `table`.
    pub fn new(table: impl Into<String>, column: impl Into<String>, ty: ValueType) -> Self {
        ColumnRef {
            table: Some(table.into()),
            column: column.into(),
            ty,
            enum_type: None,
        }
    }

    /// This column, holding the enum type `name` (or none).
    pub fn with_enum_type(mut self, name: Option<String>) -> Self {
        self.enum_type = name;
        self
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Arithmetic operators (for `F("balance") - 100`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// What a LIKE pattern built from user text matches. The text is always matched literally:
/// the compiler escapes `%`, `_` and the escape character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeKind {
    /// The whole value equals the text (used for `iexact`).
    Exact,
    /// The value contains the text.
    Contains,
    /// The value starts with the text.
    StartsWith,
    /// The value ends with the text.
    EndsWith,
    /// The text is a raw LIKE pattern written by the programmer (`like("a%")`); `\` escapes.
    Raw,
}

/// A date/time part, for `year`, `month`, … transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    /// Year.
    Year,
    /// Month 1–12.
    Month,
    /// Day of month 1–31.
    Day,
    /// Day of week, 1 = Sunday … 7 = Saturday (as Django).
    WeekDay,
    /// Hour 0–23.
    Hour,
    /// Minute 0–59.
    Minute,
    /// Second 0–59.
    Second,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column.
    Column(ColumnRef),
    /// A bound value.
    Value(Value),
    /// A constant TRUE or FALSE (empty `IN` lists become FALSE).
    Bool(bool),
    /// `left op right`.
    Compare {
        /// Left side.
        left: Box<Expr>,
        /// Operator.
        op: CmpOp,
        /// Right side.
        right: Box<Expr>,
    },
    /// `expr LIKE pattern ESCAPE '\'`, built from literal text.
    Like {
        /// The text expression tested.
        expr: Box<Expr>,
        /// Literal text (escaped by the compiler unless `kind` is `Raw`).
        text: String,
        /// How the text is anchored.
        kind: LikeKind,
        /// Case-insensitive (Unicode-aware on every backend).
        case_insensitive: bool,
    },
    /// Regular-expression match.
    Regex {
        /// The text expression tested.
        expr: Box<Expr>,
        /// The pattern (POSIX-ish syntax shared by PostgreSQL and the `regex` crate).
        pattern: String,
        /// Case-insensitive.
        case_insensitive: bool,
    },
    /// `expr IN (values…)`. An empty list is always false.
    In {
        /// The tested expression.
        expr: Box<Expr>,
        /// The candidates (all of the expression's type).
        values: Vec<Value>,
    },
    /// `expr IN (SELECT …)`.
    InSubquery {
        /// The tested expression.
        expr: Box<Expr>,
        /// A one-column select.
        query: Box<Select>,
    },
    /// `expr IS NULL` / `IS NOT NULL`.
    IsNull {
        /// The tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL` when true.
        negated: bool,
    },
    /// `expr BETWEEN low AND high` (inclusive).
    Between {
        /// The tested expression.
        expr: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
    },
    /// All must hold. An empty list is TRUE.
    And(Vec<Expr>),
    /// Any must hold. An empty list is FALSE.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A part of a date or timestamp, as an integer.
    Extract {
        /// Which part.
        part: DatePart,
        /// A `DateTime` or `Date` expression.
        expr: Box<Expr>,
    },
    /// The date of a timestamp (UTC).
    DateOf(Box<Expr>),
    /// `left op right` arithmetic.
    Arith {
        /// Left side.
        left: Box<Expr>,
        /// Operator.
        op: ArithOp,
        /// Right side.
        right: Box<Expr>,
    },
    /// `EXISTS (SELECT …)`.
    Exists(Box<Select>),
    /// A row value `(a, b, …)`: the left side of a row-value `IN (SELECT a, b …)` (a
    /// composite primary key).
    Row(Vec<Expr>),
    /// `COUNT(*)`.
    CountStar,
    /// A scalar subquery: `(SELECT one column …)`, e.g. a count of related rows.
    Subquery(Box<Select>),
    /// A scalar function (`COALESCE`, `LOWER`, …), built and type-checked by
    /// [`crate::functions`].
    Func {
        /// Which function.
        func: ScalarFunc,
        /// Its arguments.
        args: Vec<Expr>,
        /// The result type.
        ty: ValueType,
    },
    /// A value inside a JSON document, by key path (`meta__a__0__b`): extracted as text,
    /// a number or a boolean only when it has that JSON type (NULL otherwise, and when the
    /// path is missing), or its JSON type name (`null` for a JSON null).
    JsonPath {
        /// The JSON expression.
        expr: Box<Expr>,
        /// Keys (and array indexes, as digits).
        path: Vec<String>,
        /// What is extracted.
        extract: JsonAs,
    },
    /// `CAST(expr AS ty)`.
    Cast {
        /// The converted expression.
        expr: Box<Expr>,
        /// The target type.
        ty: ValueType,
    },
    /// `CASE WHEN cond THEN value … ELSE default END`.
    Case {
        /// `(condition, value)` pairs, tried in order.
        whens: Vec<(Expr, Expr)>,
        /// The value when no condition holds (NULL when absent).
        default: Option<Box<Expr>>,
        /// The result type.
        ty: ValueType,
    },
    /// An aggregate (`COUNT`, `SUM`, `AVG`, `MIN`, `MAX`), built and type-checked by
    /// [`crate::aggregate`].
    Aggregate(Box<Aggregate>),
    /// A containment or key test on a JSON document or an array (`tags__contains=["a"]`,
    /// `meta__has_keys=["a", "b"]`): PostgreSQL's `@>`, `<@`, `&&`, `?&`, `?|`; SQLite walks
    /// the JSON text with `json_each` (and `chakra_json_contains` for JSON containment).
    /// NULL when the left side is NULL.
    Contain {
        /// Which test.
        op: ContainOp,
        /// A JSON document or an array.
        left: Box<Expr>,
        /// The value tested against (a JSON document, an array, or the keys as a text array).
        right: Box<Expr>,
        /// Whether `left` is JSON or an array.
        of: ContainOf,
    },
    /// A field of the enclosing query, named inside a subquery (`OuterRef("id")`): resolved
    /// to that query's column by [`crate::subquery`] when the subquery is placed in it; the
    /// compiler refuses one left unresolved.
    OuterRef(String),
    /// The number of elements of an array (NULL for a NULL array).
    ArrayLen(Box<Expr>),
    /// The element of an array at a 0-based position (NULL past the end).
    ArrayIndex {
        /// The array.
        expr: Box<Expr>,
        /// The position, from 0.
        index: u32,
        /// The element type.
        ty: ValueType,
    },
}

/// Which containment test an [`Expr::Contain`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainOp {
    /// The left side contains the right (`@>`): every element (JSON: key and value,
    /// recursively) of the right is in the left.
    Contains,
    /// The left side is contained in the right (`<@`).
    ContainedBy,
    /// The arrays share an element (`&&`).
    Overlap,
    /// The JSON object has every key of the right (a text array) (`?&`).
    HasAllKeys,
    /// The JSON object has one of the keys of the right (`?|`).
    HasAnyKeys,
}

/// What the left side of an [`Expr::Contain`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainOf {
    /// A JSON document.
    Json,
    /// An array (SQLite: stored as JSON text).
    Array,
}

/// What a [`Expr::JsonPath`] extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonAs {
    /// A JSON string, as text.
    Text,
    /// A JSON number, as a float.
    Number,
    /// A JSON boolean.
    Bool,
    /// Whether the path exists: `'null'` for a JSON null, NULL when missing (compared only
    /// with `IS NULL` / `= 'null'`).
    TypeName,
}

/// Scalar functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarFunc {
    /// The first non-NULL argument.
    Coalesce,
    /// Lower-cased text (Unicode on both backends).
    Lower,
    /// Upper-cased text (Unicode on both backends).
    Upper,
    /// The number of characters of a text.
    Length,
    /// The current timestamp (UTC).
    Now,
}

impl ScalarFunc {
    /// The Django name (`Coalesce`, `Lower`, …).
    pub fn name(self) -> &'static str {
        match self {
            ScalarFunc::Coalesce => "Coalesce",
            ScalarFunc::Lower => "Lower",
            ScalarFunc::Upper => "Upper",
            ScalarFunc::Length => "Length",
            ScalarFunc::Now => "Now",
        }
    }
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// `COUNT(x)` (non-NULL values) or `COUNT(*)` without an argument.
    Count,
    /// `SUM(x)`.
    Sum,
    /// `AVG(x)`.
    Avg,
    /// `MIN(x)`.
    Min,
    /// `MAX(x)`.
    Max,
}

impl AggFunc {
    /// The Django / SQL name (`Count`, `Sum`, …).
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "Count",
            AggFunc::Sum => "Sum",
            AggFunc::Avg => "Avg",
            AggFunc::Min => "Min",
            AggFunc::Max => "Max",
        }
    }
}

/// One aggregate call: `func([DISTINCT] arg) [FILTER (WHERE filter)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Which function.
    pub func: AggFunc,
    /// The aggregated expression; `None` is `COUNT(*)`.
    pub arg: Option<Expr>,
    /// `DISTINCT` values only.
    pub distinct: bool,
    /// Only the rows where this holds (`FILTER (WHERE …)`).
    pub filter: Option<Expr>,
    /// The type of the result (checked when built).
    pub ty: ValueType,
}

impl Expr {
    /// A column expression.
    pub fn col(table: impl Into<String>, column: impl Into<String>, ty: ValueType) -> Expr {
        Expr::Column(ColumnRef::new(table, column, ty))
    }

    /// A bound value.
    pub fn val(v: impl Into<Value>) -> Expr {
        Expr::Value(v.into())
    }

    /// `self op other`.
    pub fn cmp(self, op: CmpOp, other: Expr) -> Expr {
        Expr::Compare {
            left: Box::new(self),
            op,
            right: Box::new(other),
        }
    }

    /// `self = other`.
    pub fn eq(self, other: Expr) -> Expr {
        self.cmp(CmpOp::Eq, other)
    }

    /// LIKE with literal text.
    pub fn like(self, kind: LikeKind, text: impl Into<String>, case_insensitive: bool) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            text: text.into(),
            kind,
            case_insensitive,
        }
    }

    /// `self IS NULL`.
    pub fn is_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: false,
        }
    }

    /// `self IS NOT NULL`.
    pub fn is_not_null(self) -> Expr {
        Expr::IsNull {
            expr: Box::new(self),
            negated: true,
        }
    }

    /// `self IN (values)`.
    pub fn is_in(self, values: Vec<Value>) -> Expr {
        Expr::In {
            expr: Box::new(self),
            values,
        }
    }

    /// `self BETWEEN low AND high`.
    pub fn between(self, low: Expr, high: Expr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            low: Box::new(low),
            high: Box::new(high),
        }
    }

    /// `self AND other`, flattening nested ANDs.
    pub fn and(self, other: Expr) -> Expr {
        match (self, other) {
            (Expr::And(mut a), Expr::And(b)) => {
                a.extend(b);
                Expr::And(a)
            }
            (Expr::And(mut a), b) => {
                a.push(b);
                Expr::And(a)
            }
            (a, b) => Expr::And(vec![a, b]),
        }
    }

    /// `self OR other`, flattening nested ORs.
    pub fn or(self, other: Expr) -> Expr {
        match (self, other) {
            (Expr::Or(mut a), Expr::Or(b)) => {
                a.extend(b);
                Expr::Or(a)
            }
            (Expr::Or(mut a), b) => {
                a.push(b);
                Expr::Or(a)
            }
            (a, b) => Expr::Or(vec![a, b]),
        }
    }

    /// `NOT self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }

    /// True when the expression contains an aggregate of the query it is in (aggregates
    /// inside subqueries belong to those).
    pub fn has_aggregate(&self) -> bool {
        match self {
            Expr::Aggregate(_) | Expr::CountStar => true,
            Expr::Column(_)
            | Expr::Value(_)
            | Expr::Bool(_)
            | Expr::OuterRef(_)
            | Expr::Exists(_)
            | Expr::Subquery(_) => false,
            Expr::Func { args, .. } => args.iter().any(Expr::has_aggregate),
            Expr::Cast { expr, .. }
            | Expr::JsonPath { expr, .. }
            | Expr::ArrayLen(expr)
            | Expr::ArrayIndex { expr, .. } => expr.has_aggregate(),
            Expr::Contain { left, right, .. } => left.has_aggregate() || right.has_aggregate(),
            Expr::Case { whens, default, .. } => {
                whens
                    .iter()
                    .any(|(c, v)| c.has_aggregate() || v.has_aggregate())
                    || default.as_ref().is_some_and(|d| d.has_aggregate())
            }
            Expr::Compare { left, right, .. } | Expr::Arith { left, right, .. } => {
                left.has_aggregate() || right.has_aggregate()
            }
            Expr::Like { expr, .. }
            | Expr::Regex { expr, .. }
            | Expr::In { expr, .. }
            | Expr::InSubquery { expr, .. }
            | Expr::IsNull { expr, .. }
            | Expr::Extract { expr, .. }
            | Expr::DateOf(expr)
            | Expr::Not(expr) => expr.has_aggregate(),
            Expr::Between { expr, low, high } => {
                expr.has_aggregate() || low.has_aggregate() || high.has_aggregate()
            }
            Expr::And(items) | Expr::Or(items) | Expr::Row(items) => {
                items.iter().any(Expr::has_aggregate)
            }
        }
    }

    /// The runtime type this expression evaluates to, when it is known.
    pub fn value_type(&self) -> Option<ValueType> {
        match self {
            Expr::Column(c) => Some(c.ty.clone()),
            Expr::Value(v) => Some(v.value_type()),
            Expr::Extract { .. } | Expr::CountStar => Some(ValueType::I64),
            Expr::Aggregate(a) => Some(a.ty.clone()),
            Expr::Subquery(s) => s.columns.first().map(|c| c.ty.clone()),
            Expr::Func { ty, .. } | Expr::Cast { ty, .. } | Expr::Case { ty, .. } => {
                Some(ty.clone())
            }
            Expr::JsonPath { extract, .. } => Some(match extract {
                JsonAs::Text | JsonAs::TypeName => ValueType::Text,
                JsonAs::Number => ValueType::F64,
                JsonAs::Bool => ValueType::Bool,
            }),
            Expr::DateOf(_) => Some(ValueType::Date),
            Expr::ArrayLen(_) => Some(ValueType::I64),
            Expr::OuterRef(_) | Expr::Row(_) => None,
            Expr::ArrayIndex { ty, .. } => Some(ty.clone()),
            Expr::Contain { .. } => Some(ValueType::Bool),
            Expr::Arith { .. } => arith_value_type(self, crate::limits::MAX_DEPTH),
            Expr::Bool(_)
            | Expr::Compare { .. }
            | Expr::Like { .. }
            | Expr::Regex { .. }
            | Expr::In { .. }
            | Expr::InSubquery { .. }
            | Expr::IsNull { .. }
            | Expr::Between { .. }
            | Expr::And(_)
            | Expr::Or(_)
            | Expr::Not(_)
            | Expr::Exists(_) => Some(ValueType::Bool),
        }
    }
}

/// The type of arithmetic `e`, looking at most `budget` arithmetic levels down (`None`
/// deeper: such an expression is refused by the depth limit anyway, and the walk stays
/// shallow).
fn arith_value_type(e: &Expr, budget: usize) -> Option<ValueType> {
    match e {
        Expr::Arith { left, right, .. } => {
            let budget = budget.checked_sub(1)?;
            match (
                arith_value_type(left, budget),
                arith_value_type(right, budget),
            ) {
                (Some(l), Some(r)) => Some(arith_type(l, r)),
                (l, r) => l.or(r),
            }
        }
        other => other.value_type(),
    }
}

/// The type the database gives `l op r` for numeric operands: a float with anything is a
/// float, else a decimal with anything is a decimal, else the wider integer; other types keep
/// the left side's.
pub fn arith_type(l: ValueType, r: ValueType) -> ValueType {
    use ValueType::{Decimal, F64, I32, I64};
    match (&l, &r) {
        (F64, I32 | I64 | Decimal | F64) | (I32 | I64 | Decimal, F64) => F64,
        (Decimal, I32 | I64 | Decimal) | (I32 | I64, Decimal) => Decimal,
        (I64, I32) | (I32, I64) => I64,
        _ => l,
    }
}
