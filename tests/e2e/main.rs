//! End-to-end tests: the real `rcompose` binary against the real engine, one binary for all,
//! run by `runner` (see there for how to add a test).

mod behaviour;
mod binary;
mod convergence;
mod dropin;
mod early_probe;
mod errors;
mod faults;
mod harness;
mod hosts;
mod house;
mod interop_hash;
mod logs;
mod parity;
mod reliability;
mod runner;
mod runtime;
mod scripting;
mod skeleton;
mod swarm;
mod swarm_multinode;
mod terminal;
mod volumes;
mod watch;

fn main() -> std::process::ExitCode {
    runner::main(&[
        behaviour::TESTS,
        binary::TESTS,
        convergence::TESTS,
        dropin::TESTS,
        early_probe::TESTS,
        errors::TESTS,
        faults::TESTS,
        hosts::TESTS,
        house::TESTS,
        interop_hash::TESTS,
        logs::TESTS,
        parity::TESTS,
        reliability::TESTS,
        runtime::TESTS,
        scripting::TESTS,
        skeleton::TESTS,
        terminal::TESTS,
        watch::TESTS,
        volumes::TESTS,
        swarm::TESTS,
        swarm_multinode::TESTS,
    ])
}
