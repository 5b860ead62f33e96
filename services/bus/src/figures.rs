//! The ward figures as the core serves them in JSON (`GET /picture`, the live stream)
//! and as the contract's `WardFigures` message: one conversion, so that a consumer
//! comparing its replica with a snapshot compares like with like.

use ohjaamo_proto::v1::WardFigures;
use serde_json::Value;

/// `figures` of a ward picture in JSON as the contract's message. Occupancy is per
/// mille (integers only on the bus); no open bed makes it 0.
pub fn ward_figures_from_json(figures: &Value) -> WardFigures {
    let n = |name: &str| figures[name].as_u64().unwrap_or(0) as u32;
    WardFigures {
        beds_total: n("beds_total"),
        beds_closed: n("beds_closed"),
        beds_occupied: n("occupied"),
        beds_reserved: n("reserved"),
        beds_free_now: n("free_now"),
        freeing_today: n("freeing_today"),
        freeing_tomorrow: n("freeing_tomorrow"),
        over_capacity_patients: n("over_capacity_patients"),
        patients: n("patients"),
        occupancy_per_mille: figures["occupancy_percent"]
            .as_f64()
            .map_or(0, |p| (p * 10.0).round() as u32),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn json_figures_become_the_message() {
        let f = super::ward_figures_from_json(&json!({
            "beds_total": 5, "beds_closed": 1, "beds_open": 4, "occupied": 2, "reserved": 1,
            "free_now": 1, "freeing_today": 1, "freeing_tomorrow": 1,
            "over_capacity_patients": 1, "patients": 3, "occupancy_percent": 75.0
        }));
        assert_eq!(
            (f.beds_total, f.beds_occupied, f.beds_free_now, f.patients),
            (5, 2, 1, 3)
        );
        assert_eq!(f.occupancy_per_mille, 750);
        let none_open = super::ward_figures_from_json(&json!({"occupancy_percent": null}));
        assert_eq!(none_open.occupancy_per_mille, 0);
    }
}
