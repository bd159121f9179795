//! sensoro-mqtt: a subscriber and debugging tool for the SENSORO IoT cloud's MQTT service.

pub mod output;
