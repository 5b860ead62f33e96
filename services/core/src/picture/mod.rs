//! The situational picture: derived from the stored resources by the [`deriver`],
//! stored per unit with the sequence of the event that announced it, and served at
//! `GET /picture`.

pub mod deriver;
mod history;
mod json;
pub mod measure_report;
pub mod resources;
mod serve;
mod touched;
pub mod ward;

pub use serve::{PictureFilter, handler, snapshot};
