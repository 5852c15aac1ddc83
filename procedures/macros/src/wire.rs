//! `#[accord::wire]`: one attribute that makes a struct or enum a wire type.
//!
//! It adds the serde, schemars and ts-rs derives (through `accord`'s re-exports, so the user's
//! crate needs no direct dependency on them) and Accord's conventions:
//! - struct fields and enum struct-variant fields are camelCase on the wire (unless the type
//!   sets its own `rename_all`);
//! - `Option` fields may be omitted in TypeScript (`field?: T | null`), matching serde, which
//!   reads a missing field as `None`;
//! - 64-bit integers are refused (see `int64`);
//! - `accord::Validate` is implemented: through garde when the type has `#[garde(...)]` rules
//!   (see `validation`), as "always valid" otherwise.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput};

use crate::{attrs, int64};

pub fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(args, "#[accord::wire] takes no arguments"));
    }
    let mut input: DeriveInput = syn::parse2(item)?;
    check(&input)?;
    mark_defaulted_fields_optional(&mut input);
    crate::deprecation::mark(&mut input);

    let derives = attrs::wire_derives();
    let validation = validation::expand(&input);
    let mut conventions = TokenStream::new();
    match &input.data {
        Data::Struct(data) => {
            if matches!(data.fields, syn::Fields::Named(_)) {
                if !attrs::serde_sets(&input.attrs, "rename_all") {
                    conventions.extend(quote!(#[serde(rename_all = "camelCase")]));
                }
                conventions.extend(quote!(#[ts(optional_fields = nullable)]));
            }
        }
        Data::Enum(_) => {
            if !attrs::serde_sets(&input.attrs, "rename_all_fields") {
                conventions.extend(quote!(#[serde(rename_all_fields = "camelCase")]));
            }
        }
        Data::Union(_) => unreachable!("rejected by check"),
    }

    let validation::Expansion { attrs: validation_attrs, impls: validation_impls } = validation;
    Ok(quote! {
        #derives
        #validation_attrs
        #conventions
        #input
        #validation_impls
    })
}

/// A field with `#[serde(default)]` may be left out of an input, so TypeScript must not
/// require it (`field?: T`). ts-rs only infers that when serialization may skip it too.
fn mark_defaulted_fields_optional(input: &mut DeriveInput) {
    let fields: Vec<&mut syn::Field> = match &mut input.data {
        Data::Struct(data) => data.fields.iter_mut().collect(),
        Data::Enum(data) => data.variants.iter_mut().flat_map(|v| v.fields.iter_mut()).collect(),
        Data::Union(_) => Vec::new(),
    };
    for field in fields {
        let defaulted = attrs::serde_sets(&field.attrs, "default");
        let has_ts_optional = field.attrs.iter().any(|a| {
            a.path().is_ident("ts") && a.meta.require_list().is_ok_and(|l| l.tokens.to_string().contains("optional"))
        });
        if defaulted && !has_ts_optional {
            field.attrs.push(syn::parse_quote!(#[ts(optional = nullable)]));
        }
    }
}

fn check(input: &DeriveInput) -> syn::Result<()> {
    match &input.data {
        Data::Struct(data) => int64::check_fields(&data.fields),
        Data::Enum(data) => data.variants.iter().try_for_each(|v| int64::check_fields(&v.fields)),
        Data::Union(u) => {
            Err(syn::Error::new(u.union_token.span, "a union cannot be a wire type: use a struct or an enum"))
        }
    }
}

/// `accord::Validate` for a wire type, and the wire names of its validation paths.
///
/// A type with any `#[garde(...)]` attribute derives `garde::Validate` (with
/// `#[garde(allow_unvalidated)]`, so that only the constrained fields need an attribute) and
/// implements `accord::Validate` through it. garde reports paths in Rust field names; the
/// generated `accord::__private::WirePath` impl maps each segment to serde's name for it (its
/// `rename`, else the `rename_all` rule, camelCase by default), following the value so that a
/// nested type, a list element or an enum variant maps its own segments. A type without garde
/// attributes is "always valid" (for `accord::Validate` and `garde::Validate`, the latter
/// through accord's re-export) and needs no garde dependency.
mod validation {
    use proc_macro2::{Span, TokenStream};
    use quote::{format_ident, quote, quote_spanned};
    use syn::ext::IdentExt;
    use syn::spanned::Spanned;
    use syn::{Attribute, Data, DeriveInput, Fields, Ident};

    pub struct Expansion {
        /// Attributes to put on the type (the garde derive).
        pub attrs: TokenStream,
        /// Items after the type (the impls).
        pub impls: TokenStream,
    }

    pub fn expand(input: &DeriveInput) -> Expansion {
        let Some(first_rule) = first_garde_attr(input) else {
            return Expansion { attrs: TokenStream::new(), impls: always_valid(input) };
        };
        if garde_dependency_missing() {
            let error = quote_spanned! {first_rule=>
                ::core::compile_error!(
                    "`#[garde(...)]` validation rules need `garde` in this crate's [dependencies] (garde's derive \
                     refers to `::garde`): add `garde = \"0.23\"`, the version accord uses"
                );
            };
            let mut impls = always_valid(input);
            impls.extend(error);
            return Expansion { attrs: TokenStream::new(), impls };
        }

        let mut attrs = TokenStream::new();
        if !derives_validate(&input.attrs) {
            // `::garde`, not accord's re-export: garde's derive refers to `::garde` anyway, and
            // the derive must match the user's garde.
            attrs.extend(quote!(#[derive(::garde::Validate)]));
        }
        if !garde_sets(&input.attrs, "allow_unvalidated") {
            attrs.extend(quote!(#[garde(allow_unvalidated)]));
        }
        let mut impls = garde_validate(input);
        impls.extend(wire_path(input));
        Expansion { attrs, impls }
    }

    /// The span of the first `#[garde(...)]` on the type, a variant or a field.
    fn first_garde_attr(input: &DeriveInput) -> Option<Span> {
        let fields: Vec<&syn::Field> = match &input.data {
            Data::Struct(data) => data.fields.iter().collect(),
            Data::Enum(data) => data.variants.iter().flat_map(|v| v.fields.iter()).collect(),
            Data::Union(_) => Vec::new(),
        };
        let variants: Vec<&syn::Variant> = match &input.data {
            Data::Enum(data) => data.variants.iter().collect(),
            _ => Vec::new(),
        };
        input
            .attrs
            .iter()
            .chain(variants.iter().flat_map(|v| &v.attrs))
            .chain(fields.iter().flat_map(|f| &f.attrs))
            .find(|a| a.path().is_ident("garde"))
            .map(|a| a.span())
    }

    /// Whether the user derives `Validate` (garde's) already.
    fn derives_validate(attrs: &[Attribute]) -> bool {
        attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
            a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .is_ok_and(|paths| paths.iter().any(|p| p.segments.last().is_some_and(|s| s.ident == "Validate")))
        })
    }

    fn garde_sets(attrs: &[Attribute], key: &str) -> bool {
        attrs.iter().filter(|a| a.path().is_ident("garde")).any(|a| {
            a.meta.require_list().is_ok_and(|l| {
                l.tokens.clone().into_iter().any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i == key))
            })
        })
    }

    /// garde's derive refers to `::garde`, which only resolves if the user's crate depends on it.
    /// Best effort: when the manifest is readable and never mentions `garde`, say so clearly
    /// instead of letting the derive fail with unresolved paths.
    fn garde_dependency_missing() -> bool {
        let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else { return false };
        match std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")) {
            Ok(manifest) => !mentions_garde(&manifest),
            Err(_) => false,
        }
    }

    pub(super) fn mentions_garde(manifest: &str) -> bool {
        manifest.lines().any(|line| {
            let line = line.split('#').next().unwrap_or_default();
            line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).any(|word| word == "garde")
        })
    }

    /// A type without rules is always valid, for accord and for garde: garde's impl (through
    /// accord's re-export, so no garde dependency is needed) lets a type with rules
    /// `#[garde(dive)]` into any wire type.
    fn always_valid(input: &DeriveInput) -> TokenStream {
        let ident = &input.ident;
        let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
        let garde = (!derives_validate(&input.attrs)).then(|| {
            quote! {
                impl #impl_generics ::accord::__private::garde::Validate for #ident #ty_generics #where_clause {
                    type Context = ();

                    #[inline]
                    fn validate_into(
                        &self,
                        _: &Self::Context,
                        _: &mut dyn ::core::ops::FnMut() -> ::accord::__private::garde::Path,
                        _: &mut ::accord::__private::garde::Report,
                    ) {
                    }
                }
            }
        });
        quote! {
            impl #impl_generics ::accord::Validate for #ident #ty_generics #where_clause {
                #[inline]
                fn validate(&self) -> ::core::result::Result<(), ::std::vec::Vec<::accord::Violation>> {
                    ::core::result::Result::Ok(())
                }
            }
            #garde
        }
    }

    fn garde_validate(input: &DeriveInput) -> TokenStream {
        let ident = &input.ident;
        let mut generics = input.generics.clone();
        if !generics.params.is_empty() {
            let where_clause = generics.make_where_clause();
            where_clause.predicates.push(syn::parse_quote!(Self: ::accord::__private::garde::Validate));
            where_clause.predicates.push(syn::parse_quote!(
                <Self as ::accord::__private::garde::Validate>::Context: ::core::default::Default
            ));
        }
        let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
        quote! {
            impl #impl_generics ::accord::Validate for #ident #ty_generics #where_clause {
                fn validate(&self) -> ::core::result::Result<(), ::std::vec::Vec<::accord::Violation>> {
                    ::accord::__private::garde_violations(self)
                }
            }
        }
    }

    /// How a field appears in a wire path.
    enum WireSegment {
        /// `.name`
        Key(String),
        /// `[index]`
        Index(usize),
        /// Nothing: a flattened field, a newtype's content.
        None,
    }

    /// How one field's garde segment maps to the wire: the arm of a `match` on the path.
    fn field_arm(index: usize, field: &syn::Field, wire: WireSegment, value: TokenStream) -> TokenStream {
        // garde's segment: the field's Rust name (as `Ident::to_string` spells it), or its index.
        let pattern = match &field.ident {
            Some(ident) => {
                let key = ident.to_string();
                quote!(::accord::__private::Segment::Key(#key))
            }
            None => quote!(::accord::__private::Segment::Index(#index)),
        };
        let push = push(&wire);
        quote! {
            [#pattern, __accord_rest @ ..] => {
                __accord_out.position(#index);
                #push
                (&::accord::__private::WirePathOf(#value)).wire_path_of(__accord_rest, __accord_out)
            }
        }
    }

    fn push(wire: &WireSegment) -> TokenStream {
        match wire {
            WireSegment::Key(key) => quote!(__accord_out.push_key(#key);),
            WireSegment::Index(index) => quote!(__accord_out.push_index(#index);),
            WireSegment::None => TokenStream::new(),
        }
    }

    /// The body that maps `__accord_path` below one set of fields.
    fn fields_body(
        fields: &Fields,
        values: &[TokenStream],
        rename_all: Option<RenameRule>,
        serde_transparent: bool,
        garde_transparent: bool,
    ) -> TokenStream {
        let newtype = matches!(fields, Fields::Unnamed(f) if f.unnamed.len() == 1);
        let wire_segment = |index: usize, field: &syn::Field| -> WireSegment {
            let serde = SerdeAttrs::of(&field.attrs);
            match &field.ident {
                _ if serde_transparent || serde.flag("flatten") => WireSegment::None,
                Some(ident) => WireSegment::Key(serde.value("rename").unwrap_or_else(|| {
                    let name = ident.unraw().to_string();
                    rename_all.map_or(name.clone(), |rule| rule.apply_to_field(&name))
                })),
                None if newtype => WireSegment::None,
                None => WireSegment::Index(index),
            }
        };
        if garde_transparent && let Some(field) = fields.iter().next() {
            // garde adds no segment for the one field; the wire may have one.
            let push = push(&wire_segment(0, field));
            let value = &values[0];
            return quote! {
                #push
                (&::accord::__private::WirePathOf(#value)).wire_path_of(__accord_path, __accord_out)
            };
        }
        let arms = fields
            .iter()
            .enumerate()
            .map(|(index, field)| field_arm(index, field, wire_segment(index, field), values[index].clone()));
        quote! {
            match __accord_path {
                #(#arms)*
                _ => __accord_out.push_verbatim(__accord_path),
            }
        }
    }

    fn wire_path(input: &DeriveInput) -> TokenStream {
        let ident = &input.ident;
        let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
        let container = SerdeAttrs::of(&input.attrs);
        let garde_transparent = garde_sets(&input.attrs, "transparent");
        let body = match &input.data {
            Data::Struct(data) => {
                let values: Vec<TokenStream> = data
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(index, field)| match &field.ident {
                        Some(ident) => quote!(&self.#ident),
                        None => {
                            let index = syn::Index::from(index);
                            quote!(&self.#index)
                        }
                    })
                    .collect();
                // #[accord::wire] sets camelCase on named structs unless the type chose its own.
                let rename_all = match container.value("rename_all") {
                    Some(rule) => RenameRule::parse(&rule),
                    None => Some(RenameRule::CamelCase),
                };
                fields_body(&data.fields, &values, rename_all, container.flag("transparent"), garde_transparent)
            }
            Data::Enum(data) => {
                let variant_rule = container.value("rename_all").and_then(|r| RenameRule::parse(&r));
                let fields_rule = match container.value("rename_all_fields") {
                    Some(rule) => RenameRule::parse(&rule),
                    None => Some(RenameRule::CamelCase),
                };
                let tag = container.value("tag");
                let content = container.value("content");
                let untagged = container.flag("untagged");
                let arms = data.variants.iter().map(|variant| {
                    let name = &variant.ident;
                    let bindings: Vec<Ident> =
                        (0..variant.fields.len()).map(|i| format_ident!("__accord_field_{}", i)).collect();
                    let pattern = match &variant.fields {
                        Fields::Named(fields) => {
                            let names = fields.named.iter().map(|f| f.ident.as_ref());
                            quote!(Self::#name { #(#names: #bindings),* })
                        }
                        Fields::Unnamed(_) => quote!(Self::#name(#(#bindings),*)),
                        Fields::Unit => quote!(Self::#name),
                    };
                    if variant.fields.is_empty() {
                        return quote!(#pattern => __accord_out.push_verbatim(__accord_path),);
                    }
                    let serde = SerdeAttrs::of(&variant.attrs);
                    let variant_name = serde.value("rename").unwrap_or_else(|| {
                        let name = name.unraw().to_string();
                        variant_rule.map_or(name.clone(), |rule| rule.apply_to_variant(&name))
                    });
                    // Where the variant's content sits: under its name (externally tagged), under
                    // the content key (adjacently tagged), or beside the tag / alone.
                    let prefix = match (&tag, &content) {
                        _ if untagged => WireSegment::None,
                        (Some(_), Some(content)) => WireSegment::Key(content.clone()),
                        (Some(_), None) => WireSegment::None,
                        (None, _) => WireSegment::Key(variant_name),
                    };
                    let prefix = push(&prefix);
                    let rule = serde.value("rename_all").and_then(|r| RenameRule::parse(&r)).or(fields_rule);
                    let values: Vec<TokenStream> = bindings.iter().map(|b| quote!(#b)).collect();
                    let body = fields_body(&variant.fields, &values, rule, false, garde_transparent);
                    quote!(#pattern => { #prefix #body })
                });
                quote! {
                    if __accord_path.is_empty() {
                        return;
                    }
                    match self {
                        #(#arms)*
                    }
                }
            }
            Data::Union(_) => unreachable!("rejected by check"),
        };
        quote! {
            impl #impl_generics ::accord::__private::WirePath for #ident #ty_generics #where_clause {
                #[allow(unused_variables, clippy::match_single_binding, clippy::needless_borrow)]
                fn wire_path(
                    &self,
                    __accord_path: &[::accord::__private::Segment<'_>],
                    __accord_out: &mut ::accord::__private::WirePathBuf,
                ) {
                    #[allow(unused_imports)]
                    use ::accord::__private::{ViaVerbatim as _, ViaWirePath as _};
                    #body
                }
            }
        }
    }

    /// The serde attributes of an item, as far as names go: `key = "value"` (or the
    /// `deserialize` side of `key(serialize = "...", deserialize = "...")`: inputs are
    /// deserialized) and bare flags.
    struct SerdeAttrs(Vec<(String, Option<String>)>);

    impl SerdeAttrs {
        fn of(attrs: &[Attribute]) -> Self {
            let mut found = Vec::new();
            for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
                let _ = attr.parse_nested_meta(|meta| {
                    let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                    if meta.input.peek(syn::Token![=]) {
                        let value: syn::Expr = meta.value()?.parse()?;
                        let value = match value {
                            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                            _ => None,
                        };
                        found.push((key, value));
                    } else if meta.input.peek(syn::token::Paren) {
                        let mut deserialize = None;
                        let _ = meta.parse_nested_meta(|inner| {
                            if inner.path.is_ident("deserialize") {
                                let lit: syn::LitStr = inner.value()?.parse()?;
                                deserialize = Some(lit.value());
                            } else if inner.input.peek(syn::Token![=]) {
                                let _: syn::Expr = inner.value()?.parse()?;
                            }
                            Ok(())
                        });
                        if deserialize.is_some() {
                            found.push((key, deserialize));
                        }
                    } else {
                        found.push((key, None));
                    }
                    Ok(())
                });
            }
            Self(found)
        }

        fn value(&self, key: &str) -> Option<String> {
            self.0.iter().find(|(k, v)| k == key && v.is_some()).and_then(|(_, v)| v.clone())
        }

        fn flag(&self, key: &str) -> bool {
            self.0.iter().any(|(k, _)| k == key)
        }
    }

    /// serde's `rename_all` rules, applied as serde applies them.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(super) enum RenameRule {
        Lower,
        Upper,
        Pascal,
        CamelCase,
        Snake,
        ScreamingSnake,
        Kebab,
        ScreamingKebab,
    }

    impl RenameRule {
        pub(super) fn parse(rule: &str) -> Option<Self> {
            Some(match rule {
                "lowercase" => Self::Lower,
                "UPPERCASE" => Self::Upper,
                "PascalCase" => Self::Pascal,
                "camelCase" => Self::CamelCase,
                "snake_case" => Self::Snake,
                "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
                "kebab-case" => Self::Kebab,
                "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
                _ => return None,
            })
        }

        /// A Rust field name (snake_case) on the wire.
        pub(super) fn apply_to_field(self, field: &str) -> String {
            match self {
                Self::Lower | Self::Snake => field.to_owned(),
                Self::Upper | Self::ScreamingSnake => field.to_ascii_uppercase(),
                Self::Pascal => {
                    let mut pascal = String::new();
                    let mut capitalize = true;
                    for ch in field.chars() {
                        if ch == '_' {
                            capitalize = true;
                        } else if capitalize {
                            pascal.push(ch.to_ascii_uppercase());
                            capitalize = false;
                        } else {
                            pascal.push(ch);
                        }
                    }
                    pascal
                }
                Self::CamelCase => {
                    let pascal = Self::Pascal.apply_to_field(field);
                    let mut chars = pascal.chars();
                    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
                }
                Self::Kebab => field.replace('_', "-"),
                Self::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
            }
        }

        /// A Rust variant name (PascalCase) on the wire.
        pub(super) fn apply_to_variant(self, variant: &str) -> String {
            match self {
                Self::Pascal => variant.to_owned(),
                Self::Lower => variant.to_ascii_lowercase(),
                Self::Upper => variant.to_ascii_uppercase(),
                Self::CamelCase => {
                    let mut chars = variant.chars();
                    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
                }
                Self::Snake => {
                    let mut snake = String::new();
                    for (i, ch) in variant.char_indices() {
                        if i > 0 && ch.is_uppercase() {
                            snake.push('_');
                        }
                        snake.push(ch.to_ascii_lowercase());
                    }
                    snake
                }
                Self::ScreamingSnake => Self::Snake.apply_to_variant(variant).to_ascii_uppercase(),
                Self::Kebab => Self::Snake.apply_to_variant(variant).replace('_', "-"),
                Self::ScreamingKebab => Self::ScreamingSnake.apply_to_variant(variant).replace('_', "-"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::validation::{RenameRule, mentions_garde};

    #[test]
    fn rename_rules_match_serde() {
        let field = |rule: &str, name: &str| RenameRule::parse(rule).unwrap().apply_to_field(name);
        assert_eq!(field("camelCase", "created_at_ms"), "createdAtMs");
        assert_eq!(field("PascalCase", "created_at"), "CreatedAt");
        assert_eq!(field("SCREAMING-KEBAB-CASE", "created_at"), "CREATED-AT");
        assert_eq!(field("kebab-case", "created_at"), "created-at");
        assert_eq!(field("snake_case", "created_at"), "created_at");
        let variant = |rule: &str, name: &str| RenameRule::parse(rule).unwrap().apply_to_variant(name);
        assert_eq!(variant("snake_case", "NotFound"), "not_found");
        assert_eq!(variant("camelCase", "NotFound"), "notFound");
        assert_eq!(variant("SCREAMING_SNAKE_CASE", "NotFound"), "NOT_FOUND");
        assert_eq!(variant("kebab-case", "NotFound"), "not-found");
        assert!(RenameRule::parse("Title Case").is_none());
    }

    #[test]
    fn finds_garde_in_a_manifest() {
        assert!(mentions_garde("[dependencies]\ngarde = \"0.23\"\n"));
        assert!(mentions_garde("[dependencies]\ngarde.workspace = true\n"));
        assert!(mentions_garde("[dependencies.garde]\nversion = \"0.23\"\n"));
        assert!(!mentions_garde("[dependencies]\nserde = \"1\" # not garde-rs\nregarded = \"1\"\n"));
    }
}
