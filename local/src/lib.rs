//! The local backend's library: the Lambda host, the bootstrap of the pipeline's resources, and
//! the approval inbox that reads approval messages back and acts on their links like a person.

pub mod bootstrap;
pub mod host;
pub mod inbox;
