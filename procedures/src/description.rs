//! The static description of an API: what `#[accord::procedures]` knows about a trait, as data.
//!
//! It is built without an implementation, a runtime or a database, so that the bindings
//! generator can run in CI from nothing but the API crate. Types are described by function
//! pointers into their `JsonSchema` and `TS` impls rather than by pre-rendered strings, so the
//! caller chooses the schema dialect and TypeScript configuration.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use schemars::{Schema, SchemaGenerator};
use ts_rs::{TS, TypeVisitor};

/// What the TypeScript output holds where a Rust type used a 64-bit integer.
///
/// `#[accord::wire]` rejects those at compile time; this sentinel catches the ones it cannot see
/// (type aliases, foreign types), so that bindings generation can refuse them by name.
pub const TS_LARGE_INT_SENTINEL: &str = "__ACCORD_64_BIT_INTEGER__";

/// A whole API: one trait's procedures.
#[derive(Clone, Debug)]
pub struct Description {
    /// The wire namespace (`namespace = "..."`).
    pub namespace: &'static str,
    /// The Rust trait's name.
    pub trait_name: &'static str,
    /// The trait's doc comment.
    pub docs: &'static str,
    /// The procedures, in declaration order.
    pub procedures: Vec<ProcedureDescription>,
}

/// Query, mutation or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Reads; safe to retry and cache.
    Query,
    /// Writes.
    Mutation,
    /// A stream of items over WebSocket.
    Subscription,
}

impl Kind {
    /// `"query"`, `"mutation"` or `"subscription"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
            Kind::Subscription => "subscription",
        }
    }
}

/// One procedure.
#[derive(Clone, Debug)]
pub struct ProcedureDescription {
    /// The wire method name: `namespace.method`.
    pub name: &'static str,
    /// For a subscription, the wire name of its unsubscribe method (`namespace.method.unsubscribe`).
    pub unsubscribe: Option<&'static str>,
    /// The method part of the wire name (lowerCamelCase of the Rust name).
    pub method: &'static str,
    /// The Rust method name.
    pub rust_name: &'static str,
    /// Query, mutation or subscription.
    pub kind: Kind,
    /// The method's doc comment.
    pub docs: &'static str,
    /// Whether the method is `#[deprecated]` (OpenRPC `deprecated: true`, TS `@deprecated`).
    pub deprecated: bool,
    /// Whether the caller must be authenticated (`#[query(authenticated)]`); the server
    /// refuses anonymous calls with `UNAUTHENTICATED` before the method runs.
    pub authenticated: bool,
    /// Whether a mutation was declared `#[mutation(idempotent)]`: making it twice has the effect
    /// of making it once, so clients may retry it after a failure that left its outcome unknown.
    /// Always false for queries (which are safe to retry by kind) and subscriptions.
    pub idempotent: bool,
    /// Whether a subscription yields `accord::Tracked` items: each goes out with an `eventId`,
    /// and a subscriber can resume after the last one it saw (`meta.lastEventId`). `output`
    /// describes the item's value. Always false for queries and mutations.
    pub tracked: bool,
    /// The input type; `None` for a procedure without input.
    pub input: Option<TypeDescription>,
    /// The output type (for a subscription: the type of each item).
    pub output: TypeDescription,
    /// The error enum.
    pub error: TypeDescription,
    /// The error enum's domain errors, with their codes.
    pub errors: &'static [crate::ErrorCase],
}

/// A wire type, described through its `JsonSchema` and `TS` implementations.
#[derive(Clone, Copy)]
pub struct TypeDescription {
    rust_name: fn() -> &'static str,
    ts_name: fn(&ts_rs::Config) -> String,
    ts_declarations: fn(&ts_rs::Config, &mut Declarations),
    json_schema: fn(&mut SchemaGenerator) -> Schema,
}

/// TypeScript declarations collected from one or more types, keyed and sorted by TS name.
#[derive(Clone, Debug, Default)]
pub struct Declarations {
    /// `export type Name = ...;` (with its doc comment) by TS name.
    pub by_name: BTreeMap<String, Declaration>,
    /// Distinct Rust types that wanted the same TS name: `(name, first, second)`.
    pub clashes: Vec<(String, &'static str, &'static str)>,
}

/// One exported TypeScript declaration and the Rust type it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    /// The Rust type (`std::any::type_name`, generics erased), to report name clashes.
    pub rust_name: &'static str,
    /// `export type Name = ...;` with its doc comment.
    pub source: String,
}

impl std::fmt::Debug for TypeDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypeDescription").field(&(self.rust_name)()).finish()
    }
}

impl TypeDescription {
    /// Describes `T`.
    pub fn of<T: crate::WireType>() -> Self {
        Self {
            rust_name: std::any::type_name::<T>,
            ts_name: T::name,
            ts_declarations: collect_declarations::<T>,
            json_schema: |generator| generator.subschema_for::<T>(),
        }
    }

    /// The Rust type name.
    pub fn rust_name(&self) -> &'static str {
        (self.rust_name)()
    }

    /// How TypeScript refers to the type (`Todo`, `Array<Todo>`, `string | null`).
    pub fn ts_name(&self, config: &ts_rs::Config) -> String {
        (self.ts_name)(config)
    }

    /// Adds the declarations of this type and every named type it uses.
    pub fn ts_declarations(&self, config: &ts_rs::Config, out: &mut Declarations) {
        (self.ts_declarations)(config, out)
    }

    /// The JSON Schema of the type, registering named subschemas in `generator`'s definitions.
    pub fn json_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.json_schema)(generator)
    }
}

fn collect_declarations<T: TS + 'static>(config: &ts_rs::Config, out: &mut Declarations) {
    struct Collect<'a> {
        config: &'a ts_rs::Config,
        out: &'a mut Declarations,
        seen: HashSet<TypeId>,
    }

    impl TypeVisitor for Collect<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            if !self.seen.insert(TypeId::of::<U>()) {
                return;
            }
            // Only derived (exportable) types have a declaration; primitives and std wrappers
            // are inlined by ts-rs and must not be asked for one (it panics).
            if U::output_path().is_some() {
                let name = U::ident(self.config);
                // `Page<Todo>` and `Page<User>` share one generic declaration.
                let rust_name = std::any::type_name::<U::WithoutGenerics>();
                match self.out.by_name.get(&name) {
                    Some(existing) if existing.rust_name != rust_name => {
                        self.out.clashes.push((name, existing.rust_name, rust_name));
                    }
                    Some(_) => {}
                    None => {
                        let mut source = U::docs().unwrap_or_default();
                        source.push_str("export ");
                        source.push_str(&U::decl(self.config));
                        self.out.by_name.insert(name, Declaration { rust_name, source });
                    }
                }
            }
            U::visit_dependencies(self);
            U::visit_generics(self);
        }
    }

    let mut collect = Collect { config, out, seen: HashSet::new() };
    collect.visit::<T>();
}
