//! `#[accord::error]`: makes the user's enum a procedure error with stable codes.
//!
//! Each domain variant becomes `{"code": "VARIANT_NAME", ...fields}` in the error object's
//! `data` (serde's internal tagging, so the TypeScript type is a union discriminated on
//! `code`); the one variant marked `#[accord(rpc)]` carries framework and transport errors and
//! never appears in the schema.

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitInt};

use crate::{attrs, int64};

/// `data.code` values the framework owns (keep in step with `accord::FrameworkCode`).
const FRAMEWORK_CODES: &[&str] = &[
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL",
    "REQUEST_TOO_BIG",
    "BATCH_TOO_BIG",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "TIMEOUT",
    "CONFLICT",
    "RATE_LIMITED",
    "OVERLOADED",
    "UNAVAILABLE",
    "TRANSPORT",
];

const DEFAULT_CODE: i32 = 1000;

struct Variant {
    ident: Ident,
    code: String,
    rpc_code: i32,
    docs: String,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !args.is_empty() {
        return Err(syn::Error::new_spanned(
            args,
            "#[accord::error] takes no arguments; mark variants with #[accord(...)]",
        ));
    }
    let mut input: DeriveInput = syn::parse2(item)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "an accord error type cannot be generic"));
    }
    let Data::Enum(data) = &mut input.data else {
        return Err(syn::Error::new(input.ident.span(), "#[accord::error] goes on an enum, one variant per error"));
    };
    if attrs::serde_sets(&input.attrs, "tag") || attrs::serde_sets(&input.attrs, "untagged") {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[accord::error] sets the serde tag itself (`code`); remove yours",
        ));
    }

    let mut rpc_variant: Option<Ident> = None;
    let mut variants = Vec::new();
    for variant in data.variants.iter_mut() {
        let options = take_options(&mut variant.attrs)?;
        if options.rpc {
            if rpc_variant.is_some() {
                return Err(syn::Error::new(variant.ident.span(), "only one variant can be #[accord(rpc)]"));
            }
            if !matches!(&variant.fields, Fields::Unnamed(f) if f.unnamed.len() == 1) {
                return Err(syn::Error::new(
                    variant.span(),
                    "the #[accord(rpc)] variant holds exactly one accord::RpcError: `Rpc(accord::RpcError)`",
                ));
            }
            variant.attrs.push(syn::parse_quote!(#[serde(skip)]));
            rpc_variant = Some(variant.ident.clone());
            continue;
        }
        if let Fields::Unnamed(fields) = &variant.fields {
            return Err(syn::Error::new(
                fields.span(),
                "error variants carry named fields (`NotFound { id: u32 }`) or none: their fields become the error's `data` object",
            ));
        }
        int64::check_fields(&variant.fields)?;
        if let Some(field) = variant.fields.iter().find(|f| f.ident.as_ref().is_some_and(|i| i == "code")) {
            return Err(syn::Error::new(
                field.span(),
                "a field named `code` would clash with the error's `code` tag; rename it",
            ));
        }
        let code = match attrs::serde_value(&variant.attrs, "rename") {
            Some(code) => code,
            None => {
                // Spelled out rather than left to serde's `rename_all`, which splits acronyms
                // differently (`HTTPError` → `H_T_T_P_ERROR`): one spelling for serde, the
                // schema, TypeScript and `ErrorCase`.
                let code = variant.ident.to_string().to_shouty_snake_case();
                variant.attrs.push(syn::parse_quote!(#[serde(rename = #code)]));
                code
            }
        };
        if FRAMEWORK_CODES.contains(&code.as_str()) {
            return Err(syn::Error::new(
                variant.ident.span(),
                format!(
                    "`{code}` is a framework error code; name the variant after the domain (e.g. `TodoNotFound`) or return it through the #[accord(rpc)] variant"
                ),
            ));
        }
        variants.push(Variant {
            ident: variant.ident.clone(),
            code,
            rpc_code: options.code.unwrap_or(DEFAULT_CODE),
            docs: attrs::docs(&variant.attrs),
        });
    }
    let Some(rpc) = rpc_variant else {
        return Err(syn::Error::new(
            input.ident.span(),
            "an accord error enum needs a variant for framework and transport errors: add `#[accord(rpc)] Rpc(accord::RpcError)`",
        ));
    };

    let name = &input.ident;
    let derives = attrs::wire_derives();
    let codes = variants.iter().map(|v| {
        let (ident, code) = (&v.ident, v.rpc_code);
        quote!(Self::#ident { .. } => #code,)
    });

    let cases = variants.iter().map(|v| {
        let (code, rpc_code, docs) = (&v.code, v.rpc_code, &v.docs);
        quote!(::accord::ErrorCase { code: #code, rpc_code: #rpc_code, docs: #docs })
    });

    // No domain errors: the TypeScript union is empty (`never`); ts-rs cannot infer that from
    // an enum whose every variant is skipped.
    let serde_and_ts = if variants.is_empty() {
        quote!(#[ts(type = "never")])
    } else {
        quote!(#[serde(tag = "code", rename_all_fields = "camelCase")])
    };

    Ok(quote! {
        #derives
        #serde_and_ts
        #input

        impl ::core::convert::From<::accord::RpcError> for #name {
            fn from(error: ::accord::RpcError) -> Self {
                Self::#rpc(error)
            }
        }

        impl ::accord::ProcedureError for #name {
            const CASES: &'static [::accord::ErrorCase] = &[#(#cases),*];

            fn into_rpc_error(self) -> ::accord::RpcError {
                let code: i32 = match &self {
                    Self::#rpc(_) => 0,
                    #(#codes)*
                };
                match self {
                    Self::#rpc(error) => error,
                    domain => ::accord::RpcError {
                        code,
                        message: ::std::string::ToString::to_string(&domain),
                        data: ::accord::__private::serde_json::to_value(&domain).ok(),
                    },
                }
            }

            fn from_rpc_error(error: ::accord::RpcError) -> Self {
                if !::accord::RpcError::is_reserved_code(error.code)
                    && let Some(data) = &error.data
                    && let Ok(domain) = <Self as ::accord::__private::serde::Deserialize>::deserialize(data)
                {
                    return domain;
                }
                Self::#rpc(error)
            }

            fn as_rpc_error(&self) -> ::core::option::Option<&::accord::RpcError> {
                match self {
                    Self::#rpc(error) => ::core::option::Option::Some(error),
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

#[derive(Default)]
struct Options {
    rpc: bool,
    code: Option<i32>,
}

/// Reads and removes `#[accord(rpc)]` / `#[accord(code = N)]` from a variant.
fn take_options(attrs: &mut Vec<syn::Attribute>) -> syn::Result<Options> {
    let mut options = Options::default();
    let mut error = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("accord") {
            return true;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rpc") {
                options.rpc = true;
                Ok(())
            } else if meta.path.is_ident("code") {
                let lit: LitInt = meta.value()?.parse()?;
                let code: i32 = lit.base10_parse()?;
                if (-32768..=-32000).contains(&code) {
                    return Err(syn::Error::new(
                        lit.span(),
                        "codes -32768..=-32000 are reserved by JSON-RPC and Accord; pick another number",
                    ));
                }
                options.code = Some(code);
                Ok(())
            } else {
                Err(meta.error("expected `rpc` or `code = <number>`"))
            }
        });
        if let Err(e) = parsed {
            error.get_or_insert(e);
        }
        false
    });
    match error {
        Some(e) => Err(e),
        None => Ok(options),
    }
}
