//! What serde will do with a wire type, read by serde's own attribute parser.
//!
//! `serde_derive_internals` is the code `serde_derive` itself runs to read `#[serde(...)]`
//! (schemars' derive uses it too), so names, `rename_all` rules, defaults, tags and flattening
//! are read exactly as serde reads them, and serde's own consistency checks run here first.
//!
//! The bindings describe each wire type with one JSON Schema and one TypeScript type, for inputs
//! and outputs alike. Attributes that make what serde writes differ from what it reads, or that
//! schemars and ts-rs cannot follow, would make those descriptions lie; they are refused here
//! with a spanned error saying what to write instead:
//!
//! - `skip_serializing_if` / `skip_serializing` without `default`: the server may leave the
//!   field out, but reading it would require it. With `default` the field is optional both ways
//!   and described so.
//! - `skip_deserializing` alone, a variant's `skip_deserializing`: sent, never read.
//! - `alias`, different `rename`/`rename_all` for serializing and deserializing: two names.
//! - `with`/`serialize_with`/`deserialize_with` without `#[schemars(with/schema_with)]` and
//!   `#[ts(type/as)]` beside them: the representation is the user's, so must be its description.
//! - `from`/`try_from`/`into`, `remote`, `getter`, `other`, `variant_identifier`,
//!   `field_identifier`, an `untagged` variant, `flatten` with `deny_unknown_fields`, and an
//!   internally tagged newtype variant around a value that is not an object.
//!
//! The crate uses syn 3 (as `syn3`), the rest of the macros syn 2; tokens cross between them.

use proc_macro2::{Span, TokenStream};
use serde_derive_internals::ast::{Container, Data, Field, Style};
use serde_derive_internals::attr::{Default as SerdeDefault, Identifier, TagType};
use serde_derive_internals::name::{MultiName, Name};
use serde_derive_internals::{Ctxt, Derive};

/// How an enum tells its variants apart on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    /// `{"Variant": ...}` (serde's default).
    External,
    /// `{"tag": "Variant", ...fields}`.
    Internal,
    /// `{"tag": "Variant", "content": ...}`.
    Adjacent { content: String },
    /// The variant's content alone.
    Untagged,
}

/// One field as serde reads it.
#[derive(Clone, Debug)]
pub(crate) struct WireField {
    /// Its key on the wire (after `rename` and `rename_all`).
    pub name: String,
    /// `#[serde(flatten)]`: its fields sit in the parent object.
    pub flatten: bool,
    /// `default` on the field or the container: it may be left out of an input.
    pub defaulted: bool,
    /// `skip`: never on the wire.
    pub skipped: bool,
}

/// One enum variant as serde reads it.
#[derive(Clone, Debug)]
pub(crate) struct WireVariant {
    /// Its name on the wire (after `rename` and `rename_all`).
    pub name: String,
    pub fields: Vec<WireField>,
}

/// A wire type as serde reads it.
#[derive(Clone, Debug)]
pub(crate) struct WireModel {
    /// The user set `rename_all` on the container.
    pub sets_rename_all: bool,
    /// The user set `rename_all_fields` on the container.
    pub sets_rename_all_fields: bool,
    /// `#[serde(transparent)]`.
    pub transparent: bool,
    /// For an enum: its representation.
    pub tag: Tag,
    /// For a struct: its fields, in declaration order.
    pub fields: Vec<WireField>,
    /// For an enum: its variants, in declaration order.
    pub variants: Vec<WireVariant>,
}

/// Reads `item` (a struct or enum with its attributes) as serde does, and refuses what the
/// bindings could not describe exactly.
pub(crate) fn read(item: TokenStream) -> syn::Result<WireModel> {
    let input: syn3::DeriveInput = syn3::parse2(item).map_err(convert)?;
    let private = proc_macro2::Ident::new("__private", Span::call_site());
    // Serialize first: its checks (e.g. on `getter`) differ from Deserialize's.
    for derive in [Derive::Serialize, Derive::Deserialize] {
        let cx = Ctxt::new();
        let _ = Container::from_ast(&cx, &input, derive, &private);
        cx.check().map_err(convert)?;
    }
    let cx = Ctxt::new();
    let container = Container::from_ast(&cx, &input, Derive::Deserialize, &private);
    cx.check().map_err(convert)?;
    let Some(container) = container else {
        return Err(syn::Error::new(Span::call_site(), "serde cannot derive this type"));
    };
    let mut errors = Refusals::default();
    refuse_container(&container, &mut errors);
    errors.finish()?;
    Ok(model(&container))
}

fn model(container: &Container<'_>) -> WireModel {
    let attrs = &container.attrs;
    let container_default = !matches!(attrs.default(), SerdeDefault::None);
    let field = |f: &Field<'_>| WireField {
        name: f.attrs.name().deserialize_name().value.clone(),
        flatten: f.attrs.flatten(),
        defaulted: container_default || !f.attrs.default().is_none(),
        skipped: f.attrs.skip_serializing() && f.attrs.skip_deserializing(),
    };
    let (fields, variants) = match &container.data {
        Data::Struct(_, fields) => (fields.iter().map(field).collect(), Vec::new()),
        Data::Enum(variants) => (
            Vec::new(),
            variants
                .iter()
                .map(|v| WireVariant {
                    name: v.attrs.name().deserialize_name().value.clone(),
                    fields: v.fields.iter().map(field).collect(),
                })
                .collect(),
        ),
    };
    let tag = match attrs.tag() {
        TagType::External => Tag::External,
        TagType::Internal { .. } => Tag::Internal,
        TagType::Adjacent { content, .. } => Tag::Adjacent { content: content.clone() },
        TagType::None => Tag::Untagged,
    };
    let rules = attrs.rename_all_rules();
    let field_rules = attrs.rename_all_fields_rules();
    let none = serde_derive_internals::attr::RenameRule::None;
    WireModel {
        sets_rename_all: rules.serialize != none || rules.deserialize != none,
        sets_rename_all_fields: field_rules.serialize != none || field_rules.deserialize != none,
        transparent: attrs.transparent(),
        tag,
        fields,
        variants,
    }
}

/// Collected refusals, reported together.
#[derive(Default)]
struct Refusals(Option<syn::Error>);

impl Refusals {
    fn add(&mut self, span: Span, message: impl std::fmt::Display) {
        let error = syn::Error::new(span, message);
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

fn span_of(tokens: &impl syn3::spanned::Spanned) -> Span {
    tokens.span()
}

fn refuse_container(container: &Container<'_>, errors: &mut Refusals) {
    let attrs = &container.attrs;
    let span = span_of(&container.ident);
    if attrs.type_from().is_some() || attrs.type_try_from().is_some() || attrs.type_into().is_some() {
        errors.add(
            span,
            "`#[serde(from/try_from/into)]` hides the wire representation from the bindings: make the wire type \
             the one that is sent, and convert in your code",
        );
    }
    if attrs.remote().is_some() {
        errors.add(span, "`#[serde(remote)]` cannot be a wire type: wrap the foreign type in an #[accord::wire] type");
    }
    if !matches!(attrs.identifier(), Identifier::No) {
        errors.add(span, "`variant_identifier`/`field_identifier` enums cannot be wire types");
    }
    if attrs.name().serialize_name().value != attrs.name().deserialize_name().value {
        errors.add(span, "a wire type has one name: give `rename` one value, not separate serialize/deserialize ones");
    }
    for (rules, key) in
        [(attrs.rename_all_rules(), "rename_all"), (attrs.rename_all_fields_rules(), "rename_all_fields")]
    {
        if rules.serialize != rules.deserialize {
            errors.add(span, format!("`{key}` with different rules for serializing and deserializing would give fields two names: use one rule"));
        }
    }
    match &container.data {
        Data::Struct(_, fields) => {
            for field in fields {
                refuse_field(container, field, errors);
            }
        }
        Data::Enum(variants) => {
            for variant in variants {
                let span = span_of(&variant.ident);
                let v = &variant.attrs;
                if v.other() {
                    errors
                        .add(span, "`#[serde(other)]` accepts any unknown variant, which the bindings cannot describe");
                }
                if v.untagged() {
                    errors.add(span, "an `untagged` variant inside a tagged enum is not described by the bindings: make the whole enum `untagged` or give the variant a tag");
                }
                if has_alias(v.aliases(), v.name()) {
                    errors.add(span, "a variant has one name on the wire: no `alias`, one `rename`");
                }
                if v.skip_deserializing() && !v.skip_serializing() {
                    errors.add(span, "a variant the server sends but never reads (`skip_deserializing`) cannot be described by one schema: use `skip`");
                }
                if v.serialize_with().is_some() || v.deserialize_with().is_some() {
                    errors.add(
                        span,
                        "`serialize_with`/`deserialize_with` on a variant hides its representation from the bindings",
                    );
                }
                if matches!(attrs.tag(), TagType::Internal { .. })
                    && matches!(variant.style, Style::Newtype)
                    && let Some(field) = variant.fields.first()
                    && not_an_object(field.ty)
                {
                    errors.add(
                        span_of(field.ty),
                        "an internally tagged variant holds an object (the tag is added to it): this type is not one; \
                         use a struct variant, or `#[serde(tag = \"...\", content = \"...\")]`",
                    );
                }
                for field in &variant.fields {
                    refuse_field(container, field, errors);
                }
            }
        }
    }
}

fn refuse_field(container: &Container<'_>, field: &Field<'_>, errors: &mut Refusals) {
    let f = &field.attrs;
    let span = field.original.ident.as_ref().map_or_else(|| span_of(&field.original.ty), span_of);
    let defaulted = !f.default().is_none() || !matches!(container.attrs.default(), SerdeDefault::None);
    let may_be_left_out = f.skip_serializing_if().is_some() || (f.skip_serializing() && !f.skip_deserializing());
    if may_be_left_out && !defaulted {
        errors.add(
            span,
            "the server may leave this field out (`skip_serializing_if`/`skip_serializing`), but reading it \
             requires it: add `#[serde(default)]`, so that it is optional both ways, as the bindings describe it",
        );
    }
    if f.skip_deserializing() && !f.skip_serializing() {
        errors.add(
            span,
            "a field the server sends but never reads (`skip_deserializing`) cannot be described by one schema \
             for inputs and outputs: use `skip`, or a separate output type",
        );
    }
    if has_alias(f.aliases(), f.name()) {
        errors.add(
            span,
            "a field has one name on the wire: `alias` and separate serialize/deserialize names are not described \
             by the bindings (to rename a field without breaking clients, add the new field and deprecate the old one)",
        );
    }
    if f.getter().is_some() {
        errors.add(span, "`getter` is for remote types, which cannot be wire types");
    }
    if f.flatten() && container.attrs.deny_unknown_fields() {
        errors.add(span, "serde does not support `flatten` together with `deny_unknown_fields`");
    }
    let custom = f.serialize_with().is_some() || f.deserialize_with().is_some();
    if custom
        && !(has_attr_key(field.original, "schemars", &["with", "schema_with"])
            && has_attr_key(field.original, "ts", &["type", "as"]))
    {
        errors.add(
            span,
            "`with`/`serialize_with`/`deserialize_with` change the representation, so its description is yours too: \
             add `#[schemars(with = \"...\")]` (or `schema_with`) and `#[ts(type = \"...\")]` (or `as`)",
        );
    }
}

/// Whether an item answers to another name than its one wire name (serde lists the name itself
/// among the aliases).
fn has_alias(aliases: &std::collections::BTreeSet<Name>, name: &MultiName) -> bool {
    let wire = &name.deserialize_name().value;
    name.serialize_name().value != *wire || aliases.iter().any(|alias| alias.value != *wire)
}

/// Whether a field has `#[attr(key = ...)]` for one of `keys`.
fn has_attr_key(field: &syn3::Field, attr: &str, keys: &[&str]) -> bool {
    field.attrs.iter().filter(|a| a.path().is_ident(attr)).any(|a| {
        a.meta.require_list().is_ok_and(|list| {
            let tokens = list.tokens.to_string();
            tokens.split(',').any(|part| {
                let key = part.split('=').next().unwrap_or_default().trim();
                part.contains('=') && keys.contains(&key)
            })
        })
    })
}

/// Types that serde cannot flatten an internal tag into (best effort, by name).
fn not_an_object(ty: &syn3::Type) -> bool {
    const SCALARS: &[&str] = &[
        "String", "str", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
        "isize", "f32", "f64", "Vec", "VecDeque", "HashSet", "BTreeSet", "Option", "I53",
    ];
    match ty {
        syn3::Type::Path(path) => {
            path.path.segments.last().is_some_and(|s| SCALARS.contains(&s.ident.to_string().as_str()))
        }
        syn3::Type::Tuple(_) | syn3::Type::Array(_) | syn3::Type::Slice(_) => true,
        syn3::Type::Reference(r) => not_an_object(&r.elem),
        _ => false,
    }
}

/// A syn 3 error as a syn 2 one, keeping every message and span.
fn convert(error: syn3::Error) -> syn::Error {
    let mut out: Option<syn::Error> = None;
    for part in error {
        let converted = syn::Error::new(part.span(), part.to_string());
        match &mut out {
            Some(first) => first.combine(converted),
            None => out = Some(converted),
        }
    }
    out.unwrap_or_else(|| syn::Error::new(Span::call_site(), "serde refused this type"))
}
