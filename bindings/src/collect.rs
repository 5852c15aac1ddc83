//! Walks the descriptions once: sorts the procedures, resolves their TypeScript names,
//! collects every TypeScript declaration and refuses what the output cannot represent
//! (name clashes, 64-bit integers, duplicate wire methods).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use accord::{Declaration, Declarations, Description, ProcedureDescription, TS_LARGE_INT_SENTINEL};

use crate::BindingsError;

/// Everything the renderers need, sorted.
pub(crate) struct Api<'a> {
    /// The procedures, sorted by namespace, then method.
    pub procedures: Vec<Procedure<'a>>,
    /// Every TypeScript declaration, by name.
    pub declarations: BTreeMap<String, Declaration>,
}

/// One procedure with its TypeScript names resolved.
pub(crate) struct Procedure<'a> {
    pub namespace: &'a str,
    pub description: &'a ProcedureDescription,
    /// `None` for a procedure without input.
    pub input: Option<String>,
    pub output: String,
    pub error: String,
}

impl Api<'_> {
    /// The declared names that `procedures.ts` refers to, sorted.
    pub(crate) fn imported_names(&self) -> BTreeSet<&str> {
        let mut names = BTreeSet::new();
        for procedure in &self.procedures {
            let types = procedure.input.iter().chain([&procedure.output, &procedure.error]);
            for ts in types {
                for word in identifiers(ts) {
                    if let Some((name, _)) = self.declarations.get_key_value(word) {
                        names.insert(name.as_str());
                    }
                }
            }
        }
        names
    }
}

/// The TypeScript configuration every name and declaration is rendered with: 64-bit integers
/// become a sentinel so that they can be refused by name.
pub(crate) fn ts_config() -> ts_rs::Config {
    ts_rs::Config::new().with_large_int(TS_LARGE_INT_SENTINEL)
}

/// Sorts, resolves and validates the procedures of `apis`.
pub(crate) fn collect(apis: &[Description]) -> Result<Api<'_>, BindingsError> {
    check_unique_methods(apis)?;
    let config = ts_config();

    let mut sorted: Vec<(&str, &ProcedureDescription)> =
        apis.iter().flat_map(|api| api.procedures.iter().map(move |p| (api.namespace, p))).collect();
    sorted.sort_by(|a, b| (a.0, a.1.method).cmp(&(b.0, b.1.method)));

    let mut declarations: BTreeMap<String, Declaration> = BTreeMap::new();
    let mut procedures = Vec::with_capacity(sorted.len());
    for (namespace, description) in sorted {
        let input = description.input.map(|input| input.ts_name(&config));
        let output = description.output.ts_name(&config);
        let error = description.error.ts_name(&config);
        let named = [
            ("input", description.input, input.as_deref()),
            ("output", Some(description.output), Some(output.as_str())),
            ("error", Some(description.error), Some(error.as_str())),
        ];
        for (role, ty, ts) in named {
            if let (Some(ty), Some(ts)) = (ty, ts)
                && ts.contains(TS_LARGE_INT_SENTINEL)
            {
                let item = format!("the {role} of `{}` (`{}`)", description.name, ty.rust_name());
                return Err(BindingsError::LargeInteger { item });
            }
        }

        let mut local = Declarations::default();
        for ty in description.input.iter().chain([&description.output, &description.error]) {
            ty.ts_declarations(&config, &mut local);
        }
        if let Some((name, first, second)) = local.clashes.into_iter().next() {
            return Err(clash(name, first, second));
        }
        for (name, declaration) in local.by_name {
            if declaration.source.contains(TS_LARGE_INT_SENTINEL) {
                let item = format!("the type `{name}` (`{}`), used by `{}`,", declaration.rust_name, description.name);
                return Err(BindingsError::LargeInteger { item });
            }
            match declarations.get(&name) {
                Some(existing) if existing.rust_name != declaration.rust_name => {
                    return Err(clash(name, existing.rust_name, declaration.rust_name));
                }
                Some(_) => {}
                None => {
                    declarations.insert(name, declaration);
                }
            }
        }

        procedures.push(Procedure { namespace, description, input, output, error });
    }
    Ok(Api { procedures, declarations })
}

fn clash(name: String, first: &str, second: &str) -> BindingsError {
    BindingsError::NameClash { name, first: first.to_owned(), second: second.to_owned() }
}

/// Refuses two procedures (or unsubscribe methods) with the same wire name.
fn check_unique_methods(apis: &[Description]) -> Result<(), BindingsError> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for api in apis {
        for procedure in &api.procedures {
            for name in [Some(procedure.name), procedure.unsubscribe].into_iter().flatten() {
                if let Some(first) = seen.insert(name, api.trait_name) {
                    return Err(BindingsError::DuplicateMethod {
                        name: name.to_owned(),
                        first: first.to_owned(),
                        second: api.trait_name.to_owned(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The identifier-like words of a TypeScript type expression (`Array<Todo> | null` →
/// `Array`, `Todo`, `null`).
fn identifiers(ts: &str) -> impl Iterator<Item = &str> {
    ts.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use super::identifiers;

    #[test]
    fn identifiers_are_the_words_of_a_type_expression() {
        let words: Vec<_> = identifiers("Array<Page<Todo>> | { [key in string]: $Id_2 } | null").collect();
        assert_eq!(words, ["Array", "Page", "Todo", "key", "in", "string", "$Id_2", "null"]);
    }
}
