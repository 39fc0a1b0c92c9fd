//! The tier engine's tests, in one binary: policy files, the default policy row by row, the
//! seed walk-throughs, the state machines, the verifiers and the properties.

// `cfg(test)` marks the helpers as test code, where unwrapping fixtures is the right answer.
#[cfg(test)]
mod common;
#[cfg(test)]
mod engine;
#[cfg(test)]
mod policy;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod state_machines;
#[cfg(test)]
mod verifiers;
