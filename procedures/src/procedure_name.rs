//! [`ProcedureName`]: a procedure's wire name as a typed value.

/// The wire name of a procedure (`namespace.method`), as `#[accord::procedures]` defines it:
/// `TodosApi::GET` is `todos.get`. A server's per-procedure policies take these, so a renamed
/// or removed procedure breaks the build instead of a policy silently matching nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureName(&'static str);

impl ProcedureName {
    /// Made by generated code (and servers, for their built-in methods); use the constants.
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for ProcedureName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
