//! `accord::InputObject` for the wire types that are JSON objects with named fields: structs
//! with named fields that serde does not make transparent. Only those can be a procedure's
//! input (`#[accord::procedures]` asserts it, spanned at the input type).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::serde_view::WireModel;

/// The impl, or nothing when the type is not an object on the wire.
pub(crate) fn expand(input: &DeriveInput, view: &WireModel) -> TokenStream {
    let named = matches!(&input.data, Data::Struct(data) if matches!(data.fields, Fields::Named(_)));
    if !named || view.transparent {
        return TokenStream::new();
    }
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    quote!(impl #impl_generics ::accord::InputObject for #name #type_generics #where_clause {})
}
