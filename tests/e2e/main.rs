//! End-to-end tests: the real `rcompose` binary against the real engine, one binary for all.

mod convergence;
mod errors;
mod harness;
mod logs;
mod parity;
mod runtime;
mod scripting;
mod skeleton;
