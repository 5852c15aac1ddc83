//! `diff`: will the clients already out there still work?
//!
//! Compares two OpenRPC documents (a baseline, usually the `openrpc.json` of the deployed
//! version, and the current one) and classifies every change for **old clients talking to the
//! new server** (or, with [`Direction::Forward`], new clients talking to the old server):
//! [`Class::Breaking`], [`Class::Warning`], [`Class::Safe`] or [`Class::Trivial`].
//!
//! Params are contravariant (the server must accept everything the client sends: narrowing
//! breaks), results, errors and subscription items covariant (the client must understand
//! everything the server sends: widening breaks). Each change names the type path it is at
//! (`Todo.title`) and every procedure it reaches. Anything the classifier cannot judge is
//! breaking, with a message saying so. The rules, with their reasons, are in
//! `docs/compatibility.md`.
//!
//! ```
//! use accord_bindings::diff::{Class, DiffOptions, diff_documents};
//! use serde_json::json;
//!
//! let method = |required: bool| json!({
//!     "name": "todos.create",
//!     "params": [{ "name": "note", "required": required, "schema": { "type": "string" } }],
//!     "result": { "name": "result", "schema": { "type": "null" } },
//!     "x-accord-kind": "mutation",
//! });
//! let old = json!({ "openrpc": "1.3.2", "methods": [method(false)] });
//! let new = json!({ "openrpc": "1.3.2", "methods": [method(true)] });
//!
//! let report = diff_documents(&old, &new, &DiffOptions::default()).unwrap();
//! assert!(report.is_breaking());
//! let change = &report.changes[0];
//! assert_eq!((change.class, change.rule), (Class::Breaking, "became-required"));
//! assert_eq!(change.path, "todos.create(params).note");
//! ```

mod allowlist;
mod document;
mod keywords;
mod objects;
mod procedures;
mod report;
mod schema;
mod unions;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

pub use allowlist::{Allowlist, AllowlistEntry, AllowlistError};
pub use report::DiffReport;

/// How much a change matters to the clients on the other side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// No effect on the wire: docs, field order, a type renamed with the same shape.
    Trivial,
    /// A real change that every client on the other side handles.
    Safe,
    /// A client may mishandle it (a new error code in an exhaustive `switch`, an optional
    /// field that is no longer sent), but calls still succeed.
    Warning,
    /// Some call that worked fails or is misread.
    Breaking,
}

impl Class {
    /// `"trivial"`, `"safe"`, `"warning"` or `"breaking"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Trivial => "trivial",
            Class::Safe => "safe",
            Class::Warning => "warning",
            Class::Breaking => "breaking",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which pair of client and server the report is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    /// Clients built against the baseline call the current server (deploying a server).
    #[default]
    Backward,
    /// Clients built against the current version call the baseline's server (apps that ship
    /// before their server does).
    Forward,
}

impl Direction {
    /// `"backward"` or `"forward"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

/// Where in a procedure a type is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Position {
    /// The procedure itself (its name, kind, authentication...).
    Procedure,
    /// Its input (`params`).
    Params,
    /// Its result.
    Result,
    /// Each item of a subscription.
    Item,
    /// Its error (`error.data`).
    Error,
}

impl Position {
    /// `"procedure"`, `"params"`, `"result"`, `"item"` or `"error"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Position::Procedure => "procedure",
            Position::Params => "params",
            Position::Result => "result",
            Position::Item => "item",
            Position::Error => "error",
        }
    }
}

/// One procedure a change reaches, and where.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reach {
    /// The wire method name (`todos.get`).
    pub procedure: String,
    /// Where the changed type is used in it.
    pub position: Position,
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// How much it matters.
    pub class: Class,
    /// A stable name for the kind of change (`property-removed`, `enum-value-added`...), for
    /// allowlists and tools.
    pub rule: &'static str,
    /// Where: a type path (`Todo.title`, `TodoEvent::deleted.id`, `Todo.tags[]`), or a
    /// procedure (`todos.get`).
    pub path: String,
    /// What changed and why it has this class.
    pub message: String,
    /// Every procedure it reaches, sorted.
    pub reaches: BTreeSet<Reach>,
    /// The allowlist's reason, when a deliberate break was listed there.
    pub allowed: Option<String>,
}

/// Settings of [`diff_documents`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct DiffOptions {
    /// Old clients and a new server (default), or the other way round.
    pub direction: Direction,
    /// Deliberate breaks that should not fail the check.
    pub allowlist: Allowlist,
}

impl DiffOptions {
    /// Sets the direction.
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Sets the allowlist.
    pub fn allowlist(mut self, allowlist: Allowlist) -> Self {
        self.allowlist = allowlist;
        self
    }
}

/// Why two documents could not be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// A document is not an OpenRPC document this tool can read.
    #[error("the {side} document is not a usable OpenRPC document: {reason}")]
    Document {
        /// `"baseline"` or `"current"`.
        side: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Compares the baseline `old` with the current `new` OpenRPC document.
pub fn diff_documents(old: &Value, new: &Value, options: &DiffOptions) -> Result<DiffReport, DiffError> {
    let old = document::Document::read(old, "baseline")?;
    let new = document::Document::read(new, "current")?;
    let findings = procedures::compare(&old, &new, options.direction);
    let mut changes = merge(findings);
    let unused = options.allowlist.apply(&mut changes);
    Ok(DiffReport { direction: options.direction, changes, unused_allowlist_entries: unused })
}

/// A change found at one procedure, before the same change at other procedures is merged in.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub class: Class,
    pub rule: &'static str,
    pub path: String,
    pub message: String,
    pub reach: Reach,
}

/// One change per (class, rule, path, message), reaching every procedure it was found at;
/// sorted breaking first, then by path.
fn merge(findings: Vec<Finding>) -> Vec<Change> {
    let mut merged: BTreeMap<(std::cmp::Reverse<Class>, String, &'static str, String), BTreeSet<Reach>> =
        BTreeMap::new();
    for finding in findings {
        let key = (std::cmp::Reverse(finding.class), finding.path, finding.rule, finding.message);
        merged.entry(key).or_default().insert(finding.reach);
    }
    merged
        .into_iter()
        .map(|((class, path, rule, message), reaches)| Change {
            class: class.0,
            rule,
            path,
            message,
            reaches,
            allowed: None,
        })
        .collect()
}
