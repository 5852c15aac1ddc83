//! `#[accord::procedures(namespace = "...")]`: a trait becomes an API.
//!
//! From the trait this generates, beside the trait itself (with each `async fn` turned into a
//! `fn -> impl Future + Send`, so servers can spawn the calls):
//! - `<Trait>Api`, a marker type with the static `Description` and `handlers(implementation)`;
//! - `<Trait>Client<T>`, which implements the trait over any `accord::Transport`.

use std::collections::HashMap;

use heck::ToLowerCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemTrait, LitStr, ReturnType, TraitItem, TraitItemFn, Type};

use crate::attrs;

#[derive(Clone, Copy)]
enum Kind {
    Query,
    Mutation,
    Subscription,
}

struct Procedure {
    ident: Ident,
    method: String,
    kind: Kind,
    authenticated: bool,
    /// `#[deprecated]` (kept in `attrs` too, so the trait method is deprecated in Rust).
    deprecated: bool,
    /// `#[mutation(idempotent)]`: repeating the call has the same effect as making it once.
    idempotent: bool,
    docs: String,
    attrs: Vec<syn::Attribute>,
    cx_ty: Type,
    input: Option<Type>,
    output: Type,
    /// For a subscription, `Stream<Item, Error>`'s item (inside `Tracked<..>` for a tracked
    /// one); otherwise the output itself.
    item: Type,
    /// A subscription whose items are `Tracked<Item>`.
    tracked: bool,
    error: Type,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let namespace = parse_namespace(args)?;
    let item: ItemTrait = syn::parse2(item)?;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(&item.generics, "a procedures trait cannot be generic"));
    }

    let mut procedures = Vec::new();
    let mut wire_names: HashMap<String, Span> = HashMap::new();
    for trait_item in &item.items {
        let TraitItem::Fn(f) = trait_item else {
            return Err(syn::Error::new_spanned(trait_item, "a procedures trait holds only procedures (`async fn`s)"));
        };
        let procedure = parse_procedure(f)?;
        if let Some(_first) = wire_names.insert(procedure.method.clone(), procedure.ident.span()) {
            return Err(syn::Error::new(
                procedure.ident.span(),
                format!("two procedures map to the wire name `{namespace}.{}`", procedure.method),
            ));
        }
        procedures.push(procedure);
    }
    if procedures.is_empty() {
        return Err(syn::Error::new(item.ident.span(), "a procedures trait needs at least one procedure"));
    }

    let trait_def = trait_definition(&item, &procedures);
    let api = api(&item, &namespace, &procedures);
    let client = client(&item, &namespace, &procedures);
    let names: Vec<(Ident, String)> =
        procedures.iter().map(|p| (p.ident.clone(), format!("{namespace}.{}", p.method))).collect();
    let names = crate::procedure_names::expand(&item.vis, &format_ident!("{}Api", item.ident), &names);
    Ok(quote! {
        #trait_def
        #api
        #client
        #names
    })
}

fn parse_namespace(args: TokenStream) -> syn::Result<String> {
    let mut namespace: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("namespace") {
            namespace = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("expected `namespace = \"...\"`"))
        }
    });
    syn::parse::Parser::parse2(parser, args)?;
    let Some(lit) = namespace else {
        return Err(syn::Error::new(
            Span::call_site(),
            "missing `namespace = \"...\"`: it prefixes every wire method name",
        ));
    };
    let value = lit.value();
    let mut chars = value.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric());
    if !valid {
        return Err(syn::Error::new(lit.span(), "a namespace is a lowerCamelCase identifier: [a-z][a-zA-Z0-9]*"));
    }
    Ok(value)
}

fn parse_procedure(f: &TraitItemFn) -> syn::Result<Procedure> {
    let sig = &f.sig;
    let mut kinds = Vec::new();
    let mut attrs = Vec::new();
    let mut authenticated = false;
    let mut idempotent = false;
    for attr in &f.attrs {
        let kind = if attr.path().is_ident("query") {
            Some(Kind::Query)
        } else if attr.path().is_ident("mutation") {
            Some(Kind::Mutation)
        } else if attr.path().is_ident("subscription") {
            Some(Kind::Subscription)
        } else {
            None
        };
        match kind {
            Some(kind) => {
                if let syn::Meta::List(_) = &attr.meta {
                    attr.parse_nested_meta(|meta| {
                        if meta.path.is_ident("authenticated") {
                            authenticated = true;
                            Ok(())
                        } else if meta.path.is_ident("idempotent") {
                            match kind {
                                Kind::Mutation => {
                                    idempotent = true;
                                    Ok(())
                                }
                                Kind::Query => {
                                    Err(meta
                                        .error("queries are always safe to retry: `idempotent` is for #[mutation]s"))
                                }
                                Kind::Subscription => {
                                    Err(meta.error("`idempotent` is for #[mutation]s, not subscriptions"))
                                }
                            }
                        } else if let Kind::Mutation = kind {
                            Err(meta.error("expected `authenticated` or `idempotent`"))
                        } else {
                            Err(meta.error("expected `authenticated`"))
                        }
                    })?;
                } else {
                    attr.meta.require_path_only()?;
                }
                kinds.push((kind, attr.meta.span()));
            }
            None => attrs.push(attr.clone()),
        }
    }
    let kind = match kinds.as_slice() {
        [(kind, _)] => *kind,
        [] => {
            return Err(syn::Error::new(
                sig.ident.span(),
                "a procedure needs its kind: add #[query], #[mutation] or #[subscription]",
            ));
        }
        [_, (_, second), ..] => {
            return Err(syn::Error::new(
                *second,
                "a procedure has exactly one kind: keep one of #[query], #[mutation], #[subscription]",
            ));
        }
    };
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(sig.fn_token.span, "procedures are async: write `async fn`"));
    }
    if let Some(body) = &f.default {
        return Err(syn::Error::new(body.span(), "a procedure has no default body: implement it in the impl block"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a procedure cannot be generic: its types are part of the wire contract",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(variadic, "a procedure cannot be variadic"));
    }

    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() => {}
        Some(other) => return Err(syn::Error::new_spanned(other, "a procedure takes `&self` first")),
        None => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                "a procedure takes `&self, cx: &Cx` and an optional input",
            ));
        }
    }
    let cx_ty = match inputs.next() {
        Some(FnArg::Typed(arg)) if is_cx(&arg.ty) => (*arg.ty).clone(),
        Some(other) => {
            return Err(syn::Error::new_spanned(other, "the second parameter is the call context: `cx: &Cx`"));
        }
        None => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                "a procedure takes the call context after `&self`: `cx: &Cx`",
            ));
        }
    };
    let input = match inputs.next() {
        Some(FnArg::Typed(arg)) => {
            if matches!(*arg.ty, Type::Reference(_)) {
                return Err(syn::Error::new_spanned(
                    &arg.ty,
                    "a procedure's input is taken by value (it is decoded from the request)",
                ));
            }
            Some((*arg.ty).clone())
        }
        Some(other) => return Err(syn::Error::new_spanned(other, "unexpected receiver")),
        None => None,
    };
    if let Some(extra) = inputs.next() {
        return Err(syn::Error::new_spanned(
            extra,
            "a procedure takes one input: put several values in one #[accord::wire] struct",
        ));
    }

    let (output, error) = result_types(&sig.output)?;
    let (item, tracked) = match kind {
        Kind::Subscription => {
            let item = stream_item(&output)?;
            match tracked_value(&item)? {
                Some(value) => (value, true),
                None => (item, false),
            }
        }
        _ => (output.clone(), false),
    };

    Ok(Procedure {
        ident: sig.ident.clone(),
        method: sig.ident.to_string().to_lower_camel_case(),
        kind,
        authenticated,
        deprecated: f.attrs.iter().any(|attr| attr.path().is_ident("deprecated")),
        idempotent,
        docs: attrs::docs(&f.attrs),
        attrs,
        cx_ty,
        input,
        output,
        item,
        tracked,
        error,
    })
}

fn is_cx(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => {
            matches!(&*r.elem, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Cx" && s.arguments.is_none()))
        }
        _ => false,
    }
}

fn result_types(output: &ReturnType) -> syn::Result<(Type, Type)> {
    const MESSAGE: &str = "a procedure returns `Result<Output, Error>`, where Error is an #[accord::error] enum";
    let ReturnType::Type(_, ty) = output else {
        return Err(syn::Error::new(output.span(), MESSAGE));
    };
    let args = last_segment_args(ty, "Result").ok_or_else(|| syn::Error::new_spanned(ty, MESSAGE))?;
    match args.as_slice() {
        [ok, err] => Ok((ok.clone(), err.clone())),
        _ => Err(syn::Error::new_spanned(ty, MESSAGE)),
    }
}

fn stream_item(output: &Type) -> syn::Result<Type> {
    const MESSAGE: &str = "a subscription returns `Result<accord::Stream<Item, Error>, Error>`";
    let args = last_segment_args(output, "Stream").ok_or_else(|| syn::Error::new_spanned(output, MESSAGE))?;
    match args.as_slice() {
        [item, _error] => Ok(item.clone()),
        _ => Err(syn::Error::new_spanned(output, MESSAGE)),
    }
}

/// `T` when a subscription's item is `Tracked<T>` (by the last path segment, so `accord::Tracked`
/// and an imported `Tracked` both count).
fn tracked_value(item: &Type) -> syn::Result<Option<Type>> {
    const MESSAGE: &str = "a tracked subscription's item is `accord::Tracked<Item>`, with one type argument";
    let Type::Path(path) = item else { return Ok(None) };
    if path.path.segments.last().is_none_or(|segment| segment.ident != "Tracked") {
        return Ok(None);
    }
    match last_segment_args(item, "Tracked").as_deref() {
        Some([value]) => Ok(Some(value.clone())),
        _ => Err(syn::Error::new_spanned(item, MESSAGE)),
    }
}

/// The type arguments of `ty` if its last path segment is `name<...>`.
fn last_segment_args(ty: &Type, name: &str) -> Option<Vec<Type>> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    args.args
        .iter()
        .map(|arg| match arg {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The trait as the user wrote it, with kinds stripped and `async fn` made `Send`.
fn trait_definition(item: &ItemTrait, procedures: &[Procedure]) -> TokenStream {
    let ItemTrait { attrs, vis, ident, supertraits, .. } = item;
    let supertraits = supertraits.iter();
    let methods = procedures.iter().map(|p| {
        let attrs = &p.attrs;
        let signature = signature(p);
        quote!(#(#attrs)* #signature;)
    });
    quote! {
        #(#attrs)*
        #vis trait #ident: ::core::marker::Send + ::core::marker::Sync #(+ #supertraits)* {
            #(#methods)*
        }
    }
}

fn signature(p: &Procedure) -> TokenStream {
    let Procedure { ident, cx_ty, output, error, .. } = p;
    // The input is always named `input`: the user's pattern may destructure, which a trait
    // declaration and the generated client cannot repeat.
    let input = p.input.as_ref().map(|ty| quote!(, input: #ty));
    quote! {
        fn #ident(&self, cx: #cx_ty #input)
            -> impl ::core::future::Future<Output = ::core::result::Result<#output, #error>> + ::core::marker::Send
    }
}

fn api(item: &ItemTrait, namespace: &str, procedures: &[Procedure]) -> TokenStream {
    let (vis, trait_ident) = (&item.vis, &item.ident);
    let api = format_ident!("{}Api", trait_ident);
    let trait_name = trait_ident.to_string();
    let trait_docs = attrs::docs(&item.attrs);
    let doc = format!(
        "The `{trait_name}` API as data: its [`accord::Description`] and [`accord::Handlers`] for an implementation."
    );

    let descriptions = procedures.iter().map(|p| {
        let name = format!("{namespace}.{}", p.method);
        let (method, rust_name, docs, authenticated) = (&p.method, p.ident.to_string(), &p.docs, p.authenticated);
        let deprecated = p.deprecated;
        let idempotent = p.idempotent;
        let tracked = p.tracked;
        let unsubscribe = match p.kind {
            Kind::Subscription => {
                let unsubscribe = format!("{name}.unsubscribe");
                quote!(::core::option::Option::Some(#unsubscribe))
            }
            _ => quote!(::core::option::Option::None),
        };
        let kind = match p.kind {
            Kind::Query => quote!(Query),
            Kind::Mutation => quote!(Mutation),
            Kind::Subscription => quote!(Subscription),
        };
        let input = match &p.input {
            Some(ty) => {
                quote_spanned!(ty.span()=> ::core::option::Option::Some(::accord::TypeDescription::of::<#ty>()))
            }
            None => quote!(::core::option::Option::None),
        };
        let (item, error, error_ty) = (&p.item, &p.error, &p.error);
        let output = quote_spanned!(item.span()=> ::accord::TypeDescription::of::<#item>());
        let error = quote_spanned!(error.span()=> ::accord::TypeDescription::of::<#error>());
        quote! {
            ::accord::ProcedureDescription {
                name: #name,
                unsubscribe: #unsubscribe,
                method: #method,
                rust_name: #rust_name,
                kind: ::accord::Kind::#kind,
                docs: #docs,
                deprecated: #deprecated,
                authenticated: #authenticated,
                idempotent: #idempotent,
                tracked: #tracked,
                input: #input,
                output: #output,
                error: #error,
                errors: <#error_ty as ::accord::ProcedureError>::CASES,
            }
        }
    });

    let handlers = procedures.iter().map(|p| {
        let ident = &p.ident;
        let (decode, input_ty, call) = match &p.input {
            Some(ty) => (
                quote!(::accord::__private::decode_input::<#ty>),
                quote!(#ty),
                quote!(#trait_ident::#ident(&*implementation, &cx, input)),
            ),
            None => (
                quote!(::accord::__private::decode_no_input),
                quote!(()),
                quote!(#trait_ident::#ident(&*implementation, &cx)),
            ),
        };
        let wrap = match p.kind {
            Kind::Subscription if p.tracked => quote!(tracked_subscribe_handler),
            Kind::Subscription => quote!(subscribe_handler),
            _ => quote!(call_handler),
        };
        quote! {
            {
                let implementation = ::std::sync::Arc::clone(&implementation);
                ::accord::__private::#wrap(#decode, move |cx: ::accord::Cx, input: #input_ty| {
                    let implementation = ::std::sync::Arc::clone(&implementation);
                    let _ = &input;
                    async move { #call.await }
                })
            }
        }
    });

    let assertions = procedures.iter().map(|p| {
        let input = p.input.as_ref().map(|ty| {
            quote_spanned!(ty.span()=>
                ::accord::__private::assert_wire::<#ty>();
                ::accord::__private::assert_input_object::<#ty>();
            )
        });
        let (item, error) = (&p.item, &p.error);
        quote! {
            #input
            ::accord::__private::assert_wire::<#item>();
            ::accord::__private::assert_error::<#error>();
        }
    });
    let assertions = procedures.iter().zip(assertions).map(|(p, a)| quote_spanned!(p.ident.span()=> #a));

    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #api;

        impl ::accord::Api for #api {
            fn description() -> ::accord::Description {
                ::accord::Description {
                    namespace: #namespace,
                    trait_name: #trait_name,
                    docs: #trait_docs,
                    procedures: ::std::vec![#(#descriptions),*],
                }
            }
        }

        impl #api {
            /// Binds an implementation, for a server to mount.
            #[allow(deprecated)] // a deprecated procedure is still served
            #vis fn handlers<Implementation: #trait_ident + 'static>(implementation: Implementation) -> ::accord::Handlers {
                let implementation = ::std::sync::Arc::new(implementation);
                ::accord::Handlers::new(
                    <Self as ::accord::Api>::description(),
                    ::std::vec![#(#handlers),*],
                )
            }
        }

        const _: () = {
            #[allow(dead_code)]
            fn assert_wire_types() {
                #(#assertions)*
            }
        };
    }
}

fn client(item: &ItemTrait, namespace: &str, procedures: &[Procedure]) -> TokenStream {
    let (vis, trait_ident) = (&item.vis, &item.ident);
    let client = format_ident!("{}Client", trait_ident);
    let doc = format!(
        "A `{trait_ident}` over the network: implements [`{trait_ident}`] by calling a server through an [`accord::Transport`]."
    );
    let methods = procedures.iter().map(|p| {
        let signature = signature(p);
        let method = format!("{namespace}.{}", p.method);
        let (item, error) = (&p.item, &p.error);
        let (input_ty, input) = match &p.input {
            Some(ty) => (quote!(#ty), quote!(::core::option::Option::Some(&input))),
            None => (quote!(()), quote!(::core::option::Option::None)),
        };
        let body = match p.kind {
            Kind::Subscription => {
                let unsubscribe = format!("{method}.unsubscribe");
                let subscribe = if p.tracked { quote!(subscribe_tracked) } else { quote!(subscribe) };
                quote!(::accord::__private::#subscribe::<__Transport, #input_ty, #item, #error>(&self.transport, #method, #unsubscribe, cx, #input).await)
            }
            kind => {
                let kind = match kind {
                    Kind::Query => quote!(Query),
                    _ => quote!(Mutation),
                };
                let idempotent = p.idempotent;
                let target = quote! {
                    ::accord::Method { name: #method, kind: ::accord::Kind::#kind, idempotent: #idempotent }
                };
                quote!(::accord::__private::call::<__Transport, #input_ty, #item, #error>(&self.transport, #target, cx, #input).await)
            }
        };
        quote! {
            #signature {
                async move { #body }
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug)]
        #vis struct #client<T> {
            transport: T,
        }

        impl<T> #client<T> {
            /// A client that calls through `transport`.
            #vis fn new(transport: T) -> Self {
                Self { transport }
            }

            /// The transport.
            #vis fn transport(&self) -> &T {
                &self.transport
            }
        }

        // `__Transport`, not `T`: a user's trait may well be called `T`.
        #[allow(deprecated)]
        impl<__Transport: ::accord::Transport> #trait_ident for #client<__Transport> {
            #(#methods)*
        }
    }
}
