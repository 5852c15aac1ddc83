//! Declarative input validation: the rules a procedure's input must satisfy beyond its type,
//! checked after the params decode and before the procedure runs.
//!
//! Rules are [garde](https://docs.rs/garde) attributes on the fields of an `#[accord::wire]`
//! type. The macro derives `garde::Validate` for a type that has any, and implements
//! [`Validate`] for every wire type (a no-op for the others). schemars reads the same
//! attributes, so the rules also reach the JSON Schema, hence OpenRPC and the TypeScript docs.
//!
//! ```
//! #[accord::wire]
//! pub struct NewTodo {
//!     #[garde(length(chars, min = 1, max = 200))]
//!     pub title: String,
//!     #[garde(range(min = 1, max = 5))]
//!     pub priority: u8,
//!     pub done: bool, // no rule: not validated
//! }
//!
//! use accord::Validate;
//! let todo = NewTodo { title: String::new(), priority: 9, done: false };
//! let violations = todo.validate().unwrap_err();
//! assert_eq!(violations[0].path, "title");
//! assert_eq!(violations[1].path, "priority");
//! ```
//!
//! A violation's path uses the wire's names (`createdAtMs`, not `created_at_ms`): garde reports
//! Rust field names, and the macro implements [`WirePath`] for each type it derives validation
//! for, which maps every path segment to the name serde uses for it (its `rename`, or the
//! `rename_all` rule) while following the value down nested types, lists and maps.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

/// One violated rule: where (the wire path, e.g. `items[2].name`; empty for the input as a
/// whole) and why (garde's message, e.g. `length is lower than 1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    /// The wire path of the offending value, in the format of decode errors' `data.path`.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Violation {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { path: path.into(), reason: reason.into() }
    }

    /// This violation, seen from a container: `key` (a field or map key) goes in front.
    pub fn under_key(mut self, key: &str) -> Self {
        let mut path = String::with_capacity(key.len() + 1 + self.path.len());
        push_key(&mut path, key);
        append(&mut path, &self.path);
        self.path = path;
        self
    }

    /// This violation, seen from a list: `[index]` goes in front.
    pub fn under_index(mut self, index: usize) -> Self {
        let mut path = String::new();
        push_index(&mut path, index);
        append(&mut path, &self.path);
        self.path = path;
        self
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { f.write_str(&self.reason) } else { write!(f, "`{}`: {}", self.path, self.reason) }
    }
}

/// Appends a relative path (`name`, `[2].name`) to `out`.
fn append(out: &mut String, relative: &str) {
    if !out.is_empty() && !relative.is_empty() && !relative.starts_with('[') {
        out.push('.');
    }
    out.push_str(relative);
}

/// A value that can check its own rules: what runs on a procedure's input after it decodes.
///
/// `#[accord::wire]` implements it for every type: through garde for a type with `#[garde(...)]`
/// rules, as "always valid" otherwise. It is also implemented for `()` and the std types an
/// input can be (primitives, `String`, `Vec`, `Option`, maps...), which validate their elements.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be validated as a procedure input",
    label = "not an #[accord::wire] type",
    note = "add #[accord::wire] to the type's definition: it implements accord::Validate"
)]
pub trait Validate {
    /// `Ok` if every rule holds; otherwise every violated rule, in declaration order.
    fn validate(&self) -> Result<(), Vec<Violation>>;
}

/// A procedure's input: a wire type that can be validated. Implemented for every such type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an Accord wire type",
    label = "not serializable, or missing a JSON Schema or TypeScript type",
    note = "add #[accord::wire] to the type's definition (or #[accord::error] to an error enum)"
)]
pub trait WireInput: crate::WireType + Validate {}

// As for `WireType`: report a missing wire type as itself, not as what it lacks.
#[diagnostic::do_not_recommend]
impl<T: crate::WireType + Validate> WireInput for T {}

macro_rules! always_valid {
    ($($ty:ty),* $(,)?) => {
        $(impl Validate for $ty {
            fn validate(&self) -> Result<(), Vec<Violation>> {
                Ok(())
            }
        })*
    };
}

always_valid!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    str,
    crate::I53,
    serde_json::Value,
);

/// `#[garde(range(min = 0))]` on an [`I53`](crate::I53) field: bounds are `i64`s.
impl garde::rules::range::Bounds for crate::I53 {
    type Size = i64;

    const MIN: i64 = crate::I53::MIN;
    const MAX: i64 = crate::I53::MAX;

    fn validate_bounds(&self, lower: i64, upper: i64) -> Result<(), garde::rules::range::OutOfBounds> {
        match self.get() {
            value if value < lower => Err(garde::rules::range::OutOfBounds::Lower),
            value if value > upper => Err(garde::rules::range::OutOfBounds::Upper),
            _ => Ok(()),
        }
    }
}

/// Collects the violations of several parts.
fn collect(parts: impl IntoIterator<Item = Result<(), Vec<Violation>>>) -> Result<(), Vec<Violation>> {
    let mut all = Vec::new();
    for part in parts {
        if let Err(violations) = part {
            all.extend(violations);
        }
    }
    if all.is_empty() { Ok(()) } else { Err(all) }
}

fn validate_list<'a, T: Validate + 'a>(items: impl IntoIterator<Item = &'a T>) -> Result<(), Vec<Violation>> {
    collect(
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| item.validate().map_err(|v| v.into_iter().map(|v| v.under_index(index)).collect())),
    )
}

fn validate_map<'a, K, V>(entries: impl IntoIterator<Item = (&'a K, &'a V)>) -> Result<(), Vec<Violation>>
where
    K: std::fmt::Display + 'a,
    V: Validate + 'a,
{
    collect(entries.into_iter().map(|(key, value)| {
        value.validate().map_err(|v| {
            let key = key.to_string();
            v.into_iter().map(|v| v.under_key(&key)).collect()
        })
    }))
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<T: Validate> Validate for [T] {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<T: Validate, const N: usize> Validate for [T; N] {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<T: Validate> Validate for VecDeque<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<T: Validate, S> Validate for HashSet<T, S> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<T: Validate> Validate for BTreeSet<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_list(self)
    }
}

impl<K: std::fmt::Display, V: Validate, S> Validate for HashMap<K, V, S> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_map(self)
    }
}

impl<K: std::fmt::Display, V: Validate> Validate for BTreeMap<K, V> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        validate_map(self)
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        self.as_ref().map_or(Ok(()), T::validate)
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        (**self).validate()
    }
}

impl<T: Validate + ?Sized> Validate for Arc<T> {
    fn validate(&self) -> Result<(), Vec<Violation>> {
        (**self).validate()
    }
}

macro_rules! tuples {
    ($(($($name:ident $index:tt),+))*) => {
        $(impl<$($name: Validate),+> Validate for ($($name,)+) {
            fn validate(&self) -> Result<(), Vec<Violation>> {
                collect([$(self.$index.validate().map_err(|v| v.into_iter().map(|v| v.under_index($index)).collect())),+])
            }
        })*
    };
}

tuples! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
}

// ---------------------------------------------------------------------------------------------
// Wire paths: garde's Rust paths, translated to serde's names. Used by generated code.

/// One segment of a garde path, below some value.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A struct field (by its Rust name) or a map key.
    Key(&'a str),
    /// A list element, or a tuple field.
    Index(usize),
    /// A level without a name (garde's `inner` rule on an `Option`).
    Unnamed,
}

/// Writes the wire form of a garde path below `self`: field names as serde spells them.
///
/// `#[accord::wire]` implements it for each type it derives `garde::Validate` for; containers
/// pass the path on to their elements. Below a type without it, the rest of the path is kept
/// as garde reported it.
#[doc(hidden)]
pub trait WirePath {
    /// Appends the wire form of `path` (relative to `self`) to `out`.
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf);
}

/// A wire path being built, with its sort key: garde reports fields in alphabetical order,
/// violations are listed in declaration order (field positions, then list indices).
#[doc(hidden)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WirePathBuf {
    path: String,
    order: Vec<usize>,
}

impl WirePathBuf {
    /// The path so far.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// Appends `.key` (or `key` at the start).
    pub fn push_key(&mut self, key: &str) {
        push_key(&mut self.path, key);
    }

    /// Appends `[index]`.
    pub fn push_index(&mut self, index: usize) {
        push_index(&mut self.path, index);
        self.order.push(index);
    }

    /// Records the declaration position of the field the path goes through.
    pub fn position(&mut self, position: usize) {
        self.order.push(position);
    }

    /// Appends `path` as it is (below a type that has no wire names to give).
    pub fn push_verbatim(&mut self, path: &[Segment<'_>]) {
        for segment in path {
            match *segment {
                Segment::Key(key) => self.push_key(key),
                Segment::Index(index) => self.push_index(index),
                Segment::Unnamed => {}
            }
        }
    }
}

/// Appends `.key` (or `key` at the start).
fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// Appends `[index]`.
fn push_index(out: &mut String, index: usize) {
    let _ = write!(out, "[{index}]");
}

/// Autoref dispatch for generated code: `(&WirePathOf(&field)).wire_path_of(path, out)` uses the
/// field's [`WirePath`] if it has one ([`ViaWirePath`]), else keeps the path ([`ViaVerbatim`]).
#[doc(hidden)]
pub struct WirePathOf<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait ViaWirePath {
    fn wire_path_of(&self, path: &[Segment<'_>], out: &mut WirePathBuf);
}

impl<T: WirePath + ?Sized> ViaWirePath for WirePathOf<'_, T> {
    fn wire_path_of(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        self.0.wire_path(path, out)
    }
}

#[doc(hidden)]
pub trait ViaVerbatim {
    fn wire_path_of(&self, path: &[Segment<'_>], out: &mut WirePathBuf);
}

impl<T: ?Sized> ViaVerbatim for &WirePathOf<'_, T> {
    fn wire_path_of(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        out.push_verbatim(path)
    }
}

fn list_path<'a, T: WirePath + 'a>(
    mut items: impl Iterator<Item = &'a T>,
    path: &[Segment<'_>],
    out: &mut WirePathBuf,
) {
    match path {
        [Segment::Index(index), rest @ ..] => {
            out.push_index(*index);
            match items.nth(*index) {
                Some(item) => item.wire_path(rest, out),
                None => out.push_verbatim(rest),
            }
        }
        _ => out.push_verbatim(path),
    }
}

fn map_path<'a, K: std::fmt::Display + 'a, V: WirePath + 'a>(
    mut entries: impl Iterator<Item = (&'a K, &'a V)>,
    path: &[Segment<'_>],
    out: &mut WirePathBuf,
) {
    match path {
        [Segment::Key(key), rest @ ..] => {
            out.push_key(key);
            match entries.find(|(k, _)| k.to_string() == *key) {
                Some((_, value)) => value.wire_path(rest, out),
                None => out.push_verbatim(rest),
            }
        }
        _ => out.push_verbatim(path),
    }
}

impl<T: WirePath> WirePath for Vec<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<T: WirePath> WirePath for [T] {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<T: WirePath, const N: usize> WirePath for [T; N] {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<T: WirePath> WirePath for VecDeque<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<T: WirePath, S> WirePath for HashSet<T, S> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<T: WirePath> WirePath for BTreeSet<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        list_path(self.iter(), path, out)
    }
}

impl<K: std::fmt::Display, V: WirePath, S> WirePath for HashMap<K, V, S> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        map_path(self.iter(), path, out)
    }
}

impl<K: std::fmt::Display, V: WirePath> WirePath for BTreeMap<K, V> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        map_path(self.iter(), path, out)
    }
}

impl<T: WirePath> WirePath for Option<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        // garde's `inner` rule adds an unnamed level for the `Some`; `dive` does not.
        let path = match path {
            [Segment::Unnamed, rest @ ..] => rest,
            _ => path,
        };
        match self {
            Some(value) => value.wire_path(path, out),
            None => out.push_verbatim(path),
        }
    }
}

impl<T: WirePath + ?Sized> WirePath for Box<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        (**self).wire_path(path, out)
    }
}

impl<T: WirePath + ?Sized> WirePath for Arc<T> {
    fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
        (**self).wire_path(path, out)
    }
}

/// [`Validate::validate`] of a type that derives `garde::Validate`: garde's report, every
/// path translated to the wire's names, in declaration order.
#[doc(hidden)]
pub fn garde_violations<T>(value: &T) -> Result<(), Vec<Violation>>
where
    T: garde::Validate + WirePath + ?Sized,
    T::Context: Default,
{
    let Err(report) = garde::Validate::validate(value) else { return Ok(()) };
    let mut violations: Vec<(WirePathBuf, Violation)> = report
        .iter()
        .map(|(path, error)| {
            let segments: Vec<Segment<'_>> = path
                .__iter()
                .rev()
                .map(|(kind, component)| match kind {
                    garde::error::Kind::Index => {
                        component.parse().map_or(Segment::Key(component.as_str()), Segment::Index)
                    }
                    garde::error::Kind::Key => Segment::Key(component.as_str()),
                    garde::error::Kind::None => Segment::Unnamed,
                })
                .collect();
            let mut wire = WirePathBuf::default();
            value.wire_path(&segments, &mut wire);
            let violation = Violation { path: wire.path.clone(), reason: error.message().to_owned() };
            (wire, violation)
        })
        .collect();
    // Stable: the rules of one field keep garde's order.
    violations.sort_by(|(a, _), (b, _)| a.order.cmp(&b.order));
    Err(violations.into_iter().map(|(_, violation)| violation).collect())
}

#[cfg(test)]
// The impls below are what `#[accord::wire]` generates: the autoref dispatch needs its `&`.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    struct Item {
        unit_price: u32,
    }

    impl WirePath for Item {
        fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
            match path {
                [Segment::Key("unit_price"), rest @ ..] => {
                    out.position(0);
                    out.push_key("unitPrice");
                    (&WirePathOf(&self.unit_price)).wire_path_of(rest, out)
                }
                _ => out.push_verbatim(path),
            }
        }
    }

    impl Validate for Item {
        fn validate(&self) -> Result<(), Vec<Violation>> {
            if self.unit_price == 0 { Err(vec![Violation::new("unitPrice", "must not be 0")]) } else { Ok(()) }
        }
    }

    fn wire(value: &impl WirePath, path: &[Segment<'_>]) -> String {
        let mut out = WirePathBuf::default();
        value.wire_path(path, &mut out);
        out.path
    }

    #[test]
    fn paths_follow_lists_maps_and_options_to_wire_names() {
        let items = vec![Item { unit_price: 1 }, Item { unit_price: 0 }];
        assert_eq!(wire(&items, &[Segment::Index(1), Segment::Key("unit_price")]), "[1].unitPrice");
        // Out of range, or below a type without wire names: kept as reported.
        assert_eq!(wire(&items, &[Segment::Index(7), Segment::Key("unit_price")]), "[7].unit_price");

        let map = BTreeMap::from([("a-b".to_owned(), Item { unit_price: 0 })]);
        assert_eq!(wire(&map, &[Segment::Key("a-b"), Segment::Key("unit_price")]), "a-b.unitPrice");

        let some = Some(Item { unit_price: 0 });
        assert_eq!(wire(&some, &[Segment::Unnamed, Segment::Key("unit_price")]), "unitPrice");
        assert_eq!(wire(&some, &[Segment::Key("unit_price")]), "unitPrice");
        assert_eq!(wire(&Box::new(Item { unit_price: 0 }), &[Segment::Key("other")]), "other");
    }

    #[test]
    fn verbatim_paths_render_like_decode_errors() {
        let mut out = WirePathBuf::default();
        out.push_verbatim(&[Segment::Key("tags"), Segment::Index(2), Segment::Unnamed, Segment::Key("x")]);
        assert_eq!(out.as_str(), "tags[2].x");
        let mut out = WirePathBuf::default();
        out.push_verbatim(&[Segment::Index(0), Segment::Key("x")]);
        assert_eq!(out.as_str(), "[0].x");
    }

    #[test]
    fn containers_validate_every_element_with_its_path() {
        let items = vec![Item { unit_price: 0 }, Item { unit_price: 1 }, Item { unit_price: 0 }];
        let violations = items.validate().unwrap_err();
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["[0].unitPrice", "[2].unitPrice"]);

        let map = HashMap::from([("k", vec![Item { unit_price: 0 }])]);
        assert_eq!(map.validate().unwrap_err()[0].path, "k[0].unitPrice");
        assert_eq!(Some(Item { unit_price: 0 }).validate().unwrap_err()[0].path, "unitPrice");
        assert_eq!((1u32, Item { unit_price: 0 }).validate().unwrap_err()[0].path, "[1].unitPrice");
        assert!(().validate().is_ok());
        assert!(None::<Item>.validate().is_ok());
        assert!(vec!["x".to_owned()].validate().is_ok());
    }

    #[test]
    fn violations_nest_and_display() {
        let v = Violation::new("", "too short").under_key("title");
        assert_eq!(v.path, "title");
        let v = Violation::new("[2].name", "too short").under_key("items").under_key("order");
        assert_eq!(v.path, "order.items[2].name");
        assert_eq!(v.to_string(), "`order.items[2].name`: too short");
        assert_eq!(Violation::new("", "bad").to_string(), "bad");
    }

    #[derive(garde::Validate)]
    struct Inner {
        #[garde(length(min = 1))]
        first_name: String,
    }

    impl WirePath for Inner {
        fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
            match path {
                [Segment::Key("first_name"), rest @ ..] => {
                    out.position(0);
                    out.push_key("firstName");
                    (&WirePathOf(&self.first_name)).wire_path_of(rest, out)
                }
                _ => out.push_verbatim(path),
            }
        }
    }

    // Declared in non-alphabetical order: garde reports `people` first, accord `tags`.
    #[derive(garde::Validate)]
    struct Outer {
        #[garde(inner(length(min = 2)))]
        tags: Vec<String>,
        #[garde(dive)]
        people: Vec<Inner>,
    }

    impl WirePath for Outer {
        fn wire_path(&self, path: &[Segment<'_>], out: &mut WirePathBuf) {
            match path {
                [Segment::Key("tags"), rest @ ..] => {
                    out.position(0);
                    out.push_key("tagList");
                    (&WirePathOf(&self.tags)).wire_path_of(rest, out)
                }
                [Segment::Key("people"), rest @ ..] => {
                    out.position(1);
                    out.push_key("people");
                    (&WirePathOf(&self.people)).wire_path_of(rest, out)
                }
                _ => out.push_verbatim(path),
            }
        }
    }

    #[test]
    fn garde_reports_become_wire_violations() {
        let outer = Outer {
            tags: vec!["x".into(), "ok".into(), "y".into()],
            people: vec![Inner { first_name: "a".into() }, Inner { first_name: String::new() }],
        };
        let violations = garde_violations(&outer).unwrap_err();
        assert_eq!(
            violations,
            [
                Violation::new("tagList[0]", "length is lower than 2"),
                Violation::new("tagList[2]", "length is lower than 2"),
                Violation::new("people[1].firstName", "length is lower than 1"),
            ]
        );
        let valid = Outer { tags: vec!["ok".into()], people: vec![] };
        assert_eq!(garde_violations(&valid), Ok(()));
    }
}
