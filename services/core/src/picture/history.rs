//! The picture as of a past instant (`GET /picture?at=`), recomputed from the history:
//! every resource the pictures are computed from as it was then, and every kind of
//! figure at that instant in the core's time zone — what a coordinator saw on the
//! screen at 03:00 last night. The gatherers and the arithmetic are the deriver's
//! ([`super::compute`]); only the source differs.
//!
//! It reads the types' whole history up to the instant, so it costs what the history
//! holds; it answers questions after the fact, not displays.

use jiff::Timestamp;
use ohjaamo_store::{PictureUpdate, StoreError};

use super::compute;
use super::place_cache::PlaceCache;
use super::source::{Resources, Snapshot};
use crate::base::state::AppState;

/// The pictures of `tenant` as of `at`, and the last sequence committed by then
/// (`None` when the log no longer reaches back that far).
pub async fn pictures_at(
    state: &AppState,
    tenant: &str,
    at: Timestamp,
) -> Result<(Vec<PictureUpdate>, Option<i64>), StoreError> {
    let store = &state.store;
    let micros = at.as_microsecond();
    // The sequence first: anything committed after this read is later than `at`
    // anyway, since `at` is not in the future.
    let sequence = store.sequence_at(tenant, micros).await?;
    let snapshot = Snapshot::read(store, tenant, micros).await?;
    let src = Resources::AsOf(&snapshot);
    let units = compute::all_units(&src).await?;
    let mut places = PlaceCache::default();
    let pictures = compute::pictures(&src, &units, at, &state.config.time_zone, &mut places)
        .await?
        .into_iter()
        .flat_map(|(_, pictures)| pictures)
        .collect();
    Ok((pictures, sequence))
}
