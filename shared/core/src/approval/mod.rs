//! Approvals as people see them: signed links, the confirmation page, the message, the HTTP
//! response of the approval endpoint, and who must approve.

pub mod http;
pub mod link;
pub mod message;
pub mod page;
pub mod rules;
