//! End-to-end tests: the deploy state machine in `statemachine/` executed by the emulator, the
//! pipeline's functions run by the local Lambda host, approvals decided over HTTP (signed links, and the decision endpoint signed as local identities).

mod approval_links;
mod browser;
mod console;
mod decisions;
mod deploy;
mod drift;
mod emulator;
mod environment;
mod events;
mod lint;
mod locking;
mod promote;
mod redeploy;
mod reports;
mod rollback;
mod slack;
mod verify;
