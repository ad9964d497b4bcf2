//! The models a migration state describes, decided once for both languages: class and field
//! names, which columns are foreign keys with a relation on each side, which tables are the
//! join tables of many-to-many relations, the enum classes, and the notes about what a model
//! cannot say. [`super::rust`] and [`super::python`] only write this plan out.

use super::names::{model_name, snake_case, Scope};
use crate::migrate::operations::{ConstraintDef, IndexDef};
use crate::migrate::state::{State, TableState};
use chakra_dsl::{FieldMeta, FieldType, OnDelete};
use std::collections::BTreeMap;

/// An enum class (one per enum name in the state).
#[derive(Debug, Clone)]
pub struct EnumPlan {
    /// The class name (`TicketStatus`).
    pub class: String,
    /// The enum's name in the migrations (`ticket_status`).
    pub name: String,
    /// Each stored value with its member / variant name (`("on hold", "OnHold")`).
    pub members: Vec<(String, String)>,
}

/// What a relation is, seen from the model that has it.
#[derive(Debug, Clone)]
pub enum RelKind {
    /// This model holds the key (`key` is the field's identifier).
    Forward {
        /// The key field's identifier.
        key: String,
        /// A unique key: one-to-one.
        one_to_one: bool,
        /// The key is nullable.
        nullable: bool,
        /// `ON DELETE`.
        on_delete: OnDelete,
    },
    /// The other model holds the key (`key` is the field's identifier there).
    Reverse {
        /// The key field's identifier on the other model.
        key: String,
        /// The key is unique: at most one row.
        one_to_one: bool,
        /// The forward relation's name on the other model.
        forward: String,
    },
    /// Through a join table.
    ManyToMany {
        /// The join table.
        through: String,
        /// Its column pointing at this model.
        source_column: String,
        /// Its column pointing at the target.
        target_column: String,
        /// This side declares it (the other side is its `back_populates`).
        declares: bool,
    },
}

/// One relation of a model.
#[derive(Debug, Clone)]
pub struct RelPlan {
    /// Its identifier.
    pub name: String,
    /// The related model's class.
    pub target: String,
    /// The relation on the other side.
    pub back: String,
    /// Its kind.
    pub kind: RelKind,
}

/// One column field of a model.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    /// Its identifier in both languages (the column is named when it differs).
    pub ident: String,
    /// The field as the migrations declare it.
    pub meta: FieldMeta,
    /// The enum class of an `Enum` field.
    pub enum_class: Option<String>,
    /// The name of the forward relation this field is the key of.
    pub relation: Option<String>,
}

/// One model.
#[derive(Debug, Clone)]
pub struct ModelPlan {
    /// The class / struct name.
    pub class: String,
    /// The table.
    pub table: String,
    /// The app whose migration created the table.
    pub app: Option<String>,
    /// Column fields, in table order.
    pub fields: Vec<FieldPlan>,
    /// Relations: forward ones in field order, then reverse and many-to-many ones sorted by
    /// name.
    pub relations: Vec<RelPlan>,
    /// Named indexes, with field identifiers in place of columns.
    pub indexes: Vec<IndexDef>,
    /// Named constraints.
    pub constraints: Vec<ConstraintDef>,
    /// More than one primary-key field.
    pub composite_key: bool,
    /// No primary-key field (models need one: the table is left out, with a note).
    pub no_key: bool,
}

impl ModelPlan {
    /// A composite key the Rust derive refuses: more than 4 key columns (`Model::get` takes a
    /// tuple of at most 4), or an auto-increment column among them (a composite key's values
    /// are given, never generated).
    pub fn rust_cannot_declare_key(&self) -> bool {
        let keys: Vec<&FieldPlan> = self.fields.iter().filter(|f| f.meta.primary_key).collect();
        keys.len() > 4 || (keys.len() > 1 && keys.iter().any(|f| f.meta.auto_increment))
    }
}

impl ModelPlan {
    /// The field of a column.
    pub fn field_of_column(&self, column: &str) -> Option<&FieldPlan> {
        self.fields.iter().find(|f| f.meta.column == column)
    }
}

/// The whole module's plan.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Enum classes, by class name.
    pub enums: Vec<EnumPlan>,
    /// Models, by table name.
    pub models: Vec<ModelPlan>,
    /// Every table of the state (join tables and other apps' tables included), by name.
    pub all_tables: Vec<String>,
    /// What the models cannot say, or say differently from the migrations (also written
    /// into the generated files).
    pub notes: Vec<String>,
}

/// A join table a many-to-many relation can stand for: two primary-key fields, each a
/// cascading key to another table's primary key, the second indexed (as the relation's own
/// join table is made), nothing else.
fn join_table(state: &State, t: &TableState) -> Option<(String, String)> {
    if t.fields.len() != 2 || !t.indexes.is_empty() || !t.constraints.is_empty() {
        return None;
    }
    let (a, b) = (&t.fields[0], &t.fields[1]);
    let ok = |f: &FieldMeta, indexed: bool| {
        let Some(r) = &f.references else {
            return false;
        };
        let Some(target) = state.table(&r.table) else {
            return false;
        };
        let pk: Vec<&FieldMeta> = target.fields.iter().filter(|f| f.primary_key).collect();
        f.primary_key
            && !f.nullable
            && !f.unique
            && f.index == indexed
            && f.default.is_none()
            && r.on_delete == OnDelete::Cascade
            && r.table != t.table
            && pk.len() == 1
            && pk[0].column == r.column
            && pk[0].ty == f.ty
    };
    if ok(a, false) && ok(b, true) {
        let (ra, rb) = (a.references.as_ref()?, b.references.as_ref()?);
        Some((ra.table.clone(), rb.table.clone()))
    } else {
        None
    }
}

/// The plan for a state. `apps` names the app that created each table; `only_app` keeps
/// the tables of one app (relations to other apps' tables are then left out, with a note).
pub fn plan(state: &State, apps: &BTreeMap<String, String>, only_app: Option<&str>) -> Plan {
    let mut p = Plan::default();
    let in_scope =
        |t: &TableState| only_app.is_none_or(|a| apps.get(&t.table).map(String::as_str) == Some(a));

    // Join tables first: they become relations, not models.
    let mut joins: BTreeMap<String, (String, String)> = BTreeMap::new();
    for t in state.tables.values() {
        if let Some((src, tgt)) = join_table(state, t) {
            let both_in = [&src, &tgt].iter().all(|x| {
                state.table(x).is_some_and(in_scope)
                    && join_table(state, &state.tables[*x]).is_none()
            });
            if both_in {
                joins.insert(t.table.clone(), (src, tgt));
            }
        }
    }

    // Class names, unique among themselves and the enums.
    let mut classes = Scope::new();
    for taken in super::names::MODULE_NAMES {
        classes.reserve(taken);
    }
    let mut class_of: BTreeMap<String, String> = BTreeMap::new();
    let tables: Vec<&TableState> = state
        .tables
        .values()
        .filter(|t| in_scope(t) && !joins.contains_key(&t.table))
        .collect();
    for t in &tables {
        class_of.insert(
            t.table.clone(),
            classes.claim(&model_name(&t.name, &t.table)),
        );
    }
    let mut enum_class: BTreeMap<String, String> = BTreeMap::new();
    let mut enums: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in &tables {
        for f in &t.fields {
            if let FieldType::Enum { name, values } = &f.ty {
                enums.entry(name.clone()).or_insert_with(|| values.clone());
            }
        }
    }
    for (name, values) in &enums {
        let class = classes.claim(&super::names::camel_case(name));
        enum_class.insert(name.clone(), class.clone());
        let mut members = Scope::new();
        let members = values
            .iter()
            .map(|v| (v.clone(), members.claim(&super::names::camel_case(v))))
            .collect();
        p.enums.push(EnumPlan {
            class,
            name: name.clone(),
            members,
        });
    }

    // Fields, then forward relations, per model.
    let mut models: Vec<ModelPlan> = Vec::new();
    let mut scopes: Vec<Scope> = Vec::new();
    for t in &tables {
        let mut scope = Scope::new();
        let class = class_of[&t.table].clone();
        let mut fields: Vec<FieldPlan> = t
            .fields
            .iter()
            .map(|f| {
                let ident = scope.claim(&f.name);
                if ident != f.name {
                    p.notes.push(format!(
                        "{class}.{ident}: the field {:?} is named {ident} (a keyword, a name models use, or a collision); its column stays {:?}",
                        f.name, f.column
                    ));
                }
                FieldPlan {
                    ident,
                    meta: f.clone(),
                    enum_class: match &f.ty {
                        FieldType::Enum { name, .. } => enum_class.get(name).cloned(),
                        _ => None,
                    },
                    relation: None,
                }
            })
            .collect();
        let keys = t.fields.iter().filter(|f| f.primary_key).count();
        let composite_key = keys > 1;
        let no_key = keys == 0;
        if no_key {
            p.notes.push(format!(
                "{class}: table {:?} has no primary key, which a model needs: not generated",
                t.table
            ));
        }
        for f in &t.fields {
            if let Some(chakra_dsl::meta::DefaultValue::Value(v)) = &f.default {
                use chakra_dsl::Value as V;
                let rust = !matches!(v, V::DateTime(_) | V::Bytes(_) | V::Array(_) | V::Null(_));
                let python = !matches!(v, V::Array(_));
                if !rust || !python {
                    p.notes.push(format!(
                        "{class}.{}: the default {v:?} has no {} form: left out there",
                        f.name,
                        match (rust, python) {
                            (false, false) => "Rust or Python",
                            (false, true) => "Rust",
                            _ => "Python",
                        }
                    ));
                }
            }
        }
        let mut relations = Vec::new();
        for f in fields.iter_mut() {
            let Some(r) = &f.meta.references else {
                continue;
            };
            if f.meta.default.is_some() {
                p.notes.push(format!(
                    "{class}.{}: a foreign key that is also given a default: kept as a plain column (a relation's key field cannot be)",
                    f.ident,
                ));
                continue;
            }
            let Some(target_class) = class_of.get(&r.table) else {
                p.notes.push(format!(
                    "{class}.{}: references {:?}, which is not a generated model: kept as a plain column (no relation, no foreign key in the model)",
                    f.ident, r.table
                ));
                continue;
            };
            let target = &state.tables[&r.table];
            let pk: Vec<&FieldMeta> = target.fields.iter().filter(|f| f.primary_key).collect();
            if pk.len() != 1 || pk[0].column != r.column {
                p.notes.push(format!(
                    "{class}.{}: references {}.{}, not that table's single primary key: kept as a plain column",
                    f.ident, r.table, r.column
                ));
                continue;
            }
            let stem = match f.ident.strip_suffix("_id") {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => format!("{}_rel", f.ident),
            };
            let name = scope.claim(&stem);
            f.relation = Some(name.clone());
            relations.push(RelPlan {
                name,
                target: target_class.clone(),
                back: String::new(),
                kind: RelKind::Forward {
                    key: f.ident.clone(),
                    // A single-column primary key that is a foreign key is a one-to-one
                    // (Django's `OneToOneField(primary_key=True)`); one column of a
                    // composite key is a many-to-one.
                    one_to_one: f.meta.unique || (f.meta.primary_key && !composite_key),
                    nullable: f.meta.nullable,
                    on_delete: r.on_delete,
                },
            });
        }
        let mut indexes = t.indexes.clone();
        let ident_of = |c: &str| {
            fields
                .iter()
                .find(|f| f.meta.column == c)
                .map(|f| f.ident.clone())
                .unwrap_or_else(|| c.to_owned())
        };
        let renamed: Vec<(String, String)> = fields
            .iter()
            .filter(|f| f.ident != f.meta.name)
            .map(|f| (f.meta.name.clone(), f.ident.clone()))
            .collect();
        for i in &mut indexes {
            i.columns = i.columns.iter().map(|c| ident_of(c)).collect();
            for (old, new) in &renamed {
                i.expressions = i
                    .expressions
                    .iter()
                    .map(|e| e.rename_field(old, new))
                    .collect();
                i.condition = i.condition.as_ref().map(|c| c.rename_field(old, new));
            }
        }
        let mut constraints = t.constraints.clone();
        for c in &mut constraints {
            use crate::migrate::operations::ConstraintKind as K;
            match &mut c.kind {
                K::Unique { columns } => {
                    *columns = columns.iter().map(|c| ident_of(c)).collect();
                }
                K::CheckLookup { condition } => {
                    for (old, new) in &renamed {
                        *condition = condition.rename_field(old, new);
                    }
                }
                K::Check { .. } | K::ForeignKey { .. } => {}
            }
        }
        models.push(ModelPlan {
            class,
            table: t.table.clone(),
            app: apps.get(&t.table).cloned(),
            fields,
            relations,
            indexes,
            constraints,
            composite_key,
            no_key,
        });
        scopes.push(scope);
    }

    // Reverse sides: named after the other table (`posts`), or its model for a one-to-one
    // (`profile`); several keys from one table to the same model (or a self-reference) add
    // the forward relation's name (`messages_as_sender`).
    let index_of: BTreeMap<String, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.class.clone(), i))
        .collect();
    let mut reverse: Vec<(usize, usize, usize)> = Vec::new(); // (source model, relation, target model)
    for (mi, m) in models.iter().enumerate() {
        for (ri, r) in m.relations.iter().enumerate() {
            reverse.push((mi, ri, index_of[&r.target]));
        }
    }
    for &(mi, ri, ti) in &reverse {
        let (source_class, source_table, rel_name, key, one_to_one) = {
            let m = &models[mi];
            let r = &m.relations[ri];
            let RelKind::Forward {
                key, one_to_one, ..
            } = &r.kind
            else {
                continue;
            };
            (
                m.class.clone(),
                m.table.clone(),
                r.name.clone(),
                key.clone(),
                *one_to_one,
            )
        };
        let same_pair = reverse
            .iter()
            .filter(|&&(m2, _, t2)| m2 == mi && t2 == ti)
            .count();
        let base = if one_to_one {
            snake_case(&source_class)
        } else {
            source_table.clone()
        };
        let wanted = if same_pair > 1 || mi == ti {
            format!("{base}_as_{rel_name}")
        } else {
            base
        };
        let name = scopes[ti].claim(&wanted);
        models[mi].relations[ri].back = name.clone();
        models[ti].relations.push(RelPlan {
            name,
            target: source_class,
            back: rel_name.clone(),
            kind: RelKind::Reverse {
                key,
                one_to_one,
                forward: rel_name,
            },
        });
    }

    // Many-to-many relations, one pair per join table.
    for (through, (src, tgt)) in &joins {
        let t = &state.tables[through];
        let (Some(&si), Some(&ti)) = (
            class_of.get(src).and_then(|c| index_of.get(c)),
            class_of.get(tgt).and_then(|c| index_of.get(c)),
        ) else {
            continue;
        };
        let (sc, tc) = (t.fields[0].column.clone(), t.fields[1].column.clone());
        let fwd = scopes[si].claim(tgt);
        let back = if si == ti {
            scopes[ti].claim(&format!("{tgt}_as_{}", tc))
        } else {
            scopes[ti].claim(src)
        };
        let (s_class, t_class) = (models[si].class.clone(), models[ti].class.clone());
        models[si].relations.push(RelPlan {
            name: fwd.clone(),
            target: t_class,
            back: back.clone(),
            kind: RelKind::ManyToMany {
                through: through.clone(),
                source_column: sc.clone(),
                target_column: tc.clone(),
                declares: true,
            },
        });
        models[ti].relations.push(RelPlan {
            name: back,
            target: s_class,
            back: fwd,
            kind: RelKind::ManyToMany {
                through: through.clone(),
                source_column: tc,
                target_column: sc,
                declares: false,
            },
        });
    }
    for m in &mut models {
        // Forward relations keep field order; the others follow, by name.
        let forward = m
            .relations
            .iter()
            .take_while(|r| matches!(r.kind, RelKind::Forward { .. }))
            .count();
        m.relations[forward..].sort_by(|a, b| a.name.cmp(&b.name));
        if m.rust_cannot_declare_key() {
            p.notes.push(format!(
                "{}: table {:?} has a composite primary key ({}) of more than 4 columns or with \
                 an auto-increment column, which Rust models cannot declare",
                m.class,
                m.table,
                m.fields
                    .iter()
                    .filter(|f| f.meta.primary_key)
                    .map(|f| f.meta.column.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for (name, t) in &state.tables {
        if !in_scope(t) {
            continue;
        }
        for c in &t.constraints {
            use crate::migrate::operations::ConstraintKind as K;
            let what = match &c.kind {
                K::Check { .. } => "a CHECK in raw SQL",
                K::ForeignKey { .. } => "a multi-column foreign key",
                K::Unique { .. } => "a UNIQUE constraint (models declare a unique index)",
                K::CheckLookup { .. } => continue,
            };
            p.notes.push(format!(
                "table {name:?}: constraint {:?} is {what}, which models cannot declare the same way",
                c.name
            ));
        }
    }
    if !state.raw.is_empty() {
        p.notes.push(format!(
            "{} object(s) made by RunSQL (indexes, triggers) are not part of any model",
            state.raw.len()
        ));
    }
    p.models = models;
    p.all_tables = state.tables.keys().cloned().collect();
    p
}
