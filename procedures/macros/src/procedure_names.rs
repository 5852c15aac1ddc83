//! Typed procedure names: one constant per procedure on `<Trait>Api` (`TodosApi::GET`), so that
//! a server's policies name procedures the compiler knows, not strings.

use heck::ToShoutySnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Visibility};

/// `impl <Trait>Api { pub const METHOD: accord::ProcedureName = ...; }` for `(rust name,
/// wire name)` pairs.
pub(crate) fn expand(vis: &Visibility, api: &Ident, procedures: &[(Ident, String)]) -> TokenStream {
    let constants = procedures.iter().map(|(ident, wire_name)| {
        let constant = format_ident!("{}", ident.to_string().to_shouty_snake_case(), span = ident.span());
        let doc = format!(
            "`{wire_name}`, by name: for a server's policies (`builder.procedure({api}::{constant}, policy)`)."
        );
        quote! {
            #[doc = #doc]
            #vis const #constant: ::accord::ProcedureName = ::accord::ProcedureName::new(#wire_name);
        }
    });
    quote! {
        impl #api {
            #(#constants)*
        }
    }
}
