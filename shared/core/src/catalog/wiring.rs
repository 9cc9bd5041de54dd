//! Wiring: a downstream parameter fed from an upstream stack's output, and the parameter values
//! it yields once the upstream stacks are deployed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Catalog;
use crate::naming::StackKey;

/// `parameter ← upstream.output`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    pub parameter: String,
    pub upstream: StackKey,
    pub output: String,
}

/// Outputs of the deployed stacks: a stack that is deployed is a key, even with no outputs.
pub type OutputsByStack = BTreeMap<StackKey, BTreeMap<String, String>>;

/// Why a stack cannot be deployed yet: something it needs from upstream is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingUpstream {
    #[error(
        "'{stack}' needs {} not deployed: deploy {} first",
        plural(upstreams),
        names(upstreams)
    )]
    NotDeployed {
        stack: StackKey,
        upstreams: Vec<StackKey>,
    },
    #[error("'{stack}' wires parameter '{parameter}' from output '{output}' of '{upstream}', which the deployed '{upstream}' does not have (an older template?): deploy {upstream} first")]
    OutputMissing {
        stack: StackKey,
        parameter: String,
        upstream: StackKey,
        output: String,
    },
    #[error("'{stack}' is not a stack of the catalog")]
    NotInCatalog { stack: StackKey },
}

fn names(stacks: &[StackKey]) -> String {
    stacks
        .iter()
        .map(StackKey::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(stacks: &[StackKey]) -> String {
    let quoted: Vec<String> = stacks.iter().map(|s| format!("'{s}'")).collect();
    match quoted.len() {
        1 => format!("{}, which is", quoted.join("")),
        _ => format!("{}, which are", quoted.join(", ")),
    }
}

impl Catalog {
    /// The values of `stack`'s wired parameters, read from its upstreams' outputs. Refuses when an
    /// upstream (wired or an explicit dependency) is not deployed, or lacks a wired output.
    pub fn resolve_parameters(
        &self,
        stack: &StackKey,
        outputs_by_stack: &OutputsByStack,
    ) -> Result<BTreeMap<String, String>, MissingUpstream> {
        let entry = self
            .stack(stack)
            .ok_or_else(|| MissingUpstream::NotInCatalog {
                stack: stack.clone(),
            })?;
        resolve_wiring(stack, entry.upstreams(), &entry.wiring, outputs_by_stack)
    }
}

/// The values of `stack`'s wired parameters, read from its upstreams' outputs. Refuses when an
/// upstream (wired or an explicit dependency) is not deployed, or lacks a wired output.
pub fn resolve_wiring<'a>(
    stack: &StackKey,
    upstreams: impl IntoIterator<Item = &'a StackKey>,
    wiring: &[Wire],
    outputs_by_stack: &OutputsByStack,
) -> Result<BTreeMap<String, String>, MissingUpstream> {
    let not_deployed: Vec<StackKey> = upstreams
        .into_iter()
        .filter(|upstream| !outputs_by_stack.contains_key(*upstream))
        .cloned()
        .collect();
    if !not_deployed.is_empty() {
        return Err(MissingUpstream::NotDeployed {
            stack: stack.clone(),
            upstreams: not_deployed,
        });
    }
    wiring
        .iter()
        .map(|wire| {
            outputs_by_stack
                .get(&wire.upstream)
                .and_then(|outputs| outputs.get(&wire.output))
                .map(|value| (wire.parameter.clone(), value.clone()))
                .ok_or_else(|| MissingUpstream::OutputMissing {
                    stack: stack.clone(),
                    parameter: wire.parameter.clone(),
                    upstream: wire.upstream.clone(),
                    output: wire.output.clone(),
                })
        })
        .collect()
}
