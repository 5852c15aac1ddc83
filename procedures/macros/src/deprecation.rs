//! `#[deprecated]` on a wire type, a field or a variant, as the bindings show it.
//!
//! schemars already writes `deprecated: true` into the JSON Schema (and so into `openrpc.json`);
//! ts-rs knows nothing of it, but copies doc comments into JSDoc. So a deprecated item gets one
//! more doc line, `@deprecated <note>`, which editors strike through in TypeScript, and an
//! explicit `#[schemars(description = ...)]` with its original docs, so that the extra line
//! stays out of the JSON Schema.

use syn::{Attribute, Data, DeriveInput, Expr, Lit, Meta};

use crate::attrs;

/// Adds the `@deprecated` doc line to every deprecated item of `input`.
pub(crate) fn mark(input: &mut DeriveInput) {
    mark_item(&mut input.attrs);
    match &mut input.data {
        Data::Struct(data) => data.fields.iter_mut().for_each(|field| mark_item(&mut field.attrs)),
        Data::Enum(data) => {
            for variant in &mut data.variants {
                mark_item(&mut variant.attrs);
                variant.fields.iter_mut().for_each(|field| mark_item(&mut field.attrs));
            }
        }
        Data::Union(_) => {}
    }
}

fn mark_item(attrs: &mut Vec<Attribute>) {
    let Some(deprecated) = attrs.iter().find(|attr| attr.path().is_ident("deprecated")) else { return };
    let note = note(&deprecated.meta);
    // Docs built by macros (`#[doc = include_str!(...)]`) cannot be repeated as a string here;
    // their schema description then carries the tag too, which is harmless.
    let literal_docs = attrs.iter().filter(|attr| attr.path().is_ident("doc")).all(|attr| {
        matches!(&attr.meta, Meta::NameValue(nv) if matches!(&nv.value, Expr::Lit(lit) if matches!(lit.lit, Lit::Str(_))))
    });
    if literal_docs {
        let docs = attrs::docs(attrs);
        // schemars takes a first line starting with `#` as the title, the rest as description.
        let description = match docs.strip_prefix('#') {
            Some(rest) => rest.split_once('\n').map(|(_, body)| body.trim().to_owned()).unwrap_or_default(),
            None => docs,
        };
        attrs.push(syn::parse_quote!(#[schemars(description = #description)]));
    }
    let tag = match note {
        Some(note) => format!(" @deprecated {note}"),
        None => " @deprecated".to_owned(),
    };
    if attrs.iter().any(|attr| attr.path().is_ident("doc")) {
        attrs.push(syn::parse_quote!(#[doc = ""]));
    }
    attrs.push(syn::parse_quote!(#[doc = #tag]));
}

/// The note of `#[deprecated = "..."]` or `#[deprecated(note = "...")]`.
fn note(meta: &Meta) -> Option<String> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Str(text) => Some(text.value()),
                _ => None,
            },
            _ => None,
        },
        Meta::List(list) => {
            let mut note = None;
            let _ = list.parse_nested_meta(|meta| {
                if meta.path.is_ident("note") {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    note = Some(value.value());
                } else if meta.input.peek(syn::Token![=]) {
                    let _: Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            note
        }
        Meta::Path(_) => None,
    }
}
