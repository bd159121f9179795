//! sensoro-mqtt: a subscriber and debugging tool for the SENSORO IoT cloud's MQTT service.
//!
//! The library holds all the logic; the binary only parses the command line, calls
//! [`commands::run`] and turns an [`error::Error`] into an exit code.

pub mod catalog;
pub mod cli;
pub mod client_id;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod duration;
pub mod emulator;
pub mod error;
pub mod json;
pub mod mqtt;
pub mod output;
pub mod probe;
pub mod push;
pub mod relay;
pub mod secret;
pub mod tls;
pub mod watch;
pub mod webhook;
