//! The `Api` trait: how a trait's description is reached without an implementation.

use crate::Description;

/// Implemented by the `<Trait>Api` marker type that `#[accord::procedures]` generates.
///
/// `TodosApi::description()` needs no instance, runtime or database: the bindings generator
/// calls it from a plain binary in CI.
pub trait Api {
    /// The API's static description.
    fn description() -> Description;
}
