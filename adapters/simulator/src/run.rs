//! The simulator as a running thing: the world on its clock, the ADT feed, the API.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{Mutex, watch};

use crate::api::{ApiState, router};
use crate::build::{Size, build};
use crate::clock::SimClock;
use crate::faults::{Dice, Faults};
use crate::feed::{self, FeedCounts};
use crate::world::World;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub size: Size,
    /// Simulated start instant.
    pub start: Timestamp,
    pub zone: TimeZone,
    /// Simulated seconds per real second; 0 stops the clock (tests advance it).
    pub speed: f64,
    /// MLLP receiver (the ADT adapter), `host:port`; no feed when unset.
    pub adt_target: Option<String>,
    pub faults: Faults,
}

/// A world built and ready; [`Simulator::serve`] makes it live.
pub struct Simulator {
    pub world: Arc<Mutex<World>>,
    config: SimConfig,
    time: Arc<watch::Sender<Timestamp>>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Simulator {
        let mut world = World::new(
            config.start,
            config.zone.clone(),
            ChaCha8Rng::seed_from_u64(config.seed),
        );
        build(&mut world, config.size);
        Simulator {
            world: Arc::new(Mutex::new(world)),
            time: Arc::new(watch::Sender::new(config.start)),
            config,
        }
    }

    /// The simulated hospital's time, as it moves: whoever must tell the same story
    /// in the same time (the demo's core) follows it.
    pub fn time(&self) -> watch::Receiver<Timestamp> {
        self.time.subscribe()
    }

    /// Serves the API on `listener`, runs the clock and the feed, until `shutdown`.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let dice = Arc::new(Dice::new(self.config.seed));
        let counts = Arc::new(FeedCounts::default());
        let manual = self.config.speed <= 0.0;
        if !manual {
            tokio::spawn(drive(
                self.world.clone(),
                SimClock::new(self.config.start, self.config.speed),
                self.time.clone(),
                shutdown.clone(),
            ));
        }
        if let Some(target) = self.config.adt_target.clone() {
            tokio::spawn(feed::run(
                self.world.clone(),
                target,
                self.config.faults,
                dice.clone(),
                counts.clone(),
                shutdown.clone(),
            ));
        }
        let state = ApiState {
            world: self.world.clone(),
            faults: self.config.faults,
            dice,
            feed: counts,
            manual_clock: manual,
            time: self.time.clone(),
        };
        let addr: Option<SocketAddr> = listener.local_addr().ok();
        tracing::info!(address = ?addr, seed = self.config.seed, speed = self.config.speed, faults = self.config.faults.any(), "simulator serving /api/v1, /truth");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
            .await
    }
}

/// Moves the world along with the clock, and publishes where it has got to.
async fn drive(
    world: Arc<Mutex<World>>,
    clock: SimClock,
    time: Arc<watch::Sender<Timestamp>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        {
            let mut world = world.lock().await;
            crate::life::advance_to(&mut world, clock.now());
            time.send_replace(world.now);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
