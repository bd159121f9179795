//! The emulator, end to end over loopback TCP: protocol cases with a raw client, deliveries
//! with rumqttc and a raw client, and interoperability with Eclipse Mosquitto's clients.

#[path = "common/mod.rs"]
mod common;
#[path = "emulate/faults.rs"]
mod faults;
#[path = "emulate/handshake.rs"]
mod handshake;
#[path = "emulate/harness.rs"]
mod harness;
#[path = "emulate/inject.rs"]
mod inject;
#[path = "emulate/live.rs"]
mod live;
#[path = "emulate/mosquitto.rs"]
mod mosquitto;
#[path = "emulate/pushes.rs"]
mod pushes;
#[path = "emulate/sessions.rs"]
mod sessions;
#[path = "emulate/webhook.rs"]
mod webhook;
