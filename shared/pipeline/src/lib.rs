//! The infra-agent pipeline: the steps of the state machines, written against ports (traits) for
//! what they need from AWS, with the SDK adapters and in-memory fakes beside them.
//!
//! Dependencies point one way: `steps` and `functions` → `ports` ← `aws` (and `fakes`); every
//! module may use `infra_agent_core`, which knows nothing of this crate.

pub mod aws;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod function_url;
pub mod functions;
pub mod ports;
pub mod settings;
pub mod steps;

pub use infra_agent_core::StepError;
pub use ports::Pipeline;
