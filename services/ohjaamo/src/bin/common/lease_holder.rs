//! Finding which `ohjaamo serve` process holds a reader's lease on an organisation's
//! log right now, so that a benchmark can kill exactly that one (issue 21: the time
//! from the lease holder's death to another replica publishing).
//!
//! A lease is the reader's cursor row locked in an open transaction
//! (`store/src/cursor.rs`); PostgreSQL shows that transaction's backend as idle in
//! transaction with the claim as its last statement, and the backend's client port
//! names the process through `/proc`.

use std::collections::HashSet;

use sqlx::PgConnection;

/// The PostgreSQL client ports of the lease transactions open now in `database`: idle
/// in transaction, their last statement a cursor claim. The reader is a bound
/// parameter, so every reader's claim looks alike; [`is_held`] tells whose.
pub async fn lease_ports(db: &mut PgConnection, database: &str) -> anyhow::Result<Vec<u16>> {
    let ports: Vec<i32> = sqlx::query_scalar(
        "SELECT client_port FROM pg_stat_activity WHERE datname = $1 \
         AND state = 'idle in transaction' AND query LIKE '%FROM outbox_cursor%SKIP LOCKED%'",
    )
    .bind(database)
    .fetch_all(db)
    .await?;
    Ok(ports
        .into_iter()
        .filter_map(|p| u16::try_from(p).ok())
        .collect())
}

/// Whether `reader`'s cursor row of `tenant` is locked by someone now.
pub async fn is_held(db: &mut PgConnection, tenant: &str, reader: &str) -> anyhow::Result<bool> {
    use sqlx::Connection as _;
    let mut tx = db.begin().await?;
    let free: Option<i64> = sqlx::query_scalar(
        "SELECT sequence FROM outbox_cursor WHERE tenant = $1 AND reader = $2 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(tenant)
    .bind(reader)
    .fetch_optional(&mut *tx)
    .await?;
    tx.rollback().await?;
    Ok(free.is_none())
}

/// The local TCP ports of process `pid`'s sockets (Linux `/proc`).
pub fn process_ports(pid: u32) -> HashSet<u16> {
    let mut inodes = HashSet::new();
    if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let target = target.to_string_lossy().into_owned();
                if let Some(inode) = target
                    .strip_prefix("socket:[")
                    .and_then(|t| t.strip_suffix(']'))
                {
                    inodes.insert(inode.to_owned());
                }
            }
        }
    }
    let mut ports = HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(inode)) = (fields.get(1), fields.get(9)) else {
                continue;
            };
            if !inodes.contains(*inode) {
                continue;
            }
            if let Some(port) = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            {
                ports.insert(port);
            }
        }
    }
    ports
}
