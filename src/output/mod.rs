//! Renderers that turn pushes into text for people and programs.
//!
//! Everything here builds `String`s; none of it writes to stdout, looks at the terminal or
//! reads the environment. The printer that owns stdout decides colour and width and passes
//! them in.

pub mod pretty;
pub mod style;
