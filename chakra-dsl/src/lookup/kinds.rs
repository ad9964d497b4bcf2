//! The lookup and transform vocabulary (`exact`, `icontains`, `year`, …) and which of them
//! apply to which value types.

use crate::ir::DatePart;
use crate::types::ValueType;

/// A lookup: the last part of `field[__transform…][__lookup]`, deciding the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `= value` (`None` means `IS NULL`).
    Exact,
    /// Case-insensitive equality of text.
    IExact,
    /// Text contains the value, matched literally.
    Contains,
    /// Case-insensitive `contains`.
    IContains,
    /// One of a list of values (an empty list matches nothing).
    In,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// Text starts with the value.
    StartsWith,
    /// Case-insensitive `startswith`.
    IStartsWith,
    /// Text ends with the value.
    EndsWith,
    /// Case-insensitive `endswith`.
    IEndsWith,
    /// Between two values, inclusive.
    Range,
    /// `IS NULL` when the value is true, `IS NOT NULL` when false.
    IsNull,
    /// Regular-expression match.
    Regex,
    /// Case-insensitive regular-expression match.
    IRegex,
    /// Not equal (SQL `<>`, as the Rust typed DSL's `ne`): a NULL field does not match.
    Ne,
    /// A JSON object has the key (`meta__has_key="plan"`, `meta__a__has_key="b"`).
    HasKey,
    /// A JSON object has every one of the keys (`meta__has_keys=["a", "b"]`).
    HasKeys,
    /// A JSON object has one of the keys (`meta__has_any_keys=["a", "b"]`).
    HasAnyKeys,
    /// A JSON document or an array is contained in the value (`tags__contained_by=[…]`).
    ContainedBy,
    /// Two arrays share an element (`tags__overlap=["a", "b"]`).
    Overlap,
}

/// Every lookup, in the order error messages list them.
pub const ALL_LOOKUPS: [Lookup; 23] = [
    Lookup::Exact,
    Lookup::IExact,
    Lookup::Contains,
    Lookup::IContains,
    Lookup::In,
    Lookup::Gt,
    Lookup::Gte,
    Lookup::Lt,
    Lookup::Lte,
    Lookup::StartsWith,
    Lookup::IStartsWith,
    Lookup::EndsWith,
    Lookup::IEndsWith,
    Lookup::Range,
    Lookup::IsNull,
    Lookup::Regex,
    Lookup::IRegex,
    Lookup::Ne,
    Lookup::HasKey,
    Lookup::HasKeys,
    Lookup::HasAnyKeys,
    Lookup::ContainedBy,
    Lookup::Overlap,
];

impl Lookup {
    /// The name used in keyword arguments.
    pub fn name(self) -> &'static str {
        match self {
            Lookup::Exact => "exact",
            Lookup::IExact => "iexact",
            Lookup::Contains => "contains",
            Lookup::IContains => "icontains",
            Lookup::In => "in",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::StartsWith => "startswith",
            Lookup::IStartsWith => "istartswith",
            Lookup::EndsWith => "endswith",
            Lookup::IEndsWith => "iendswith",
            Lookup::Range => "range",
            Lookup::IsNull => "isnull",
            Lookup::Regex => "regex",
            Lookup::IRegex => "iregex",
            Lookup::Ne => "ne",
            Lookup::HasKey => "has_key",
            Lookup::HasKeys => "has_keys",
            Lookup::HasAnyKeys => "has_any_keys",
            Lookup::ContainedBy => "contained_by",
            Lookup::Overlap => "overlap",
        }
    }

    /// The lookup with this name.
    pub fn from_name(name: &str) -> Option<Lookup> {
        ALL_LOOKUPS.iter().copied().find(|l| l.name() == name)
    }

    /// True for the lookups that only make sense on text.
    pub fn is_text_only(self) -> bool {
        matches!(
            self,
            Lookup::IExact
                | Lookup::Contains
                | Lookup::IContains
                | Lookup::StartsWith
                | Lookup::IStartsWith
                | Lookup::EndsWith
                | Lookup::IEndsWith
                | Lookup::Regex
                | Lookup::IRegex
        )
    }

    /// True for the ordering comparisons.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte | Lookup::Range
        )
    }

    /// Whether this lookup applies to an operand of type `ty`.
    pub fn applies_to(self, ty: &ValueType) -> bool {
        let text = *ty == ValueType::Text;
        let unordered = matches!(ty, ValueType::Json | ValueType::Array(_));
        match self {
            Lookup::HasKey | Lookup::HasKeys | Lookup::HasAnyKeys => return *ty == ValueType::Json,
            // Text: a substring; JSON and arrays: containment.
            Lookup::Contains => return text || unordered,
            Lookup::ContainedBy => return unordered,
            Lookup::Overlap => return matches!(ty, ValueType::Array(_)),
            _ => {}
        }
        if self.is_text_only() {
            return text;
        }
        if self.is_ordering() || self == Lookup::In {
            return !unordered;
        }
        true
    }
}

/// A transform: a middle part of a lookup path that turns the operand into another value
/// (`pub_date__year` is the year of `pub_date`), followed by a further lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// The UTC date of a timestamp.
    Date,
    /// A date part as an integer.
    Part(DatePart),
    /// The number of elements of an array (`tags__len=2`).
    Len,
    /// The element of an array at a 0-based position (`tags__0="a"`).
    Index(u32),
}

/// Every named transform, in the order error messages list them (array positions,
/// `tags__0`, are digits).
pub const ALL_TRANSFORMS: [Transform; 9] = [
    Transform::Len,
    Transform::Date,
    Transform::Part(DatePart::Year),
    Transform::Part(DatePart::Month),
    Transform::Part(DatePart::Day),
    Transform::Part(DatePart::WeekDay),
    Transform::Part(DatePart::Hour),
    Transform::Part(DatePart::Minute),
    Transform::Part(DatePart::Second),
];

impl Transform {
    /// The name used in keyword arguments.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            Transform::Index(i) => return std::borrow::Cow::Owned(i.to_string()),
            Transform::Len => "len",
            Transform::Date => "date",
            Transform::Part(DatePart::Year) => "year",
            Transform::Part(DatePart::Month) => "month",
            Transform::Part(DatePart::Day) => "day",
            Transform::Part(DatePart::WeekDay) => "week_day",
            Transform::Part(DatePart::Hour) => "hour",
            Transform::Part(DatePart::Minute) => "minute",
            Transform::Part(DatePart::Second) => "second",
        })
    }

    /// The transform with this name (digits: an array position).
    pub fn from_name(name: &str) -> Option<Transform> {
        if !name.is_empty() && name.len() <= 9 && name.bytes().all(|b| b.is_ascii_digit()) {
            return name.parse().ok().map(Transform::Index);
        }
        ALL_TRANSFORMS.iter().copied().find(|t| t.name() == name)
    }

    /// The type the transform produces from `input`, or `None` when it does not apply.
    pub fn output(self, input: &ValueType) -> Option<ValueType> {
        match (self, input) {
            (Transform::Date, ValueType::DateTime) => Some(ValueType::Date),
            (Transform::Part(DatePart::Hour | DatePart::Minute | DatePart::Second), t) => {
                (*t == ValueType::DateTime).then_some(ValueType::I64)
            }
            (Transform::Part(_), ValueType::DateTime | ValueType::Date) => Some(ValueType::I64),
            (Transform::Len, ValueType::Array(_)) => Some(ValueType::I64),
            (Transform::Index(_), ValueType::Array(elem)) => Some((**elem).clone()),
            _ => None,
        }
    }
}

/// The names of the lookups and transforms valid after an operand of type `ty`
/// (what error messages offer as choices).
pub fn choices_for(ty: &ValueType) -> Vec<String> {
    ALL_LOOKUPS
        .iter()
        .filter(|l| l.applies_to(ty))
        .map(|l| l.name().to_owned())
        .chain(
            ALL_TRANSFORMS
                .iter()
                .filter(|t| t.output(ty).is_some())
                .map(|t| t.name().into_owned()),
        )
        .chain(matches!(ty, ValueType::Array(_)).then(|| "an array position (0, 1, …)".to_owned()))
        .collect()
}
