//! rcompose: a Docker Compose-compatible orchestrator.
//!
//! - [`parse`] loads compose files into a typed project (never touches the engine);
//! - [`graph`] holds the dependency graph and turns (project, observed state) into plans;
//! - [`runtime`] is the only code that speaks to the engine: observe, execute, read back;
//! - [`cmd`] turns flags into options and renders results.

// `pub(crate)` by default in every room.
#[deny(unreachable_pub)]
pub mod cmd;
#[deny(unreachable_pub)]
pub mod graph;
#[deny(unreachable_pub)]
pub mod parse;
#[deny(unreachable_pub)]
pub mod runtime;

pub use cmd::run;
