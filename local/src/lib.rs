//! The local backend's library: the Lambda host (function URLs with their authentication
//! included), the bootstrap of the pipeline's resources, the local IAM identities, and the
//! approval inbox that reads approval messages back and acts on their links like a person.

pub mod bootstrap;
pub mod emulator;
pub mod host;
pub mod iam_auth;
pub mod identities;
pub mod inbox;
