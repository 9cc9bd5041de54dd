//! What a template deploys in one environment, as pricing reads it: the resources of the shared
//! resolution (validation's), each with plain property values and any condition left undecided.

use serde_json::{Map, Value};

use crate::template::Template;
use crate::validation::{resolve, ValidationContext};

/// One resource as it would be deployed.
#[derive(Debug, Clone)]
pub(super) struct DeployedResource {
    pub logical_id: String,
    pub resource_type: Option<String>,
    pub properties: Value,
    /// Set when the resource's `Condition` could not be decided: it is priced as if created.
    pub undecided_condition: Option<String>,
}

/// The resources the template creates in `region` with `ctx`'s parameters. Resources whose
/// `Condition` is false are left out: they are not deployed.
pub(super) fn resources(
    template: &Template,
    ctx: &ValidationContext,
    region: &str,
) -> Vec<DeployedResource> {
    let mut deployment = resolve::deploy(template, ctx, Some(region));
    let Some(Value::Object(resources)) = deployment
        .template
        .as_object_mut()
        .and_then(|root| root.remove("Resources"))
    else {
        return Vec::new();
    };
    resources
        .into_iter()
        .map(|(logical_id, mut resource)| DeployedResource {
            resource_type: resource
                .get("Type")
                .and_then(Value::as_str)
                .map(str::to_string),
            properties: resource
                .get_mut("Properties")
                .map(Value::take)
                .unwrap_or_else(|| Value::Object(Map::new())),
            undecided_condition: deployment.undecided.remove(&logical_id),
            logical_id,
        })
        .collect()
}
