//! Input rules: wire types are parsed into validated values before anything is written.
pub mod validate;
