//! The schema state: the tables, columns, indexes, constraints and foreign keys that a list of
//! migrations leads to, rebuilt by replaying operations forward (Django's `state_forwards`).
//! Pure: no database is involved. The autodetector compares a replayed state with
//! [`State::from_models`]; the DDL planner reads the state before each operation.

use super::error::{MResult, MigrationError};
use super::operations::{ConstraintDef, ConstraintKind, IndexDef, Migration, Operation};
use chakra_dsl::{ident, FieldMeta, ModelMeta};
use std::collections::BTreeMap;

/// One table of the state.
#[derive(Debug, Clone, PartialEq)]
pub struct TableState {
    /// The model name (`User`).
    pub name: String,
    /// The table name.
    pub table: String,
    /// Columns, in order.
    pub fields: Vec<FieldMeta>,
    /// Named indexes (indexes of fields with `index = true` are implied by the field).
    pub indexes: Vec<IndexDef>,
    /// Named table constraints.
    pub constraints: Vec<ConstraintDef>,
}

impl TableState {
    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Looks a field up by column name.
    pub fn column(&self, column: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.column == column)
    }

    /// The table as model metadata (no relations), for `CREATE TABLE`.
    pub fn to_model_meta(&self) -> ModelMeta {
        ModelMeta {
            name: self.name.clone(),
            table: self.table.clone(),
            fields: self.fields.clone(),
            relations: Vec::new(),
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        }
    }

    /// Does an index or constraint of this table, or a foreign key, involve `column`?
    pub fn column_in_index_or_constraint(&self, column: &str) -> bool {
        let has = |cols: &[String]| cols.iter().any(|c| c == column);
        self.indexes.iter().any(|i| has(&i.columns))
            || self.constraints.iter().any(|c| match &c.kind {
                ConstraintKind::Unique { columns } | ConstraintKind::ForeignKey { columns, .. } => {
                    has(columns)
                }
                ConstraintKind::Check { check } => check.contains(column),
                ConstraintKind::CheckLookup { condition } => self
                    .column_of_fields(&condition.fields())
                    .iter()
                    .any(|c| c == column),
            })
            || self.indexes.iter().any(|i| {
                self.column_of_fields(
                    &i.expressions
                        .iter()
                        .map(|e| e.field().to_owned())
                        .collect::<Vec<_>>(),
                )
                .iter()
                .any(|x| x == column)
            })
            || self.indexes.iter().any(|i| {
                i.condition.as_ref().is_some_and(|c| {
                    self.column_of_fields(&c.fields())
                        .iter()
                        .any(|x| x == column)
                })
            })
    }

    /// The columns of the named fields (unknown names are left out).
    pub fn column_of_fields(&self, fields: &[String]) -> Vec<String> {
        fields
            .iter()
            .filter_map(|f| self.field(f).map(|f| f.column.clone()))
            .collect()
    }
}

/// A model's table-level options as named indexes and constraints (field names become
/// columns; a condition keeps field names, as lookups do).
fn table_options(m: &ModelMeta) -> MResult<(Vec<IndexDef>, Vec<ConstraintDef>)> {
    let column = |what: &str, f: &str| {
        m.field(f).map(|f| f.column.clone()).ok_or_else(|| {
            MigrationError::new(format!(
                "model {}: {what} names the field {f:?}, which it does not have (fields: {})",
                m.name,
                m.fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    };
    // A condition must read the model's own fields with lookups they take: refused here,
    // when `make` reads the models, not later when the DDL is built.
    let conditions = m
        .options
        .indexes
        .iter()
        .filter_map(|i| i.condition.as_ref().map(|c| (&i.name, c)))
        .chain(m.options.checks.iter().map(|c| (&c.name, &c.check)));
    for (name, c) in conditions {
        c.to_qnode(m)
            .map_err(|e| MigrationError::new(format!("model {}: option {name:?}: {e}", m.name)))?;
    }
    for i in &m.options.indexes {
        for e in &i.expressions {
            e.to_expr(m).map_err(|err| {
                MigrationError::new(format!("model {}: option {:?}: {err}", m.name, i.name))
            })?;
        }
    }
    let mut indexes = Vec::new();
    for i in &m.options.indexes {
        if i.fields.is_empty() && i.expressions.is_empty() {
            return Err(MigrationError::new(format!(
                "model {}: index {:?} lists no fields or expressions",
                m.name, i.name
            )));
        }
        indexes.push(IndexDef {
            name: i.name.clone(),
            columns: i
                .fields
                .iter()
                .map(|f| column(&format!("index {:?}", i.name), f))
                .collect::<MResult<_>>()?,
            expressions: i.expressions.clone(),
            unique: i.unique,
            condition: i.condition.as_ref().map(|c| c.normalized()),
        });
    }
    let constraints = m
        .options
        .checks
        .iter()
        .map(|c| ConstraintDef {
            name: c.name.clone(),
            kind: ConstraintKind::CheckLookup {
                condition: c.check.normalized(),
            },
        })
        .collect();
    Ok((indexes, constraints))
}

/// The whole schema: tables by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Tables by table name.
    pub tables: BTreeMap<String, TableState>,
    /// Indexes and triggers made by `RunSQL` that declare them (`creates`).
    pub raw: std::collections::BTreeSet<super::operations::RawObject>,
}

fn err(op: &Operation, message: impl std::fmt::Display) -> MigrationError {
    MigrationError::new(format!("{}: {message}", op.describe()))
}

fn check_ident(op: &Operation, name: &str) -> MResult<()> {
    ident::validate(name).map_err(|e| err(op, e))
}

impl State {
    /// An empty schema.
    pub fn new() -> State {
        State::default()
    }

    /// The state the registered models describe. A field's foreign key comes from
    /// `references`: its table when known (`chakra_dsl::relations::resolve_schema` fills it),
    /// else the table of the model it names when that model is among `models` (otherwise the
    /// key is left out). Join tables are expected as ModelMeta entries of their own.
    pub fn from_models(models: &[ModelMeta]) -> MResult<State> {
        let mut state = State::new();
        for m in models {
            let fields = m
                .fields
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    // Set by Chakra at write time: not part of the table.
                    f.auto_now = chakra_dsl::meta::AutoNow::Off;
                    f.references = f.references.take().and_then(|mut r| {
                        if r.table.is_empty() {
                            // Not resolved yet: the table of the model it names.
                            r.table = models.iter().find(|o| o.name == r.model)?.table.clone();
                        }
                        r.model.clear();
                        Some(r)
                    });
                    f
                })
                .collect();
            let (indexes, constraints) = table_options(m)?;
            let op = Operation::CreateModel {
                name: m.name.clone(),
                table: m.table.clone(),
                fields,
                indexes,
                constraints,
            };
            state.apply(&op)?;
        }
        state.enum_types()?;
        Ok(state)
    }

    /// Replays migrations in order from an empty state. Errors name the file's app and id.
    pub fn replay<'a>(migrations: impl IntoIterator<Item = &'a Migration>) -> MResult<State> {
        let mut state = State::new();
        for m in migrations {
            for op in &m.operations {
                state.apply(op).map_err(|e| {
                    MigrationError::new(format!("migration {}/{}: {}", m.app, m.id, e.message))
                })?;
            }
            state.enum_types().map_err(|e| {
                MigrationError::new(format!("migration {}/{}: {}", m.app, m.id, e.message))
            })?;
        }
        Ok(state)
    }

    /// Looks a table up.
    pub fn table(&self, table: &str) -> Option<&TableState> {
        self.tables.get(table)
    }

    fn table_mut(&mut self, op: &Operation, table: &str) -> MResult<&mut TableState> {
        self.tables
            .get_mut(table)
            .ok_or_else(|| err(op, format!("table {table:?} does not exist")))
    }

    /// Every foreign key pointing at `table`, as `"referencing_table.column"`.
    pub fn references_to(&self, table: &str) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.tables.values().filter(|t| t.table != table) {
            for f in &t.fields {
                if f.references.as_ref().is_some_and(|r| r.table == table) {
                    out.push(format!("{}.{}", t.table, f.column));
                }
            }
            for c in &t.constraints {
                if let ConstraintKind::ForeignKey { table: to, .. } = &c.kind {
                    if to == table {
                        out.push(format!("{}.{}", t.table, c.name));
                    }
                }
            }
        }
        out
    }

    fn index_or_constraint_exists(&self, name: &str) -> bool {
        self.tables.values().any(|t| {
            t.indexes.iter().any(|i| i.name == name) || t.constraints.iter().any(|c| c.name == name)
        })
    }

    /// Moves the state forward by one operation, checking that it makes sense.
    pub fn apply(&mut self, op: &Operation) -> MResult<()> {
        match op {
            Operation::CreateModel {
                name,
                table,
                fields,
                indexes,
                constraints,
            } => {
                check_ident(op, table)?;
                if self.tables.contains_key(table) {
                    return Err(err(op, format!("table {table:?} already exists")));
                }
                if fields.is_empty() {
                    return Err(err(op, "a table needs at least one field"));
                }
                let mut t = TableState {
                    name: name.clone(),
                    table: table.clone(),
                    fields: Vec::new(),
                    indexes: Vec::new(),
                    constraints: Vec::new(),
                };
                for f in fields {
                    add_field(op, &mut t, f)?;
                }
                self.tables.insert(table.clone(), t);
                for i in indexes {
                    self.add_index(op, table, i)?;
                }
                for c in constraints {
                    self.add_constraint(op, table, c)?;
                }
            }
            Operation::DeleteModel { table } => {
                self.table_mut(op, table)?;
                let refs = self.references_to(table);
                if !refs.is_empty() {
                    return Err(err(
                        op,
                        format!(
                            "still referenced by {}; remove those first",
                            refs.join(", ")
                        ),
                    ));
                }
                self.tables.remove(table);
            }
            Operation::RenameModel {
                table,
                new_table,
                new_name,
            } => {
                check_ident(op, new_table)?;
                if self.tables.contains_key(new_table) {
                    return Err(err(op, format!("table {new_table:?} already exists")));
                }
                let mut t = self
                    .tables
                    .remove(table)
                    .ok_or_else(|| err(op, format!("table {table:?} does not exist")))?;
                t.table = new_table.clone();
                if let Some(n) = new_name {
                    t.name = n.clone();
                }
                self.tables.insert(new_table.clone(), t);
                for other in self.tables.values_mut() {
                    for f in &mut other.fields {
                        if let Some(r) = f.references.as_mut().filter(|r| &r.table == table) {
                            r.table = new_table.clone();
                        }
                    }
                    for c in &mut other.constraints {
                        if let ConstraintKind::ForeignKey { table: to, .. } = &mut c.kind {
                            if to == table {
                                *to = new_table.clone();
                            }
                        }
                    }
                }
            }
            Operation::AddField { table, field } => {
                let t = self.table_mut(op, table)?;
                add_field(op, t, field)?;
            }
            Operation::RemoveField { table, name } => {
                let t = self.table_mut(op, table)?;
                let pos = t
                    .fields
                    .iter()
                    .position(|f| &f.name == name)
                    .ok_or_else(|| err(op, format!("{table} has no field {name:?}")))?;
                if t.fields.len() == 1 {
                    return Err(err(op, "cannot remove the last field of a table"));
                }
                let column = t.fields[pos].column.clone();
                let referencing: Vec<String> = self
                    .tables
                    .values()
                    .flat_map(|o| {
                        o.fields
                            .iter()
                            .filter(|f| {
                                f.references
                                    .as_ref()
                                    .is_some_and(|r| &r.table == table && r.column == column)
                            })
                            .map(move |f| format!("{}.{}", o.table, f.column))
                    })
                    .collect();
                if !referencing.is_empty() {
                    return Err(err(
                        op,
                        format!(
                            "column {column:?} is referenced by {}",
                            referencing.join(", ")
                        ),
                    ));
                }
                let t = self.table_mut(op, table)?;
                t.fields.remove(pos);
                let mentions = |cols: &[String]| cols.iter().any(|c| c == &column);
                // As PostgreSQL's DROP COLUMN (and the SQLite rebuild from this state): the
                // indexes and constraints over the column go, and so do those whose condition
                // reads the field.
                let reads = |c: &Option<chakra_dsl::table_options::Cond>| {
                    c.as_ref().is_some_and(|c| c.fields().contains(name))
                };
                t.indexes.retain(|i| {
                    !mentions(&i.columns)
                        && !reads(&i.condition)
                        && !i.expressions.iter().any(|e| e.field() == name)
                });
                t.constraints.retain(|c| match &c.kind {
                    ConstraintKind::Unique { columns }
                    | ConstraintKind::ForeignKey { columns, .. } => !mentions(columns),
                    ConstraintKind::CheckLookup { condition } => !condition.fields().contains(name),
                    ConstraintKind::Check { .. } => true,
                });
            }
            Operation::AlterField { table, field, .. } => {
                let t = self.table_mut(op, table)?;
                let pos = t
                    .fields
                    .iter()
                    .position(|f| f.name == field.name)
                    .ok_or_else(|| err(op, format!("{table} has no field {:?}", field.name)))?;
                if t.fields[pos].column != field.column {
                    return Err(err(
                        op,
                        "AlterField cannot change the column name; use RenameField",
                    ));
                }
                check_field(op, field)?;
                t.fields[pos] = field.clone();
            }
            Operation::RenameField {
                table,
                name,
                new_name,
            } => {
                check_ident(op, new_name)?;
                let t = self.table_mut(op, table)?;
                if t.field(new_name).is_some() {
                    return Err(err(op, format!("{table} already has a field {new_name:?}")));
                }
                let f = t
                    .fields
                    .iter_mut()
                    .find(|f| &f.name == name)
                    .ok_or_else(|| err(op, format!("{table} has no field {name:?}")))?;
                let old_column = f.column.clone();
                f.name = new_name.clone();
                // Conditions and index expressions name fields, whatever their columns are
                // called.
                for i in &mut t.indexes {
                    if let Some(c) = i.condition.as_mut() {
                        *c = c.rename_field(name, new_name);
                    }
                    for e in &mut i.expressions {
                        *e = e.rename_field(name, new_name);
                    }
                }
                for c in &mut t.constraints {
                    if let ConstraintKind::CheckLookup { condition } = &mut c.kind {
                        *condition = condition.rename_field(name, new_name);
                    }
                }
                if old_column == *name {
                    f.column = new_name.clone();
                    self.rename_column(table, &old_column, new_name);
                }
            }
            Operation::AddIndex { table, index } => self.add_index(op, table, index)?,
            Operation::RemoveIndex { table, name } => {
                let t = self.table_mut(op, table)?;
                let before = t.indexes.len();
                t.indexes.retain(|i| &i.name != name);
                if t.indexes.len() == before {
                    return Err(err(op, format!("{table} has no index {name:?}")));
                }
            }
            Operation::AddConstraint { table, constraint } => {
                self.add_constraint(op, table, constraint)?
            }
            Operation::RemoveConstraint { table, name } => {
                let t = self.table_mut(op, table)?;
                let before = t.constraints.len();
                t.constraints.retain(|c| &c.name != name);
                if t.constraints.len() == before {
                    return Err(err(op, format!("{table} has no constraint {name:?}")));
                }
            }
            Operation::RunSql { creates, .. } => self.raw.extend(creates.iter().cloned()),
        }
        Ok(())
    }

    fn rename_column(&mut self, table: &str, old: &str, new: &str) {
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| *c == old) {
                *c = new.to_owned();
            }
        };
        for t in self.tables.values_mut() {
            let own = t.table == table;
            if own {
                for i in &mut t.indexes {
                    rename(&mut i.columns);
                }
            }
            for c in &mut t.constraints {
                match &mut c.kind {
                    ConstraintKind::Unique { columns } if own => rename(columns),
                    // The databases rewrite CHECK expressions on RENAME COLUMN; so does the
                    // state (whole words only).
                    ConstraintKind::Check { check } if own => {
                        let word = regex::Regex::new(&format!(r"\b{}\b", regex::escape(old)))
                            .expect("escaped identifier");
                        *check = word.replace_all(check, new).into_owned();
                    }
                    ConstraintKind::ForeignKey {
                        columns,
                        table: to,
                        referenced,
                        ..
                    } => {
                        if own {
                            rename(columns);
                        }
                        if to == table {
                            rename(referenced);
                        }
                    }
                    _ => {}
                }
            }
            for f in &mut t.fields {
                if let Some(r) = f
                    .references
                    .as_mut()
                    .filter(|r| r.table == table && r.column == old)
                {
                    r.column = new.to_owned();
                }
            }
        }
    }

    fn add_index(&mut self, op: &Operation, table: &str, index: &IndexDef) -> MResult<()> {
        check_ident(op, &index.name)?;
        if self.index_or_constraint_exists(&index.name) {
            return Err(err(
                op,
                format!("an index or constraint {:?} already exists", index.name),
            ));
        }
        let t = self.table_mut(op, table)?;
        if index.columns.is_empty() && index.expressions.is_empty() {
            return Err(err(op, "an index needs columns or expressions"));
        }
        for c in &index.columns {
            if t.column(c).is_none() {
                return Err(err(op, format!("{table} has no column {c:?}")));
            }
        }
        for e in &index.expressions {
            e.to_expr(&t.to_model_meta()).map_err(|e| err(op, e))?;
        }
        t.indexes.push(index.clone());
        Ok(())
    }

    fn add_constraint(&mut self, op: &Operation, table: &str, c: &ConstraintDef) -> MResult<()> {
        check_ident(op, &c.name)?;
        if self.index_or_constraint_exists(&c.name) {
            return Err(err(
                op,
                format!("an index or constraint {:?} already exists", c.name),
            ));
        }
        if let ConstraintKind::ForeignKey {
            table: to,
            referenced,
            columns,
            ..
        } = &c.kind
        {
            let target = self
                .tables
                .get(to)
                .ok_or_else(|| err(op, format!("referenced table {to:?} does not exist")))?;
            for r in referenced {
                if target.column(r).is_none() {
                    return Err(err(
                        op,
                        format!("referenced table {to} has no column {r:?}"),
                    ));
                }
            }
            if referenced.len() != columns.len() {
                return Err(err(
                    op,
                    "a foreign key needs as many referenced columns as columns",
                ));
            }
        }
        let t = self.table_mut(op, table)?;
        if let ConstraintKind::Unique { columns } | ConstraintKind::ForeignKey { columns, .. } =
            &c.kind
        {
            for col in columns {
                if t.column(col).is_none() {
                    return Err(err(op, format!("{table} has no column {col:?}")));
                }
            }
        }
        t.constraints.push(c.clone());
        Ok(())
    }
}

fn check_field(op: &Operation, f: &FieldMeta) -> MResult<()> {
    check_ident(op, &f.name)?;
    check_ident(op, &f.column)?;
    if let Some(r) = &f.references {
        check_ident(op, &r.table)?;
        if !r.column.is_empty() {
            check_ident(op, &r.column)?;
        }
    }
    if f.auto_increment && !f.primary_key {
        return Err(err(
            op,
            format!("{}: auto_increment needs primary_key", f.name),
        ));
    }
    Ok(())
}

fn add_field(op: &Operation, t: &mut TableState, f: &FieldMeta) -> MResult<()> {
    check_field(op, f)?;
    if t.field(&f.name).is_some() || t.column(&f.column).is_some() {
        return Err(err(
            op,
            format!("{} already has a field {:?}", t.table, f.name),
        ));
    }
    t.fields.push(f.clone());
    Ok(())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
