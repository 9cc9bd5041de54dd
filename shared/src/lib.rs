//! The infra-agent core: everything a pipeline step does, free of Lambda types, so the same code runs
//! under `lambda_runtime`, in the CLI, in the local Lambda host and in tests.

pub mod approval;
pub mod aws;
pub mod catalog;
pub mod contract;
pub mod cost;
pub mod environment;
pub mod error;
pub mod handlers;
pub mod naming;
pub mod pipeline;
pub mod stacks;
pub mod statemachine;
pub mod store;
pub mod template;
pub mod validation;

pub use error::StepError;
