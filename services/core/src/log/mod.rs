//! The event log's readers: the loop every reader runs ([`follow`]), the relay that
//! publishes the log to the bus, the occupancy follower that derives bed occupancy
//! from it, and the retention that prunes what every reader has passed (and the
//! access log's retention, which prunes past its own period). The picture's
//! deriver follows the log through the same loop.

pub mod access_retention;
pub mod follow;
pub mod occupancy;
pub mod relay;
pub mod retention;
