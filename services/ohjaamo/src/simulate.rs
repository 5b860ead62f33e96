//! `ohjaamo simulate`: the Lifecare-style source simulator (docs/source-model.md).

use std::net::SocketAddr;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use ohjaamo_simulator::{Faults, SimConfig, Simulator, Size};

use crate::process::shutdown_channel;

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Address of the export API (`/api/v1/...`) and `GET /truth`.
    #[arg(long, env = "OHJAAMO_SIM_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Seed of the hospital's history: the same seed lives the same days.
    #[arg(long, env = "OHJAAMO_SIM_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per real second (60: an hour a minute). 0 stops the clock;
    /// then `POST /ohjaus/eteenpain?minuutit=N` moves it.
    #[arg(long, env = "OHJAAMO_SIM_SPEED", default_value_t = 1.0)]
    pub speed: f64,
    /// Simulated start instant (RFC 3339); now when unset.
    #[arg(long, env = "OHJAAMO_SIM_START")]
    pub start: Option<jiff::Timestamp>,
    #[arg(long, env = "OHJAAMO_TIME_ZONE", default_value = "Europe/Helsinki")]
    pub time_zone: String,
    /// The ADT adapter's MLLP address (`host:port`); no feed when unset.
    #[arg(long, env = "OHJAAMO_SIM_ADT_TARGET")]
    pub adt_target: Option<String>,
    /// The hospital's size: `demo` (about 200 beds) or `large` (2,000 beds, 40
    /// theatres, 90 days of bookings); the flags below change single figures of it.
    #[arg(long, env = "OHJAAMO_SIM_SIZE", default_value = "demo")]
    pub size: SizePreset,
    #[arg(long)]
    pub hospitals: Option<usize>,
    #[arg(long)]
    pub wards_per_hospital: Option<usize>,
    #[arg(long)]
    pub beds_per_ward: Option<usize>,
    #[arg(long)]
    pub over_capacity_per_ward: Option<usize>,
    #[arg(long)]
    pub theatres: Option<usize>,
    #[arg(long)]
    pub recovery_bays: Option<usize>,
    #[arg(long)]
    pub rehabilitation_beds: Option<usize>,
    #[arg(long)]
    pub equipment: Option<usize>,
    /// Outpatient clinic rooms (each with 24 booking windows a day).
    #[arg(long)]
    pub clinic_rooms: Option<usize>,
    /// Days of operation lists, clinic lists and shifts published ahead.
    #[arg(long)]
    pub days_ahead: Option<usize>,
    /// Share of export requests answered 500.
    #[arg(long, default_value_t = 0.0)]
    pub fault_http_error_rate: f64,
    /// Share of export requests that never answer.
    #[arg(long, default_value_t = 0.0)]
    pub fault_timeout_rate: f64,
    /// Milliseconds added to every export request.
    #[arg(long, default_value_t = 0)]
    pub fault_slow_ms: u64,
    /// Share of export requests answered with an HTML page.
    #[arg(long, default_value_t = 0.0)]
    pub fault_html_rate: f64,
    /// Share of export pages cut off half way.
    #[arg(long, default_value_t = 0.0)]
    pub fault_half_page_rate: f64,
    /// Share of export pages with an extra malformed record.
    #[arg(long, default_value_t = 0.0)]
    pub fault_malformed_rate: f64,
    /// Share of ADT messages preceded by a garbage frame.
    #[arg(long, default_value_t = 0.0)]
    pub fault_garbage_mllp_rate: f64,
    /// Drop the MLLP connection after every n-th message, before its ACK (0 = never).
    #[arg(long, default_value_t = 0)]
    pub fault_drop_mllp_every: u32,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum SizePreset {
    Demo,
    Large,
}

impl SimulateArgs {
    fn sized(&self) -> Size {
        let preset = match self.size {
            SizePreset::Demo => Size::demo(),
            SizePreset::Large => Size::large(),
        };
        Size {
            hospitals: self.hospitals.unwrap_or(preset.hospitals),
            wards_per_hospital: self.wards_per_hospital.unwrap_or(preset.wards_per_hospital),
            beds_per_ward: self.beds_per_ward.unwrap_or(preset.beds_per_ward),
            over_capacity_per_ward: self
                .over_capacity_per_ward
                .unwrap_or(preset.over_capacity_per_ward),
            theatres: self.theatres.unwrap_or(preset.theatres),
            recovery_bays: self.recovery_bays.unwrap_or(preset.recovery_bays),
            rehabilitation_beds: self
                .rehabilitation_beds
                .unwrap_or(preset.rehabilitation_beds),
            equipment: self.equipment.unwrap_or(preset.equipment),
            clinic_rooms: self.clinic_rooms.unwrap_or(preset.clinic_rooms),
            days_ahead: self.days_ahead.unwrap_or(preset.days_ahead),
        }
    }

    pub fn config(&self) -> anyhow::Result<SimConfig> {
        let zone = TimeZone::get(&self.time_zone)
            .with_context(|| format!("unknown time zone {:?}", self.time_zone))?;
        let start = match self.start {
            Some(t) => t,
            None => {
                let now = jiff::Timestamp::now();
                jiff::Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(60))?
            }
        };
        Ok(SimConfig {
            seed: self.seed,
            size: self.sized(),
            start,
            zone,
            speed: self.speed,
            adt_target: self.adt_target.clone(),
            faults: Faults {
                http_error_rate: self.fault_http_error_rate,
                timeout_rate: self.fault_timeout_rate,
                slow_ms: self.fault_slow_ms,
                html_rate: self.fault_html_rate,
                half_page_rate: self.fault_half_page_rate,
                malformed_rate: self.fault_malformed_rate,
                garbage_mllp_rate: self.fault_garbage_mllp_rate,
                drop_mllp_every: self.fault_drop_mllp_every,
            },
        })
    }
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let simulator = Simulator::new(args.config()?);
    serve(simulator, &args).await
}

/// Serves a simulator already built (the demo builds it first, to follow its time).
pub async fn serve(simulator: Simulator, args: &SimulateArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    simulator.serve(listener, shutdown_channel()).await?;
    tracing::info!("simulator stopped");
    Ok(())
}
