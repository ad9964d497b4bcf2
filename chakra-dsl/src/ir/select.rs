//! `SELECT` in the IR, and the [`Statement`] enum wrapping every statement kind.

use crate::ir::expr::Expr;
use crate::ir::write::{BulkUpdate, Delete, Insert, Update, Upsert};
use crate::types::ValueType;

/// What a select reads from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A table, optionally aliased.
    Table {
        /// Table name.
        name: String,
        /// Alias (`AS alias`).
        alias: Option<String>,
    },
    /// A subquery, always aliased.
    Subquery {
        /// The inner select.
        query: Box<Select>,
        /// Alias.
        alias: String,
    },
}

impl Source {
    /// A table without alias.
    pub fn table(name: impl Into<String>) -> Source {
        Source::Table {
            name: name.into(),
            alias: None,
        }
    }

    /// A table with an alias.
    pub fn aliased(name: impl Into<String>, alias: impl Into<String>) -> Source {
        Source::Table {
            name: name.into(),
            alias: Some(alias.into()),
        }
    }
}

/// Join flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// `INNER JOIN`
    Inner,
    /// `LEFT OUTER JOIN`
    Left,
}

/// One join.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// Inner or left.
    pub kind: JoinKind,
    /// What is joined.
    pub source: Source,
    /// The join condition.
    pub on: Expr,
}

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The expression.
    pub expr: Expr,
    /// Output name (`AS alias`).
    pub alias: Option<String>,
    /// The type rows are decoded into. For columns this is the column type.
    pub ty: ValueType,
}

impl SelectItem {
    /// An output column decoded as `ty`.
    pub fn new(expr: Expr, ty: ValueType) -> Self {
        SelectItem {
            expr,
            alias: None,
            ty,
        }
    }
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// Sort key.
    pub expr: Expr,
    /// Descending.
    pub desc: bool,
}

/// How strongly a `SELECT … FOR …` locks the rows it returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LockStrength {
    /// `FOR UPDATE`: no other transaction can update, delete or lock them until this one
    /// ends.
    #[default]
    Update,
    /// `FOR SHARE`: others can read and share-lock them, not change them.
    Share,
}

/// What a locking `SELECT` does when a row is locked by another transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LockWait {
    /// Wait for it.
    #[default]
    Wait,
    /// `NOWAIT`: fail at once (`Error::LockTimeout`, SQLSTATE 55P03).
    NoWait,
    /// `SKIP LOCKED`: leave such rows out (work queues).
    SkipLocked,
}

/// A row lock taken by a `SELECT` (pessimistic locking). PostgreSQL compiles it to
/// `FOR UPDATE [OF …] [NOWAIT | SKIP LOCKED]`; SQLite has no row locks and compiles
/// nothing: its transactions start with `BEGIN IMMEDIATE`, so writers are serialised anyway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RowLock {
    /// `FOR UPDATE` or `FOR SHARE`.
    pub strength: LockStrength,
    /// Wait, `NOWAIT` or `SKIP LOCKED`.
    pub wait: LockWait,
    /// `OF …`: lock only the rows of these tables (or aliases); empty locks every table of
    /// the query.
    pub of: Vec<String>,
}

impl RowLock {
    /// `FOR UPDATE`, waiting.
    pub fn update() -> RowLock {
        RowLock::default()
    }
}

/// How a compound select combines its members' rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// `UNION`: rows of either member.
    Union,
    /// `INTERSECT`: rows of both members.
    Intersect,
    /// `EXCEPT`: rows of the left side not in the right member (Django's `difference`).
    Except,
}

impl SetOp {
    /// The SQL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// One further member of a compound select: `<op> [ALL] <select>`, applied left to right to
/// the rows combined so far.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundPart {
    /// `UNION`, `INTERSECT` or `EXCEPT`.
    pub op: SetOp,
    /// `ALL`: keep duplicate rows.
    pub all: bool,
    /// The member: no ordering, limit, offset or row lock of its own; its columns match the
    /// first member's in number and type.
    pub select: Select,
}

/// A `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// `FROM`.
    pub from: Source,
    /// Joins in order.
    pub joins: Vec<Join>,
    /// Output columns.
    pub columns: Vec<SelectItem>,
    /// `WHERE`.
    pub filter: Option<Expr>,
    /// `GROUP BY`.
    pub group_by: Vec<Expr>,
    /// `HAVING` (conditions over aggregates).
    pub having: Option<Expr>,
    /// `ORDER BY`.
    pub order_by: Vec<OrderBy>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// `SELECT DISTINCT ON (…)` (PostgreSQL only): one row per distinct value of these
    /// expressions, the first in the order, which must start with them.
    pub distinct_on: Vec<Expr>,
    /// `FOR UPDATE` / `FOR SHARE`.
    pub lock: Option<RowLock>,
    /// Further members combined with this select's rows (`UNION`/`INTERSECT`/`EXCEPT`), left
    /// to right. When present, this select is the first member and its `order_by`, `limit`
    /// and `offset` apply to the combined rows (ordering by the first member's columns).
    pub compound: Vec<CompoundPart>,
}

impl Select {
    /// `SELECT … FROM source` with no columns yet.
    pub fn from(source: Source) -> Self {
        Select {
            from: source,
            joins: Vec::new(),
            columns: Vec::new(),
            filter: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            distinct: false,
            distinct_on: Vec::new(),
            lock: None,
            compound: Vec::new(),
        }
    }

    /// Adds an output column.
    pub fn column(mut self, expr: Expr, ty: ValueType) -> Self {
        self.columns.push(SelectItem::new(expr, ty));
        self
    }

    /// ANDs a condition into `WHERE`.
    pub fn filter(mut self, cond: Expr) -> Self {
        self.add_filter(cond);
        self
    }

    /// ANDs a condition into `WHERE`, in place.
    pub fn add_filter(&mut self, cond: Expr) {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(cond),
            None => cond,
        });
    }

    /// Adds an `ORDER BY` term.
    pub fn order(mut self, expr: Expr, desc: bool) -> Self {
        self.order_by.push(OrderBy { expr, desc });
        self
    }

    /// Sets `LIMIT`.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Sets `OFFSET`.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// The decode plan: one type per output column.
    pub fn output_types(&self) -> Vec<ValueType> {
        self.columns.iter().map(|c| c.ty.clone()).collect()
    }
}

/// Any statement the executor runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// Rows of a select.
    Select(Select),
    /// `SELECT COUNT(*)` over the rows the select would return (its limit/offset/distinct
    /// respected).
    Count(Select),
    /// `SELECT EXISTS (…)` over the select.
    Exists(Select),
    /// An insert.
    Insert(Insert),
    /// An insert with `ON CONFLICT` handling.
    Upsert(Upsert),
    /// Many rows updated by key, each with its own values.
    BulkUpdate(BulkUpdate),
    /// An update.
    Update(Update),
    /// A delete.
    Delete(Delete),
}

impl Statement {
    /// The decode plan of the rows this statement returns.
    pub fn output_types(&self) -> Vec<ValueType> {
        match self {
            Statement::Select(s) => s.output_types(),
            Statement::Count(_) => vec![ValueType::I64],
            Statement::Exists(_) => vec![ValueType::Bool],
            Statement::Insert(i) => i.returning.iter().map(|c| c.ty.clone()).collect(),
            Statement::Upsert(u) => u.insert.returning.iter().map(|c| c.ty.clone()).collect(),
            Statement::BulkUpdate(_) => Vec::new(),
            Statement::Update(u) => u.returning.iter().map(|c| c.ty.clone()).collect(),
            Statement::Delete(d) => d.returning.iter().map(|c| c.ty.clone()).collect(),
        }
    }
}

impl From<Select> for Statement {
    fn from(s: Select) -> Self {
        Statement::Select(s)
    }
}
impl From<Insert> for Statement {
    fn from(s: Insert) -> Self {
        Statement::Insert(s)
    }
}
impl From<Update> for Statement {
    fn from(s: Update) -> Self {
        Statement::Update(s)
    }
}
impl From<Delete> for Statement {
    fn from(s: Delete) -> Self {
        Statement::Delete(s)
    }
}
