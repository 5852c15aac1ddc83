//! [`DiffReport`]: the classified changes, as text for people and as JSON for tools.

use std::fmt;

use serde_json::{Value, json};

use super::{AllowlistEntry, Change, Class, Direction, Position};

/// What [`diff_documents`](super::diff_documents) found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DiffReport {
    /// Which clients and server the classes are for.
    pub direction: Direction,
    /// Every change, breaking first, then by path.
    pub changes: Vec<Change>,
    /// Allowlist entries that matched no breaking change (to be removed from the file).
    pub unused_allowlist_entries: Vec<AllowlistEntry>,
}

impl DiffReport {
    /// Whether a breaking change is not covered by the allowlist.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.class == Class::Breaking && c.allowed.is_none())
    }

    /// How many changes have `class`.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
    }

    /// The report as JSON (`--format json`).
    pub fn to_json(&self) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .map(|change| {
                let reaches: Vec<Value> = change
                    .reaches
                    .iter()
                    .map(|r| json!({ "procedure": r.procedure, "position": r.position.as_str() }))
                    .collect();
                json!({
                    "class": change.class.as_str(),
                    "rule": change.rule,
                    "path": change.path,
                    "message": change.message,
                    "reaches": reaches,
                    "allowed": change.allowed,
                })
            })
            .collect();
        let unused: Vec<Value> = self
            .unused_allowlist_entries
            .iter()
            .map(|e| json!({ "path": e.path, "rule": e.rule, "reason": e.reason }))
            .collect();
        json!({
            "direction": self.direction.as_str(),
            "breaking": self.is_breaking(),
            "summary": {
                "breaking": self.count(Class::Breaking),
                "allowed": self.changes.iter().filter(|c| c.allowed.is_some()).count(),
                "warning": self.count(Class::Warning),
                "safe": self.count(Class::Safe),
                "trivial": self.count(Class::Trivial),
            },
            "changes": changes,
            "unusedAllowlistEntries": unused,
        })
    }
}

/// `todos.get (result), todos.create (params)`.
fn reaches(change: &Change) -> String {
    let parts: Vec<String> = change
        .reaches
        .iter()
        .map(|r| match r.position {
            Position::Procedure => format!("`{}`", r.procedure),
            position => format!("`{}` ({})", r.procedure, position.as_str()),
        })
        .collect();
    parts.join(", ")
}

impl fmt::Display for DiffReport {
    /// One block per change (class, rule, message, the procedures it reaches), then a summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (clients, server) = match self.direction {
            Direction::Backward => ("clients built against the baseline", "the current server"),
            Direction::Forward => ("clients built against the current version", "the baseline's server"),
        };
        writeln!(f, "compatibility of {clients} with {server}:")?;
        if self.changes.is_empty() {
            writeln!(f, "  no changes")?;
        }
        for change in &self.changes {
            let verb = match change.class {
                Class::Breaking => "breaks",
                Class::Warning => "affects",
                Class::Safe | Class::Trivial => "in",
            };
            writeln!(f, "{:<9} {} [{}]", change.class.as_str(), change.message, change.rule)?;
            writeln!(f, "          {verb} {}", reaches(change))?;
            if let Some(reason) = &change.allowed {
                writeln!(f, "          allowed: {reason}")?;
            }
        }
        for entry in &self.unused_allowlist_entries {
            writeln!(
                f,
                "allowlist: the entry for `{}`{} matches no breaking change; remove it",
                entry.path,
                entry.rule.as_deref().map(|r| format!(" [{r}]")).unwrap_or_default()
            )?;
        }
        let allowed = self.changes.iter().filter(|c| c.allowed.is_some()).count();
        let allowed = if allowed > 0 { format!(" ({allowed} allowed)") } else { String::new() };
        writeln!(
            f,
            "{} breaking{allowed}, {} warning, {} safe, {} trivial: {}",
            self.count(Class::Breaking),
            self.count(Class::Warning),
            self.count(Class::Safe),
            self.count(Class::Trivial),
            if self.is_breaking() { "some deployed clients break" } else { "no deployed client breaks" }
        )
    }
}
