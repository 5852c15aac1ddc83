//! Small helpers over attributes shared by the three macros.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Attribute;

/// The `#[doc = "..."]` lines of an item, joined, with the single leading space rustdoc adds
/// removed.
pub(crate) fn docs(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value
        {
            let line = s.value();
            lines.push(line.strip_prefix(' ').map(str::to_owned).unwrap_or(line));
        }
    }
    lines.join("\n").trim().to_owned()
}

/// Whether any `#[serde(...)]` attribute sets `key` (e.g. `rename_all`, `tag`).
pub(crate) fn serde_sets(attrs: &[Attribute], key: &str) -> bool {
    serde_value(attrs, key).is_some() || serde_flag(attrs, key)
}

/// The string value of `#[serde(key = "...")]`, if set.
pub(crate) fn serde_value(attrs: &[Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                if let Ok(value) = meta.value() {
                    let lit: syn::LitStr = value.parse()?;
                    found = Some(lit.value());
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
    }
    found
}

fn serde_flag(attrs: &[Attribute], key: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| a.meta.require_list().is_ok_and(|l| l.tokens.to_string().split(',').any(|t| t.trim() == key)))
}

/// The derives and crate paths that make a type a wire type.
pub(crate) fn wire_derives() -> TokenStream {
    quote! {
        #[derive(
            ::accord::__private::serde::Serialize,
            ::accord::__private::serde::Deserialize,
            ::accord::__private::schemars::JsonSchema,
            ::accord::__private::ts_rs::TS
        )]
        #[serde(crate = "::accord::__private::serde")]
        #[schemars(crate = "::accord::__private::schemars")]
        #[ts(crate = "::accord::__private::ts_rs")]
    }
}
