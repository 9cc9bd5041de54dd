//! The versioned input and output of every state of the deploy state machine, one module per step.
//! A function decodes its event into these types; anything else is an `InvalidEvent`.

pub mod approval;
pub mod change_set;
pub mod console;
pub mod cost;
pub mod deploy;
pub mod drift;
pub mod environment;
pub mod execute;
pub mod promote;
pub mod reconcile;
pub mod record;
pub mod validation;

/// Version of the state contract. Bump it when a field changes meaning or becomes required.
pub const CONTRACT_VERSION: u32 = 1;

/// Decodes a step's event, naming the step and the serde path of what was wrong.
pub fn decode<T: serde::de::DeserializeOwned>(
    step: &'static str,
    event: serde_json::Value,
) -> Result<T, crate::StepError> {
    serde_json::from_value(event).map_err(|e| crate::StepError::invalid_event(step, e))
}
