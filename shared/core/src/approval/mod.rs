//! Approvals as people see them: signed links, the confirmation page, the message, the HTTP
//! request and response of the approval endpoints, the decision endpoint's JSON, what people
//! type, and who must and who may approve.

pub mod api;
pub mod approvers;
pub mod http;
pub mod link;
pub mod message;
pub mod page;
pub mod rules;
pub mod slack;
pub mod text;
