//! `#[accord::wire]`: one attribute that makes a struct or enum a wire type.
//!
//! It adds the serde, schemars and ts-rs derives (through `accord`'s re-exports, so the user's
//! crate needs no direct dependency on them) and Accord's conventions:
//! - struct fields and enum struct-variant fields are camelCase on the wire (unless the type
//!   sets its own `rename_all`);
//! - `Option` fields may be omitted in TypeScript (`field?: T | null`), matching serde, which
//!   reads a missing field as `None`;
//! - 64-bit integers are refused (see `int64`).

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

    let derives = attrs::wire_derives();
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

    Ok(quote! {
        #derives
        #conventions
        #input
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
