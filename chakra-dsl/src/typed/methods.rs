//! The typed methods shared by [`super::Column`] and [`super::TypedExpr`], written once as a
//! macro so both have them as inherent methods (no trait import needed). Which methods apply
//! is decided by bounds on `T`: the LIKE family needs [`super::TextType`], the NULL tests
//! [`super::NullableType`], date parts [`super::TemporalType`] / [`super::DateTimeType`].

macro_rules! typed_methods {
    ($ty:ident) => {
        #[allow(clippy::should_implement_trait, clippy::wrong_self_convention)]
        impl<M, T: $crate::typed::ColumnType> $ty<M, T> {
            /// `self = value`. `None` on an `Option` column means `IS NULL`.
            pub fn eq<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Eq, value)
            }

            /// `self <> value`. `None` on an `Option` column means `IS NOT NULL`.
            pub fn ne<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Ne, value)
            }

            /// `self > value`.
            pub fn gt<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Gt, value)
            }

            /// `self >= value`.
            pub fn ge<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Ge, value)
            }

            /// `self < value`.
            pub fn lt<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Lt, value)
            }

            /// `self <= value`.
            pub fn le<V: $crate::typed::CompareTo<M, T, K>, K>(
                self,
                value: V,
            ) -> $crate::typed::Condition<M> {
                $crate::typed::lower::compare_with(self.lower(), $crate::ir::CmpOp::Le, value)
            }

            /// `self IN (values…)`; an empty list matches nothing.
            pub fn is_in<I, V>(self, values: I) -> $crate::typed::Condition<M>
            where
                I: IntoIterator<Item = V>,
                V: $crate::typed::ValueFor<T>,
            {
                let values = values.into_iter().map(|v| v.into_value_for()).collect();
                $crate::typed::lower::is_in(self.lower(), values)
            }

            /// `self BETWEEN low AND high`, bounds included.
            pub fn between<L, H>(self, low: L, high: H) -> $crate::typed::Condition<M>
            where
                L: $crate::typed::ValueFor<T>,
                H: $crate::typed::ValueFor<T>,
            {
                $crate::typed::lower::between(
                    self.lower(),
                    low.into_value_for(),
                    high.into_value_for(),
                )
            }

            /// The text starts with `text` (matched literally: `%` and `_` are not wildcards).
            pub fn starts_with(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::StartsWith,
                    text.into(),
                    false,
                )
            }

            /// The text ends with `text` (matched literally).
            pub fn ends_with(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::EndsWith,
                    text.into(),
                    false,
                )
            }

            /// On a text column: the text contains `text` (matched literally). On an array
            /// column: the array holds every element of a `Vec` (PostgreSQL `@>`). On a JSON
            /// column: the document contains a `serde_json::Value` (PostgreSQL `@>`).
            pub fn contains<A: $crate::typed::ContainsArg<T>>(
                self,
                arg: A,
            ) -> $crate::typed::Condition<M> {
                arg.contained_in(self.lower())
            }

            /// The text equals `text`, ignoring case (Unicode-aware).
            pub fn iexact(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::Exact,
                    text.into(),
                    true,
                )
            }

            /// The text contains `text`, ignoring case.
            pub fn icontains(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::Contains,
                    text.into(),
                    true,
                )
            }

            /// The text starts with `text`, ignoring case.
            pub fn istarts_with(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::StartsWith,
                    text.into(),
                    true,
                )
            }

            /// The text ends with `text`, ignoring case.
            pub fn iends_with(self, text: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::EndsWith,
                    text.into(),
                    true,
                )
            }

            /// SQL `LIKE` with a pattern written by the programmer (`%`, `_`; `\` escapes).
            pub fn like(self, pattern: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::Raw,
                    pattern.into(),
                    false,
                )
            }

            /// Case-insensitive `LIKE` with a pattern written by the programmer.
            pub fn ilike(self, pattern: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::like(
                    self.lower(),
                    $crate::ir::LikeKind::Raw,
                    pattern.into(),
                    true,
                )
            }

            /// The text matches the regular expression `pattern`.
            pub fn regex(self, pattern: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::regex(self.lower(), pattern.into(), false)
            }

            /// The text matches the regular expression `pattern`, ignoring case.
            pub fn iregex(self, pattern: impl Into<String>) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::TextType,
            {
                $crate::typed::lower::regex(self.lower(), pattern.into(), true)
            }

            /// `self IS NULL` (only on `Option` columns).
            pub fn is_null(self) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::NullableType,
            {
                $crate::typed::lower::null_test(self.lower(), false)
            }

            /// `self IS NOT NULL` (only on `Option` columns).
            pub fn is_not_null(self) -> $crate::typed::Condition<M>
            where
                T: $crate::typed::NullableType,
            {
                $crate::typed::lower::null_test(self.lower(), true)
            }

            /// The year (UTC for timestamps).
            pub fn year(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::TemporalType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Year)
            }

            /// The month, 1–12.
            pub fn month(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::TemporalType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Month)
            }

            /// The day of the month, 1–31.
            pub fn day(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::TemporalType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Day)
            }

            /// The day of the week, 1 = Sunday … 7 = Saturday.
            pub fn week_day(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::TemporalType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::WeekDay)
            }

            /// The hour, 0–23 (UTC).
            pub fn hour(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::DateTimeType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Hour)
            }

            /// The minute, 0–59.
            pub fn minute(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::DateTimeType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Minute)
            }

            /// The second, 0–59.
            pub fn second(self) -> $crate::typed::TypedExpr<M, i64>
            where
                T: $crate::typed::DateTimeType,
            {
                $crate::typed::lower::extract(self.lower(), $crate::ir::DatePart::Second)
            }

            /// The UTC date of a timestamp.
            pub fn date(self) -> $crate::typed::TypedExpr<M, chrono::NaiveDate>
            where
                T: $crate::typed::DateTimeType,
            {
                $crate::typed::lower::date_of(self.lower())
            }

            /// Ascending sort key.
            pub fn asc(self) -> $crate::typed::Ordering<M> {
                $crate::typed::lower::order(self.lower(), false)
            }

            /// Descending sort key.
            pub fn desc(self) -> $crate::typed::Ordering<M> {
                $crate::typed::lower::order(self.lower(), true)
            }
        }

        $crate::typed::methods::arith_op!($ty, Add, add, Add);
        $crate::typed::methods::arith_op!($ty, Sub, sub, Sub);
        $crate::typed::methods::arith_op!($ty, Mul, mul, Mul);
        $crate::typed::methods::arith_op!($ty, Div, div, Div);
    };
}

macro_rules! arith_op {
    ($ty:ident, $trait:ident, $method:ident, $op:ident) => {
        /// SQL arithmetic on numeric columns: `User::balance() + 100`, or with another
        /// numeric column or expression of the model (`Line::unit_price() * Line::quantity()`,
        /// typed as the database types the result: [`Promote`](crate::typed::Promote)).
        impl<M, T, R> std::ops::$trait<R> for $ty<M, T>
        where
            T: $crate::typed::ColumnType + $crate::typed::NumericType,
            R: $crate::typed::ArithRhs<M, T>,
        {
            type Output = $crate::typed::TypedExpr<M, R::Out>;
            fn $method(self, rhs: R) -> Self::Output {
                $crate::typed::arith::arith(self.lower(), $crate::ir::ArithOp::$op, rhs)
            }
        }
    };
}

pub(crate) use arith_op;
pub(crate) use typed_methods;
