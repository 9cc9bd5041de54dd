//! The pure rules of the deploy steps: what is passed to CloudFormation, where templates are
//! stored, and when a teardown may proceed. The steps that act on them live in the pipeline crate.

pub mod checks;
pub mod parameters;
pub mod promotion;
pub mod rollback;
pub mod teardown;
pub mod templates;
