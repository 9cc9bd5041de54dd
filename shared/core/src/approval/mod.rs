//! Approvals as people see them: signed links, the confirmation page, the message, the HTTP
//! response of the approval endpoint, and who must and who may approve.

pub mod approvers;
pub mod http;
pub mod link;
pub mod message;
pub mod page;
pub mod rules;
