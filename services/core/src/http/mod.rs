//! The API surface: the router of every route ([`server`]), the request context every
//! handler reads ([`context`]), authentication and permissions ([`access`]), the SMART
//! configuration ([`smart`]), who is let in when busy ([`admission`]), the FHIR REST API ([`fhir`]), the pictures and the live
//! stream the displays read, the sources' reports, and the web pages and where they
//! sign in ([`signin`]).

pub mod access;
pub mod access_log;
pub mod admission;
pub mod beds;
pub mod context;
pub mod fhir;
pub mod picture;
pub mod server;
pub mod signin;
pub mod smart;
pub mod sources;
pub mod stream;
pub mod web;
