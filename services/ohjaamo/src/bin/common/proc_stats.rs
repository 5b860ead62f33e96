//! CPU time of processes on this machine, from `/proc`, for the benchmarks: the
//! server's, an adapter's, and PostgreSQL's backends serving one database.

use sqlx::Connection as _;

/// CPU seconds (user + system) a process has used so far; 0 when it is gone.
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name may contain spaces; the fields after it are fixed.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of each PostgreSQL backend serving the benchmark database, by pid
/// (PostgreSQL runs on this machine, so its processes can be read).
pub async fn postgres_cpu(
    admin_url: &str,
    db_url: &str,
) -> anyhow::Result<std::collections::HashMap<i32, f64>> {
    let db = db_url.rsplit_once('/').map_or("", |(_, name)| name);
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
        .bind(db)
        .fetch_all(&mut admin)
        .await?;
    Ok(pids
        .into_iter()
        .map(|pid| (pid, cpu_seconds(pid as u32)))
        .collect())
}

/// CPU seconds of PostgreSQL's backends serving `db_url` used between two
/// [`postgres_cpu`] readings (a backend started in between counts whole).
#[allow(dead_code)] // used by bench_sources only
pub fn postgres_cpu_between(
    before: &std::collections::HashMap<i32, f64>,
    after: &std::collections::HashMap<i32, f64>,
) -> f64 {
    after
        .iter()
        .map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}
