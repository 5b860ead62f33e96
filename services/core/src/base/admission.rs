//! The server's admission counters: requests in flight in the whole server, per
//! organisation, and the memory budget for request bodies. The middleware that
//! consults them is `http::admission`; they live here because `AppState` holds them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The admission limits (see `docs/operations.md`).
#[derive(Debug, Clone, Copy)]
pub struct AdmissionLimits {
    /// Requests in flight in the whole server.
    pub max_in_flight: usize,
    /// Requests in flight for one organisation.
    pub max_in_flight_per_organization: usize,
    /// Searches one organisation may run on the database at once: its share of the
    /// connection pool, so that one tenant's costly searches leave the rest room.
    pub searches_per_organization: usize,
    /// How long a search waits for its organisation's share.
    pub search_wait: Duration,
    /// Bytes of request bodies being read and parsed at once.
    pub body_memory_bytes: usize,
    /// How long a body waits for room in the memory budget.
    pub body_memory_wait: Duration,
}

impl Default for AdmissionLimits {
    fn default() -> Self {
        AdmissionLimits {
            max_in_flight: 256,
            max_in_flight_per_organization: 64,
            searches_per_organization: 8,
            search_wait: Duration::from_secs(2),
            body_memory_bytes: 96 * 1024 * 1024,
            body_memory_wait: Duration::from_secs(5),
        }
    }
}

/// The server's admission counters.
pub struct Admission {
    limits: AdmissionLimits,
    in_flight: Arc<Semaphore>,
    per_organization: Shares,
    searches: Shares,
    /// Permits are KiB of body.
    body_memory: Arc<Semaphore>,
}

impl Admission {
    pub fn new(limits: AdmissionLimits) -> Admission {
        Admission {
            limits,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            per_organization: Shares::new(limits.max_in_flight_per_organization),
            searches: Shares::new(limits.searches_per_organization),
            body_memory: Arc::new(Semaphore::new(kib(limits.body_memory_bytes).max(1))),
        }
    }
}

/// A counter per organisation, each with `size` permits.
struct Shares {
    size: usize,
    by_organization: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Shares {
    fn new(size: usize) -> Shares {
        Shares {
            size: size.max(1),
            by_organization: Mutex::default(),
        }
    }

    fn of(&self, tenant: &str) -> Arc<Semaphore> {
        let mut map = self
            .by_organization
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Idle organisations' counters go, so made-up organisation names cannot
        // grow the map without bound.
        if map.len() > 1_024 {
            map.retain(|_, s| s.available_permits() < self.size);
        }
        map.entry(tenant.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.size)))
            .clone()
    }
}

fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

/// What a refused request was short of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    Server,
    Organization,
    Searches,
    BodyMemory,
}

impl Busy {
    /// For the `reason` label of the shed-requests counter.
    pub fn label(self) -> &'static str {
        match self {
            Busy::Server => "server",
            Busy::Organization => "organization",
            Busy::Searches => "searches",
            Busy::BodyMemory => "body_memory",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Busy::Server => "too many requests in flight",
            Busy::Organization => "too many requests in flight for this organisation",
            Busy::Searches => "this organisation's searches take all of its share of the database",
            Busy::BodyMemory => "too many large request bodies at once",
        }
    }
}

/// Held while an admitted request runs.
pub struct Admitted {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Admission {
    /// Admits a request of `tenant` that will read `body_bytes` (`None`: no body),
    /// or says what it is short of. Only the body budget is waited for.
    pub async fn admit(&self, tenant: &str, body_bytes: Option<usize>) -> Result<Admitted, Busy> {
        let server = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy::Server)?;
        let organization = self
            .per_organization
            .of(tenant)
            .try_acquire_owned()
            .map_err(|_| Busy::Organization)?;
        let mut permits = vec![server, organization];
        if let Some(bytes) = body_bytes {
            let wanted = u32::try_from(kib(bytes).min(kib(self.limits.body_memory_bytes)))
                .unwrap_or(u32::MAX)
                .max(1);
            let waited = tokio::time::timeout(
                self.limits.body_memory_wait,
                self.body_memory.clone().acquire_many_owned(wanted),
            )
            .await;
            match waited {
                Ok(Ok(permit)) => permits.push(permit),
                _ => return Err(Busy::BodyMemory),
            }
        }
        Ok(Admitted { _permits: permits })
    }

    /// A place for one search of `tenant` on the database, waited for briefly.
    pub async fn search_slot(&self, tenant: &str) -> Result<Admitted, Busy> {
        let share = self.searches.of(tenant);
        match tokio::time::timeout(self.limits.search_wait, share.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Admitted {
                _permits: vec![permit],
            }),
            _ => Err(Busy::Searches),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_get_their_own_share() {
        let admission = Admission::new(AdmissionLimits {
            max_in_flight: 10,
            max_in_flight_per_organization: 2,
            ..AdmissionLimits::default()
        });
        let a = admission.per_organization.of("a");
        let _one = a.clone().try_acquire_owned().unwrap();
        let _two = a.clone().try_acquire_owned().unwrap();
        assert!(a.clone().try_acquire_owned().is_err());
        assert!(
            admission
                .per_organization
                .of("b")
                .try_acquire_owned()
                .is_ok()
        );
        assert!(
            admission
                .per_organization
                .of("a")
                .try_acquire_owned()
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_body_budget_is_waited_for_then_refused() {
        let admission = Admission::new(AdmissionLimits {
            body_memory_bytes: 4 * 1024,
            body_memory_wait: Duration::from_millis(50),
            ..AdmissionLimits::default()
        });
        let big = admission.admit("a", Some(3 * 1024)).await.unwrap();
        assert_eq!(
            admission.admit("a", Some(2 * 1024)).await.err(),
            Some(Busy::BodyMemory)
        );
        drop(big);
        assert!(admission.admit("a", Some(2 * 1024)).await.is_ok());
        // Larger than the whole budget: takes all of it rather than never fitting.
        assert!(admission.admit("a", Some(1 << 30)).await.is_ok());
    }

    #[tokio::test]
    async fn a_search_waits_for_its_share_then_is_refused() {
        let admission = Admission::new(AdmissionLimits {
            searches_per_organization: 1,
            search_wait: Duration::from_millis(30),
            ..AdmissionLimits::default()
        });
        let held = admission.search_slot("a").await.unwrap();
        assert_eq!(admission.search_slot("a").await.err(), Some(Busy::Searches));
        assert!(admission.search_slot("b").await.is_ok());
        drop(held);
        assert!(admission.search_slot("a").await.is_ok());
    }

    #[test]
    fn idle_organisations_are_forgotten() {
        let admission = Admission::new(AdmissionLimits::default());
        let _held = admission
            .per_organization
            .of("busy")
            .try_acquire_owned()
            .unwrap();
        for i in 0..2_000 {
            admission.per_organization.of(&format!("made-up-{i}"));
        }
        let map = admission.per_organization.by_organization.lock().unwrap();
        assert!(map.len() <= 1_025, "{}", map.len());
        assert!(map.contains_key("busy"));
    }
}
