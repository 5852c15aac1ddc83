//! The allowlist: deliberate breaking changes, each with a reason, committed beside the code so
//! a planned break passes CI and leaves a record.
//!
//! ```toml
//! # contract-allowlist.toml
//! [[allow]]
//! path = "Todo.title"          # the change's path, as the report prints it
//! rule = "property-removed"    # optional: the rule in brackets; any rule when left out
//! reason = "titles moved to Todo.summary; the web app shipped the switch in 2.3"
//! ```

use serde::Deserialize;

use super::{Change, Class};

/// Deliberate breaking changes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// The entries, in file order.
    #[serde(default)]
    pub allow: Vec<AllowlistEntry>,
}

/// One deliberate breaking change.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistEntry {
    /// The path of the change (`Todo.title`, `todos.get`).
    pub path: String,
    /// The rule (`property-removed`); any rule at `path` when absent.
    #[serde(default)]
    pub rule: Option<String>,
    /// Why the break is acceptable.
    pub reason: String,
}

/// Why an allowlist could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AllowlistError(String);

impl Allowlist {
    /// Parses the TOML text of an allowlist; every entry needs a `path` and a non-empty `reason`.
    pub fn parse(text: &str) -> Result<Self, AllowlistError> {
        let allowlist: Allowlist = toml::from_str(text).map_err(|e| AllowlistError(e.to_string()))?;
        for (index, entry) in allowlist.allow.iter().enumerate() {
            if entry.reason.trim().is_empty() {
                return Err(AllowlistError(format!("entry {} (`{}`) has an empty reason", index + 1, entry.path)));
            }
        }
        Ok(allowlist)
    }

    fn matches(entry: &AllowlistEntry, change: &Change) -> bool {
        change.class == Class::Breaking
            && entry.path == change.path
            && entry.rule.as_deref().is_none_or(|r| r == change.rule)
    }

    /// Marks the breaking changes it lists as allowed; returns the entries that matched nothing.
    pub(crate) fn apply(&self, changes: &mut [Change]) -> Vec<AllowlistEntry> {
        let mut unused = Vec::new();
        for entry in &self.allow {
            let mut used = false;
            for change in changes.iter_mut().filter(|change| Self::matches(entry, change)) {
                change.allowed = Some(entry.reason.clone());
                used = true;
            }
            if !used {
                unused.push(entry.clone());
            }
        }
        unused
    }
}
