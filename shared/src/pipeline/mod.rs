//! The steps of the deploy state machine, one module each. Every step is an async function of
//! `(&Pipeline, typed input) -> Result<typed output, StepError>` and safe to retry.

pub mod approval;
pub mod begin;
pub mod change_set;
pub mod cost;
pub mod environment;
pub mod execute;
pub mod finish;
pub mod teardown;
pub mod templates;
pub mod validate;
