//! [`TransactionError<E>`]: how a transaction with the caller's own error type
//! ([`Session::try_transaction`](super::Session::try_transaction)) failed — Chakra's failure,
//! or the closure's error, either way with everything rolled back.

use chakra_dsl::Error;

/// Why a [`Session::try_transaction`](super::Session::try_transaction) (or
/// [`Tx::try_transaction`](super::Tx::try_transaction)) committed nothing.
#[derive(Debug)]
pub enum TransactionError<E> {
    /// Chakra failed outside the closure: BEGIN, the session's pending writes, the tracked
    /// rows' writes, COMMIT (after the re-runs a retryable error gets).
    Chakra(Error),
    /// The closure returned `Err(e)`: the transaction (or savepoint) was rolled back. When
    /// the closure's own `?` turned a Chakra error into `e`, it is here too.
    Aborted(E),
}

impl<E> TransactionError<E> {
    /// The closure's error, if that is what ended it.
    pub fn aborted(self) -> Option<E> {
        match self {
            TransactionError::Aborted(e) => Some(e),
            TransactionError::Chakra(_) => None,
        }
    }

    /// One error type for both: Chakra's failure converted with `From` (what `?` does).
    pub fn into_inner(self) -> E
    where
        E: From<Error>,
    {
        match self {
            TransactionError::Aborted(e) => e,
            TransactionError::Chakra(e) => E::from(e),
        }
    }
}

impl TransactionError<Error> {
    /// The Chakra error, whichever side raised it.
    pub fn into_error(self) -> Error {
        match self {
            TransactionError::Aborted(e) | TransactionError::Chakra(e) => e,
        }
    }
}

impl<E> From<Error> for TransactionError<E> {
    fn from(e: Error) -> Self {
        TransactionError::Chakra(e)
    }
}

impl<E: std::fmt::Display> std::fmt::Display for TransactionError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransactionError::Chakra(e) => write!(f, "{e}"),
            TransactionError::Aborted(e) => write!(f, "transaction rolled back: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for TransactionError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransactionError::Chakra(e) => Some(e),
            TransactionError::Aborted(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Refusal {
        OutOfStock,
        Db(String),
    }
    impl From<Error> for Refusal {
        fn from(e: Error) -> Self {
            Refusal::Db(e.to_string())
        }
    }

    #[test]
    fn both_sides_convert_to_one_error() {
        let a: TransactionError<Refusal> = TransactionError::Aborted(Refusal::OutOfStock);
        assert_eq!(a.into_inner(), Refusal::OutOfStock);
        let c: TransactionError<Refusal> = Error::Transaction("gone".into()).into();
        assert!(matches!(c.into_inner(), Refusal::Db(m) if m.contains("gone")));
        let e = TransactionError::Aborted(Error::Transaction("x".into()));
        assert!(matches!(e.into_error(), Error::Transaction(_)));
    }
}
