//! HL7 v2 for Ohjaamo's ADT-feed adapter: parsing, escaping, character sets, ACKs and
//! MLLP framing.
//!
//! Patient information systems push admissions, transfers and discharges as HL7 v2
//! messages over MLLP. This crate turns the bytes of such a feed into messages the
//! adapter can read by HL7 position (`PV1-3-1`) and builds the ACK it must answer with.
//! It knows nothing about FHIR; mapping is the adapter's job.
//!
//! Real feeds are untidy, and the crate is built for that: delimiters and character set
//! are read from each message, never assumed; LF and CRLF work as segment terminators;
//! ISO-8859-1 sent without saying so is recognised and reported; and no input — garbage,
//! truncated, oversized — makes it panic: it returns an error that says what is wrong and
//! where, and that error can go straight into an `AR`.
//!
//! ```
//! use ohjaamo_hl7::{AckBuilder, Message};
//!
//! let bytes = b"MSH|^~\\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314083000||ADT^A01^ADT_A01|MSG00001|P|2.3||||||8859/1\r\
//!               PV1|1|I|OS5^101^1^SATKS\r";
//! let msg = Message::parse(bytes)?;
//! assert_eq!(msg.message_type().trigger, "A01");
//! assert_eq!(msg.get("PV1-3-1").as_deref(), Some("OS5"));
//!
//! let ack = AckBuilder::new("OHJAAMO", "SATAKUNTA").accept(&msg, "ACK00001");
//! assert!(ack.as_str().contains("MSA|AA|MSG00001"));
//! # Ok::<(), ohjaamo_hl7::ParseError>(())
//! ```

pub mod ack;
pub mod charset;
mod delimiters;
mod error;
pub mod escape;
mod message;
pub mod mllp;
mod parse;
mod path;
mod timestamp;
mod view;

pub use ack::{Ack, AckBuilder, AckCode, AckError, ErrorCode, ErrorLocation};
pub use charset::Charset;
pub use delimiters::Delimiters;
pub use error::ParseError;
pub use message::{Message, MessageType};
pub use mllp::{Frame, MllpDecoder, MllpError};
pub use path::{FieldPath, Path, PathError};
pub use timestamp::hl7_timestamp_utc;
pub use view::{Component, Field, Repetition, Segment, Subcomponent};
