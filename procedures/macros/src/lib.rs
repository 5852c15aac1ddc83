//! Procedural macros of Accord. Use them through the `accord` crate (`#[accord::procedures]`,
//! `#[accord::wire]`, `#[accord::error]`), which documents them; this crate only generates code.
//!
//! Every misuse is reported as a spanned `compile_error!`; nothing here panics on user input.

#![warn(missing_docs, unreachable_pub)]

mod attrs;
mod deprecation;
mod error;
mod input_object;
mod int64;
mod procedure_names;
mod procedures;
mod serde_view;
mod wire;

use proc_macro::TokenStream;

/// Defines an API from a trait. See `accord::procedures` for the full documentation.
#[proc_macro_attribute]
pub fn procedures(args: TokenStream, item: TokenStream) -> TokenStream {
    procedures::expand(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes a struct or enum a wire type: serde, JSON Schema and TypeScript from one attribute.
#[proc_macro_attribute]
pub fn wire(args: TokenStream, item: TokenStream) -> TokenStream {
    wire::expand(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an enum a procedure error type with stable codes.
#[proc_macro_attribute]
pub fn error(args: TokenStream, item: TokenStream) -> TokenStream {
    error::expand(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
