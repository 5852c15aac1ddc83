//! The 64-bit integer policy, enforced at compile time.
//!
//! JavaScript numbers hold integers exactly only up to 2^53 − 1, and ts-rs would declare these
//! types as `bigint`, which `JSON.parse` never produces. So wire types may not contain them;
//! the error points at the type and says what to use instead. A field whose serialization the
//! user took over (`#[serde(with)]`, `#[ts(type)]`, `#[ts(as)]`) is left alone.

use syn::spanned::Spanned;
use syn::{Field, Type};

const FORBIDDEN: &[&str] = &["i64", "u64", "i128", "u128", "isize", "usize"];

/// Checks every field; returns the first offending type as an error.
pub(crate) fn check_fields<'a>(fields: impl IntoIterator<Item = &'a Field>) -> syn::Result<()> {
    for field in fields {
        if overridden(field) {
            continue;
        }
        check_type(&field.ty)?;
    }
    Ok(())
}

fn overridden(field: &Field) -> bool {
    field.attrs.iter().any(|attr| {
        (attr.path().is_ident("serde") || attr.path().is_ident("ts"))
            && attr.meta.require_list().is_ok_and(|l| {
                let tokens = l.tokens.to_string();
                ["with", "serialize_with", "type", "as"]
                    .iter()
                    .any(|k| tokens.split(',').any(|t| t.trim().starts_with(k) && t.contains('=')))
            })
    })
}

fn check_type(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check_type(&qself.ty)?;
            }
            for segment in &path.path.segments {
                let name = segment.ident.to_string();
                if FORBIDDEN.contains(&name.as_str()) && path.path.segments.len() == 1 {
                    return Err(syn::Error::new(
                        segment.span(),
                        format!(
                            "`{name}` cannot cross the wire exactly: JavaScript numbers hold integers only up to 2^53 − 1. \
                             Use `accord::I53` (an i64 checked to that range; a `number` in TypeScript), `i32`/`u32`, \
                             or serialize it as a string with `#[serde(with = ...)]`, `#[schemars(with = \"String\")]` and `#[ts(type = \"string\")]`"
                        ),
                    ));
                }
                if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(inner) = arg {
                            check_type(inner)?;
                        }
                    }
                }
            }
            Ok(())
        }
        Type::Array(a) => check_type(&a.elem),
        Type::Slice(s) => check_type(&s.elem),
        Type::Reference(r) => check_type(&r.elem),
        Type::Paren(p) => check_type(&p.elem),
        Type::Group(g) => check_type(&g.elem),
        Type::Tuple(t) => t.elems.iter().try_for_each(check_type),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> bool {
        check_type(&syn::parse_str(src).unwrap()).is_ok()
    }

    #[test]
    fn finds_64_bit_integers_anywhere_in_a_type() {
        for bad in
            ["i64", "u64", "Option<u64>", "Vec<Option<i128>>", "[usize; 3]", "(u32, isize)", "HashMap<String, i64>"]
        {
            assert!(!check(bad), "{bad}");
        }
        for good in ["i32", "u32", "f64", "accord::I53", "Option<String>", "Vec<u8>", "my::i64"] {
            assert!(check(good), "{good}");
        }
    }
}
