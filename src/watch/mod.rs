//! `watch`: a live dashboard of the app's devices, one row per `sn`.
//!
//! Three rooms, kept apart: [`model`] is the state (pure, clock passed in), [`view`] draws it
//! with ratatui widgets (pure, onto any backend), [`app`] is the loop that takes keys and
//! pushes and decides when to draw. [`feed`] is the one place that knows the MQTT session;
//! everything else sees a channel of [`feed::WatchInput`].

pub mod app;
pub mod feed;
pub mod model;
pub mod view;
