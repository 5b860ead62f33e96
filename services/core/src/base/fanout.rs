//! One producer per organisation, many listeners: the registry behind `/stream`.
//!
//! Each live-stream client used to poll the event log on its own every 500 ms (500
//! displays cost 33 times the idle CPU, all of it the same queries). Now the clients of
//! one organisation share one follower of the log: it reads each new event once and
//! broadcasts it to every client's bounded buffer. A client that falls further behind
//! than its buffer learns so (`Lagged`) and starts over, so a slow display never grows
//! the server's memory or holds up the others.
//!
//! This file only keeps the channels and counts the clients against their caps; what
//! a follower reads and a client sends is `http::stream`'s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// Caps on clients and the buffer each has.
#[derive(Debug, Clone, Copy)]
pub struct FanoutLimits {
    /// Clients in the whole server.
    pub max_clients: usize,
    /// Clients of one organisation.
    pub max_clients_per_organization: usize,
    /// Items buffered per client before it has lagged.
    pub buffer: usize,
}

impl Default for FanoutLimits {
    fn default() -> Self {
        FanoutLimits {
            max_clients: 2_000,
            max_clients_per_organization: 500,
            buffer: 1_024,
        }
    }
}

/// Why a client was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Server,
    Organization,
}

/// A client's place: counted until dropped.
pub struct ClientSlot {
    clients: Arc<AtomicUsize>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A new client: its receiver and place, and — when it is the organisation's first
/// — the sender its follower must be started with.
pub struct Joined<T> {
    pub receiver: broadcast::Receiver<T>,
    pub slot: ClientSlot,
    pub start_follower: Option<broadcast::Sender<T>>,
}

pub struct Fanout<T> {
    limits: FanoutLimits,
    senders: Mutex<HashMap<String, broadcast::Sender<T>>>,
    clients: Arc<AtomicUsize>,
}

impl<T: Clone> Fanout<T> {
    pub fn new(limits: FanoutLimits) -> Fanout<T> {
        Fanout {
            limits,
            senders: Mutex::default(),
            clients: Arc::default(),
        }
    }

    /// Lets a client of `organization` in, or says which cap is full.
    pub fn join(&self, organization: &str) -> Result<Joined<T>, Full> {
        let mut senders = self.lock();
        // A channel in the map has a follower: a follower removes its channel before
        // it stops (see `leave_if_idle`, `forget`), under this same lock.
        let existing = senders.get(organization).cloned();
        if existing
            .as_ref()
            .is_some_and(|s| s.receiver_count() >= self.limits.max_clients_per_organization)
        {
            return Err(Full::Organization);
        }
        let reserved = self.clients.fetch_add(1, Ordering::Relaxed);
        if reserved >= self.limits.max_clients {
            self.clients.fetch_sub(1, Ordering::Relaxed);
            return Err(Full::Server);
        }
        let slot = ClientSlot {
            clients: self.clients.clone(),
        };
        match existing {
            Some(sender) => Ok(Joined {
                receiver: sender.subscribe(),
                slot,
                start_follower: None,
            }),
            None => {
                let (sender, receiver) = broadcast::channel(self.limits.buffer.max(1));
                senders.insert(organization.to_owned(), sender.clone());
                Ok(Joined {
                    receiver,
                    slot,
                    start_follower: Some(sender),
                })
            }
        }
    }

    /// Called by a follower with no clients left: forgets its channel unless a client
    /// joined meanwhile. `true` when the follower should stop.
    pub fn leave_if_idle(&self, organization: &str, sender: &broadcast::Sender<T>) -> bool {
        let mut senders = self.lock();
        if sender.receiver_count() > 0 {
            return false;
        }
        remove_channel(&mut senders, organization, sender);
        true
    }

    /// Called by a follower that stops for another reason (an error, the server
    /// stopping): its clients will see the channel close; new ones start afresh.
    pub fn forget(&self, organization: &str, sender: &broadcast::Sender<T>) {
        remove_channel(&mut self.lock(), organization, sender);
    }

    /// Clients connected now, in the whole server.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<T>>> {
        self.senders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Removes `organization`'s channel if it is still `sender`'s (a new follower may
/// have replaced it).
fn remove_channel<T>(
    senders: &mut HashMap<String, broadcast::Sender<T>>,
    organization: &str,
    sender: &broadcast::Sender<T>,
) {
    if senders
        .get(organization)
        .is_some_and(|s| s.same_channel(sender))
    {
        senders.remove(organization);
    }
}

/// What a follower of the event log sends its clients. Each message names the log's
/// epoch it was read in: a client whose own epoch differs resyncs.
#[derive(Debug, Clone)]
pub enum Followed {
    /// A picture event, in sequence order, and the log's last sequence when it was
    /// read (how far behind the log a client at this event is).
    Event {
        event: Arc<ohjaamo_store::StoredEvent>,
        last: i64,
        epoch: Arc<str>,
    },
    /// The log has been read to here (other kinds of events included).
    Reached { last: i64, epoch: Arc<str> },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fanout(total: usize, per_org: usize) -> Fanout<u32> {
        Fanout::new(FanoutLimits {
            max_clients: total,
            max_clients_per_organization: per_org,
            buffer: 4,
        })
    }

    #[test]
    fn one_follower_per_organisation() {
        let f = fanout(10, 10);
        let first = f.join("a").unwrap();
        let sender = first.start_follower.clone().expect("the first starts it");
        let second = f.join("a").unwrap();
        assert!(second.start_follower.is_none());
        assert!(f.join("b").unwrap().start_follower.is_some());
        sender.send(7).unwrap();
        let (mut r1, mut r2) = (first.receiver, second.receiver);
        assert_eq!((r1.try_recv().unwrap(), r2.try_recv().unwrap()), (7, 7));
    }

    #[test]
    fn caps_count_clients_until_they_go() {
        let f = fanout(3, 2);
        let a1 = f.join("a").unwrap();
        let _a2 = f.join("a").unwrap();
        assert_eq!(f.join("a").err(), Some(Full::Organization));
        let _b1 = f.join("b").unwrap();
        assert_eq!(f.join("c").err(), Some(Full::Server));
        assert_eq!(f.clients(), 3);
        drop(a1);
        assert_eq!(f.clients(), 2);
        assert!(f.join("c").is_ok());
    }

    #[test]
    fn an_idle_follower_stops_unless_someone_joined() {
        let f = fanout(10, 10);
        let joined = f.join("a").unwrap();
        let sender = joined.start_follower.clone().unwrap();
        let again = f.join("a").unwrap();
        drop(joined);
        assert!(!f.leave_if_idle("a", &sender), "a client is still there");
        drop(again);
        assert!(f.leave_if_idle("a", &sender));
        // The next client starts a new follower.
        assert!(f.join("a").unwrap().start_follower.is_some());
    }

    #[test]
    fn a_slow_client_lags_alone() {
        let f = fanout(10, 10);
        let fast = f.join("a").unwrap();
        let mut slow = f.join("a").unwrap().receiver;
        let sender = fast.start_follower.unwrap();
        let mut fast = fast.receiver;
        for i in 0..10 {
            sender.send(i).unwrap();
            assert_eq!(fast.try_recv().unwrap(), i);
        }
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }
}
