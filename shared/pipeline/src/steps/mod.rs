//! The steps of the state machines, one module each. Every step is an async function of
//! `(&Pipeline, typed input) -> Result<typed output, StepError>` and safe to retry.

pub mod approval;
pub mod approval_decision;
pub mod approval_link;
pub mod approval_page;
pub mod begin;
pub mod change_set;
pub mod console;
pub mod cost;
pub mod decision;
pub mod drift;
pub mod environment;
pub mod execute;
pub mod finish;
pub mod promote;
pub mod reconcile;
#[cfg(test)]
mod retries;
pub mod slack;
pub mod validate;
pub mod verify;
