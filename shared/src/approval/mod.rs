//! Human approval of a change set: signed links, the confirmation page, the SNS message, and the
//! decision that resumes (or fails) the waiting execution.

pub mod decision;
pub mod http;
pub mod link;
pub mod message;
pub mod page;
