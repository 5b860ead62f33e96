//! `GET /wards` (the replica, in the shape of the core's `GET /picture` units) and
//! `GET /status` (connection, counts, and every picture sequence received, so that an
//! end-to-end test can check none was lost).

use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::replica::lock;
use crate::{Replica, Status};

pub fn router(organization: String, replica: Arc<Mutex<Replica>>, status: Arc<Status>) -> Router {
    let wards = {
        let replica = replica.clone();
        move || async move { Json(wards_body(&organization, &lock(&replica))) }
    };
    let status = move || async move {
        let r = lock(&replica);
        let mut received: Vec<u64> = r.received.iter().copied().collect();
        received.sort_unstable();
        Json(json!({
            "bus": status.to_json(),
            "replica": &*r,
            "received": received,
        }))
    };
    Router::new()
        .route("/wards", get(wards))
        .route("/status", get(status))
        .route("/livez", get(|| async { "ok" }))
}

fn wards_body(organization: &str, replica: &Replica) -> Value {
    let units: Vec<Value> = replica
        .wards
        .iter()
        .map(|(id, ward)| {
            json!({
                "id": id,
                "name": ward.name,
                "sequence": ward.sequence,
                "figures": ward.figures,
            })
        })
        .collect();
    json!({
        "organization": organization,
        "sequence": replica.sequence(),
        "units": units,
    })
}
