//! The one write path, from the front door down to the store's transaction:
//!
//! - [`pipeline`]: the front door every write goes through (the FHIR API's creates,
//!   updates, deletes and Bundles, the capacity reports). It checks bed [`holds`],
//!   runs [`apply`] and derives bed [`occupancy`] from what was written.
//! - [`apply`]: plans and writes a request, in steps: [`targets`], [`names`],
//!   [`prepare`] (through [`ingest`]: [`json_shape`], [`codes`], [`element_dates`]),
//!   [`checks`] (with the business [`rules`]) and [`store_ops`].
//! - [`entry`]: what a request is made of, shared by all of them.

pub mod apply;
pub mod checks;
pub mod codes;
pub mod element_dates;
pub mod entry;
pub mod holds;
pub mod ingest;
pub mod json_shape;
pub mod names;
pub mod occupancy;
pub mod pipeline;
pub mod prepare;
pub mod rules;
pub mod store_ops;
pub mod targets;
