//! [`KeyType`]: the Rust type of a model's primary key — one column type, or a tuple of
//! them for a composite key (`Model::get(&pool, (team, user))`).

use super::column_type::ColumnType;
use crate::value::Value;

/// A primary-key value: a [`ColumnType`] for a key of one field, a tuple of them (two to
/// four) for a composite key, the values in the key fields' declared order.
pub trait KeyType: Sized + Clone + Send + Sync + 'static {
    /// How many key fields the value covers.
    const FIELDS: usize;

    /// The values to bind, one per key field in declared order.
    fn key_values(&self) -> Vec<Value>;
}

impl<T: ColumnType> KeyType for T {
    const FIELDS: usize = 1;

    fn key_values(&self) -> Vec<Value> {
        vec![self.to_value()]
    }
}

macro_rules! tuple_key {
    ($n:expr; $($t:ident $i:tt),+) => {
        impl<$($t: ColumnType),+> KeyType for ($($t,)+) {
            const FIELDS: usize = $n;

            fn key_values(&self) -> Vec<Value> {
                vec![$(self.$i.to_value()),+]
            }
        }
    };
}

tuple_key!(2; A 0, B 1);
tuple_key!(3; A 0, B 1, C 2);
tuple_key!(4; A 0, B 1, C 2, D 3);
