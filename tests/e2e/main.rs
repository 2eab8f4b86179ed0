//! End-to-end tests: the real `rcompose` binary against the real engine, one binary for all,
//! run by `runner` (see there for how to add a test).

mod convergence;
mod errors;
mod harness;
mod house;
mod interop_hash;
mod logs;
mod parity;
mod runner;
mod runtime;
mod scripting;
mod skeleton;

fn main() -> std::process::ExitCode {
    runner::main(&[
        convergence::TESTS,
        errors::TESTS,
        house::TESTS,
        interop_hash::TESTS,
        logs::TESTS,
        parity::TESTS,
        runtime::TESTS,
        scripting::TESTS,
        skeleton::TESTS,
    ])
}
