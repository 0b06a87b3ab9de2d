//! The service's own API: `POST /api/v1/send`, `/api/v1/send/batch`, the workshop's four
//! shortcuts, health, status and metrics. Each request and answer type is defined once, beside
//! its handler, and is what the OpenAPI document describes.

pub mod batch;
pub mod health;
pub mod metrics;
pub mod send;
pub mod shortcut;
