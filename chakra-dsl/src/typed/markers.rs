//! Marker traits that decide which typed methods a column has: the LIKE family only on text
//! columns, `is_null` only on `Option` columns, date parts only on date/time columns, and
//! the traits `#[derive(Model)]` uses to check attributes against field types.

use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};

/// Text columns: `String`, `Option<String>`, and enum columns (their stored text).
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and text lookups work only on text columns",
    label = "`starts_with`, `ends_with`, `contains`, `iexact`, `icontains`, `istarts_with`, `iends_with`, `like`, `ilike` and `regex` need a `String` or `Option<String>` column (or an enum column)",
    note = "compare other columns with `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `is_in` or `between`"
)]
pub trait TextType {}
impl TextType for String {}
impl TextType for Option<String> {}
// An enum column's text lookups match its stored text, as Django's lookups on a text
// column with choices do (`#[derive(chakra::Enum)]` implements it for the enum itself).
impl<T: super::EnumColumn + TextType> TextType for Option<T> {}

/// Nullable columns: `Option<T>`.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, which can never be NULL",
    label = "`is_null` and `is_not_null` exist only on nullable (`Option<_>`) columns",
    note = "declare the field as `Option<_>` to make the column nullable"
)]
pub trait NullableType {}
impl<T> NullableType for Option<T> {}

/// Date and date/time columns, which have year, month, day and week-day parts.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and date parts exist only on date and time columns",
    label = "`year`, `month`, `day` and `week_day` need a `chrono::DateTime<Utc>` or `chrono::NaiveDate` column (or an `Option` of one)"
)]
pub trait TemporalType {}
impl TemporalType for DateTime<Utc> {}
impl TemporalType for Option<DateTime<Utc>> {}
impl TemporalType for NaiveDate {}
impl TemporalType for Option<NaiveDate> {}

/// Timestamp columns, which also have hour, minute, second and date parts.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and time parts exist only on timestamp columns",
    label = "`hour`, `minute`, `second` and `date` need a `chrono::DateTime<Utc>` column (or an `Option` of one)"
)]
pub trait DateTimeType {}
impl DateTimeType for DateTime<Utc> {}
impl DateTimeType for Option<DateTime<Utc>> {}

/// Numeric columns, on which `+ - * /` build SQL arithmetic.
#[diagnostic::on_unimplemented(
    message = "this is a `{Self}` column, and arithmetic works only on numeric columns",
    label = "`+`, `-`, `*` and `/` need an `i32`, `i64`, `f64` or `BigDecimal` column (or an `Option` of one)"
)]
pub trait NumericType {}
impl NumericType for i32 {}
impl NumericType for i64 {}
impl NumericType for f64 {}
impl NumericType for BigDecimal {}
impl NumericType for Option<i32> {}
impl NumericType for Option<i64> {}
impl NumericType for Option<f64> {}
impl NumericType for Option<BigDecimal> {}

/// Types a database can generate as an `auto_increment` primary key.
#[diagnostic::on_unimplemented(
    message = "`auto_increment` is not possible on a `{Self}` field",
    label = "`auto_increment` needs an `i32` or `i64` field (or an `Option` of one)"
)]
pub trait AutoIncrementType {}
impl AutoIncrementType for i32 {}
impl AutoIncrementType for i64 {}
impl AutoIncrementType for Option<i32> {}
impl AutoIncrementType for Option<i64> {}

/// Types with a `max_length`: text.
#[diagnostic::on_unimplemented(
    message = "`max_length` is not possible on a `{Self}` field",
    label = "`max_length = N` applies only to `String` and `Option<String>` fields"
)]
pub trait MaxLengthType {}
impl MaxLengthType for String {}
impl MaxLengthType for Option<String> {}

/// Types with a precision and scale: decimals.
#[diagnostic::on_unimplemented(
    message = "`precision` and `scale` are not possible on a `{Self}` field",
    label = "`precision = P` and `scale = S` apply only to `BigDecimal` and `Option<BigDecimal>` fields"
)]
pub trait DecimalType {}
impl DecimalType for BigDecimal {}
impl DecimalType for Option<BigDecimal> {}

/// Types with a `default = "now()"`: the current date or time, taken from the Rust clock
/// in `Default::default()` and from the database clock when the column is left out.
#[diagnostic::on_unimplemented(
    message = "`default = \"now()\"` is not possible on a `{Self}` field",
    label = "`now()` is a default only for `chrono::DateTime<Utc>` and `chrono::NaiveDate` fields (or an `Option` of one)"
)]
pub trait NowDefault {
    /// The current instant (or date), in UTC.
    fn now() -> Self;
}
impl NowDefault for DateTime<Utc> {
    fn now() -> Self {
        Utc::now()
    }
}
impl NowDefault for NaiveDate {
    fn now() -> Self {
        Utc::now().date_naive()
    }
}
impl<T: NowDefault> NowDefault for Option<T> {
    fn now() -> Self {
        Some(T::now())
    }
}

/// Types an `auto_now` / `auto_now_add` field may have: Chakra sets them to the current
/// time (or date) when the object is written.
#[diagnostic::on_unimplemented(
    message = "`auto_now` / `auto_now_add` is not possible on a `{Self}` field",
    label = "Chakra sets only `chrono::DateTime<Utc>` and `chrono::NaiveDate` fields (or an `Option` of one) to the current time"
)]
pub trait AutoNowType {}
impl AutoNowType for DateTime<Utc> {}
impl AutoNowType for NaiveDate {}
impl<T: AutoNowType> AutoNowType for Option<T> {}

/// A field type built from the literal in `#[chakra(default = …)]`.
#[diagnostic::on_unimplemented(
    message = "a `{L}` literal cannot be the default of a `{Self}` field",
    label = "write a literal of the field's type: `default = 0`, `default = 1.5`, `default = true`, `default = \"text\"`"
)]
pub trait FromLiteral<L> {
    /// The field value for the literal.
    fn from_literal(l: L) -> Self;
}

macro_rules! from_literal {
    ($($t:ty => $l:ty, |$x:ident| $e:expr;)*) => {$(
        impl FromLiteral<$l> for $t {
            fn from_literal($x: $l) -> Self {
                $e
            }
        }
    )*};
}

from_literal! {
    bool => bool, |x| x;
    i32 => i64, |x| i32::try_from(x).expect("default literal out of range for i32");
    i64 => i64, |x| x;
    f64 => f64, |x| x;
    f64 => i64, |x| x as f64;
    String => &'static str, |x| x.to_owned();
    BigDecimal => i64, |x| BigDecimal::from(x);
    BigDecimal => &'static str, |x| x.parse().expect("default literal is not a decimal");
    BigDecimal => f64, |x| BigDecimal::try_from(x).expect("default literal is not a finite decimal");
    uuid::Uuid => &'static str, |x| x.parse().expect("default literal is not a UUID");
    NaiveDate => &'static str, |x| x.parse().expect("default literal is not a YYYY-MM-DD date");
    serde_json::Value => &'static str, |x| serde_json::from_str(x).expect("default literal is not JSON");
}

impl<L, T: FromLiteral<L>> FromLiteral<L> for Option<T> {
    fn from_literal(l: L) -> Self {
        Some(T::from_literal(l))
    }
}

/// A field whose Rust type is `Column`, the type `schema.rs` gives its column: the check
/// `#[chakra(schema = crate::schema::users)]` generates for each field.
#[diagnostic::on_unimplemented(
    message = "this field is `{Self}`, but the migrations make its column `{Column}`",
    label = "does not match schema.rs",
    note = "change the field's type, or change the table with a migration (`chakra migrate make`) and regenerate schema.rs (`chakra migrate schema`)"
)]
pub trait SchemaColumn<Column> {}

impl<T> SchemaColumn<T> for T {}

/// An `Enum` column is text in `schema.rs` (the schema knows its values, not the Rust type
/// that names them): a `#[derive(chakra::Enum)]` field matches it.
#[diagnostic::do_not_recommend]
impl<E: super::EnumColumn> SchemaColumn<String> for E {}

/// A nullable `Enum` column (`Option<String>` in `schema.rs`).
#[diagnostic::do_not_recommend]
impl<E: super::EnumColumn> SchemaColumn<Option<String>> for Option<E> {}

/// `a == b` for strings in constant evaluation (the table check of
/// `#[chakra(schema = …)]`).
pub const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
