//! `#[accord::wire]`: one attribute that makes a struct or enum a wire type.
//!
//! It adds the serde, schemars and ts-rs derives (through `accord`'s re-exports, so the user's
//! crate needs no direct dependency on them) and Accord's conventions. serde's attributes are
//! read by serde's own parser (see `serde_view`), which also refuses those the bindings could not
//! describe exactly.
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

use crate::serde_view::{self, WireModel};
use crate::{attrs, int64};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(args, "#[accord::wire] takes no arguments"));
    }
    let mut input: DeriveInput = syn::parse2(item)?;
    check(&input)?;
    let written = serde_view::read(quote!(#input))?;

    let mut conventions = TokenStream::new();
    match &input.data {
        Data::Struct(data) => {
            if matches!(data.fields, syn::Fields::Named(_)) {
                if !written.sets_rename_all {
                    conventions.extend(quote!(#[serde(rename_all = "camelCase")]));
                }
                conventions.extend(quote!(#[ts(optional_fields = nullable)]));
            }
        }
        Data::Enum(_) => {
            if !written.sets_rename_all_fields {
                conventions.extend(quote!(#[serde(rename_all_fields = "camelCase")]));
            }
        }
        Data::Union(_) => unreachable!("rejected by check"),
    }
    // What serde will do with the conventions applied: the names the wire (and garde's paths) use.
    let view = serde_view::read(quote!(#conventions #input))?;
    mark_defaulted_fields_optional(&mut input, &view);
    crate::deprecation::mark(&mut input);

    let derives = attrs::wire_derives();
    let validation = validation::expand(&input, &view);

    let validation::Expansion { attrs: validation_attrs, impls: validation_impls } = validation;
    let input_object = crate::input_object::expand(&input, &view);
    Ok(quote! {
        #derives
        #validation_attrs
        #conventions
        #input
        #validation_impls
        #input_object
    })
}

/// A field with `#[serde(default)]` (its own or its container's) may be left out of an input,
/// so TypeScript must not require it (`field?: T`). ts-rs only infers that when serialization
/// may skip it too, and never from a container's `default`.
fn mark_defaulted_fields_optional(input: &mut DeriveInput, view: &WireModel) {
    let fields: Vec<&mut syn::Field> = match &mut input.data {
        Data::Struct(data) => data.fields.iter_mut().collect(),
        Data::Enum(data) => data.variants.iter_mut().flat_map(|v| v.fields.iter_mut()).collect(),
        Data::Union(_) => Vec::new(),
    };
    let wire_fields = view.fields.iter().chain(view.variants.iter().flat_map(|v| &v.fields));
    for (field, wire) in fields.into_iter().zip(wire_fields) {
        let defaulted = wire.defaulted && !wire.skipped && !wire.flatten;
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
    use syn::spanned::Spanned;
    use syn::{Attribute, Data, DeriveInput, Fields, Ident};

    use crate::serde_view::{Tag, WireField, WireModel};

    pub(super) struct Expansion {
        /// Attributes to put on the type (the garde derive).
        pub attrs: TokenStream,
        /// Items after the type (the impls).
        pub impls: TokenStream,
    }

    pub(super) fn expand(input: &DeriveInput, view: &WireModel) -> Expansion {
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
        impls.extend(wire_path(input, view));
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

    /// The body that maps `__accord_path` below one set of fields, named on the wire as `wire`
    /// says (serde's names, in declaration order).
    fn fields_body(
        fields: &Fields,
        values: &[TokenStream],
        wire: &[WireField],
        serde_transparent: bool,
        garde_transparent: bool,
    ) -> TokenStream {
        let newtype = matches!(fields, Fields::Unnamed(f) if f.unnamed.len() == 1);
        let wire_segment = |index: usize, field: &syn::Field| -> WireSegment {
            let flatten = wire.get(index).is_some_and(|w| w.flatten);
            match (&field.ident, wire.get(index)) {
                _ if serde_transparent || flatten => WireSegment::None,
                (Some(_), Some(wire)) => WireSegment::Key(wire.name.clone()),
                (Some(ident), None) => WireSegment::Key(ident.to_string()),
                (None, _) if newtype => WireSegment::None,
                (None, _) => WireSegment::Index(index),
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

    fn wire_path(input: &DeriveInput, view: &WireModel) -> TokenStream {
        let ident = &input.ident;
        let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
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
                fields_body(&data.fields, &values, &view.fields, view.transparent, garde_transparent)
            }
            Data::Enum(data) => {
                let arms = data.variants.iter().zip(&view.variants).map(|(variant, wire)| {
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
                    // Where the variant's content sits: under its name (externally tagged), under
                    // the content key (adjacently tagged), or beside the tag / alone.
                    let prefix = match &view.tag {
                        Tag::External => WireSegment::Key(wire.name.clone()),
                        Tag::Adjacent { content } => WireSegment::Key(content.clone()),
                        Tag::Internal | Tag::Untagged => WireSegment::None,
                    };
                    let prefix = push(&prefix);
                    let values: Vec<TokenStream> = bindings.iter().map(|b| quote!(#b)).collect();
                    let body = fields_body(&variant.fields, &values, &wire.fields, false, garde_transparent);
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
}

#[cfg(test)]
mod tests {
    use super::validation::mentions_garde;

    #[test]
    fn finds_garde_in_a_manifest() {
        assert!(mentions_garde("[dependencies]\ngarde = \"0.23\"\n"));
        assert!(mentions_garde("[dependencies]\ngarde.workspace = true\n"));
        assert!(mentions_garde("[dependencies.garde]\nversion = \"0.23\"\n"));
        assert!(!mentions_garde("[dependencies]\nserde = \"1\" # not garde-rs\nregarded = \"1\"\n"));
    }
}
