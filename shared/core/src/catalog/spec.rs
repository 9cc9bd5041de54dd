//! The catalog file as written (`infra/catalog.toml`): stacks, their phase, template, explicit
//! dependencies and wiring, before anything is checked against the templates.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::naming::StackKey;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CatalogFile {
    /// Phase names in deployment order; a stack's `phase = n` is the n-th of them.
    pub phases: Vec<String>,
    pub stacks: BTreeMap<StackKey, StackSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StackSpec {
    /// Path of the template, relative to the templates directory.
    pub template: String,
    pub phase: u32,
    /// Dependencies that no wiring implies (wiring already makes its upstream a dependency).
    #[serde(default)]
    pub depends_on: Vec<StackKey>,
    /// Downstream parameter → `"<upstream stack>.<output>"`.
    #[serde(default)]
    pub wiring: BTreeMap<String, String>,
    /// Why the local emulator cannot deploy this stack; present means it is skipped there, loudly.
    #[serde(default)]
    pub skip_on_emulator: Option<String>,
    /// Post-deploy checks of what the stack builds, besides the generic ones.
    #[serde(default)]
    pub checks: Vec<crate::deploy::checks::DeclaredCheck>,
}
