//! What a catalog reader hands over: every table of an existing database, as the database
//! spells it. Filled by each dialect room (`dialect/<d>/introspect.rs`, `read_catalog`); read
//! by [`super::convert`], which holds no I/O.

use chakra_dsl::FieldType;
use std::collections::BTreeMap;

/// An existing database's schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// Tables by name (Chakra's own history tables left out).
    pub tables: BTreeMap<String, CatalogTable>,
}

/// One table as the catalog reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogTable {
    /// Columns, in order.
    pub columns: Vec<CatalogColumn>,
    /// Primary-key columns, in key order (empty: no primary key).
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes without condition or expression.
    pub uniques: Vec<CatalogKey>,
    /// Foreign keys.
    pub foreign_keys: Vec<CatalogForeignKey>,
    /// Other indexes (not backing the primary key or a unique constraint).
    pub indexes: Vec<CatalogIndex>,
    /// CHECK constraints (MariaDB's JSON checks left out: they make a `json` column).
    pub checks: Vec<CatalogCheck>,
    /// Parts of the table the catalog reader already knows it cannot represent, each a
    /// sentence (an unnamed CHECK on SQLite, a column the reader could not type).
    pub unreadable: Vec<String>,
    /// The table's `CREATE TABLE` text where the database keeps one (SQLite, MySQL).
    pub ddl: Option<String>,
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogColumn {
    /// Column name.
    pub name: String,
    /// Type in the words drift checks compare (`character varying(50)`, `integer`).
    pub ty: String,
    /// The field type the room maps it to, or why none fits.
    pub field_type: Result<FieldType, String>,
    /// NULL allowed.
    pub nullable: bool,
    /// The default expression as the database reports it.
    pub default: Option<String>,
    /// Filled by the database (serial, identity, rowid alias, AUTO_INCREMENT).
    pub auto_increment: bool,
}

/// A named key over columns (a unique constraint).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogKey {
    /// Constraint or index name.
    pub name: String,
    /// Columns in key order.
    pub columns: Vec<String>,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogForeignKey {
    /// Constraint name (may be empty where the database names none: SQLite).
    pub name: String,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub table: String,
    /// Referenced columns.
    pub referenced: Vec<String>,
    /// `ON DELETE` in SQL words (`CASCADE`, `SET NULL`, `NO ACTION`, …).
    pub on_delete: String,
}

/// One key of an index.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    /// A column.
    Column(String),
    /// An expression, as the database writes it (`lower((email)::text)`).
    Expression(String),
}

/// An index that backs no constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogIndex {
    /// Index name.
    pub name: String,
    /// A UNIQUE index.
    pub unique: bool,
    /// Its keys, in order.
    pub keys: Vec<IndexKey>,
    /// A partial index's condition, as the database writes it.
    pub predicate: Option<String>,
    /// Something else the format cannot say (a method other than btree, a prefix length),
    /// as a sentence.
    pub unusual: Option<String>,
    /// The statement that creates it, as the database gives it (for a RunSQL).
    pub sql: String,
}

/// A CHECK constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogCheck {
    /// Constraint name.
    pub name: String,
    /// The condition, as the database writes it (without the `CHECK` word).
    pub clause: String,
}
