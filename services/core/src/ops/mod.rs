//! Observability: what the core tells operators (metrics, the trace context of
//! requests and events, what the relay is doing). Leaves: these files import nothing
//! else of the core, so every stage can report through them.

pub mod observe;
pub mod relay_status;
pub mod trace_context;
