//! The infra-agent core: what the pipeline decides, free of AWS clients, Lambda and any async
//! runtime, so it is tested alone and shared by the functions, the CLI and the local host.
//!
//! Layers, lowest first: `naming`, `clock`, `error` → `template`, `environment` → `validation`,
//! `cost`, `catalog` → `contract`, `records`, `stack` → `approval`, `deploy`, `registry`.

pub mod approval;
pub mod catalog;
pub mod clock;
pub mod contract;
pub mod cost;
pub mod deploy;
pub mod drift;
pub mod environment;
pub mod error;
pub mod install;
pub mod naming;
pub mod records;
pub mod registry;
pub mod stack;
pub mod template;
pub mod validation;

pub use error::StepError;
