//! Plain domain values and rules, without I/O: the states calls, legs and jobs go through, and
//! the input rules wire types are checked against before anything is written.
pub mod acceptance;
#[cfg(test)]
mod declared;
pub mod grants;
pub mod states;
pub mod validate;
