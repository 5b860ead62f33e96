//! Single-resource interactions: create, read, vread, update (plain, If-Match,
//! conditional by identifier), delete, history, and tenant isolation.

#[macro_use]
mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn device(status: &str) -> Value {
    json!({
        "resourceType": "Device",
        "status": status,
        "identifier": [{ "system": ID_SYSTEM, "value": "DEV-1" }]
    })
}

both_backends!(create_read_vread);
async fn create_read_vread(h: &Harness) {
    let r = h.post("Device", &device("active")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"]
        .as_str()
        .expect("a server-assigned id")
        .to_owned();
    assert_eq!(r.version(), 1);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    let location = r.header("location").expect("Location header");
    assert_eq!(location, h.url(&format!("Device/{id}/_history/1")));
    assert!(
        r.header("last-modified")
            .is_some_and(|v| v.ends_with("GMT"))
    );
    assert!(r.header("content-type").unwrap().starts_with(FHIR_JSON));
    assert_eq!(r.body["meta"]["versionId"], "1");
    assert!(r.body["meta"]["lastUpdated"].is_string());
    assert_eq!(r.body["status"], "active");

    let read = h.get(&format!("Device/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.version(), 1);
    assert_eq!(read.body, r.body, "read returns what create stored");

    let vread = h.get(&format!("Device/{id}/_history/1")).await;
    assert_eq!(vread.status, StatusCode::OK);
    assert_eq!(vread.body, r.body);

    h.get(&format!("Device/{id}/_history/2"))
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
    h.get(&format!("Device/{id}/_history/abc"))
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
    h.get("Device/never-created")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);

    // Prefer: return=minimal and return=OperationOutcome change only the body.
    for (prefer, status) in [
        ("return=minimal", "active"),
        ("return=OperationOutcome", "inactive"),
    ] {
        let mut d = device(status);
        d["id"] = json!("pref");
        let r = h
            .send(
                h.with_body(Method::PUT, "Device/pref", &d)
                    .header("prefer", prefer),
            )
            .await;
        assert!(r.status.is_success(), "{prefer}: {}", r.text);
        assert!(r.header("etag").is_some(), "{prefer}");
        if prefer == "return=minimal" {
            assert!(r.text.is_empty(), "{prefer}: {}", r.text);
            assert!(r.header("location").is_some());
        } else {
            assert_eq!(r.body["resourceType"], "OperationOutcome", "{}", r.text);
        }
        assert_eq!(h.read("Device/pref").await["status"], status);
    }

    // A client-chosen id: PUT creates with 201 and a Location.
    let mut chosen = device("inactive");
    chosen["id"] = json!("dev-chosen");
    let r = h.put("Device/dev-chosen", &chosen).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some(h.url("Device/dev-chosen/_history/1").as_str())
    );
    assert_eq!(h.read("Device/dev-chosen").await["status"], "inactive");
}

both_backends!(update_versions_and_noop);
async fn update_versions_and_noop(h: &Harness) {
    let mut d = device("active");
    d["id"] = json!("d1");
    assert_eq!(h.put_resource(&d).await, 1);
    let v1 = h.read("Device/d1").await;

    d["status"] = json!("inactive");
    let r = h.put("Device/d1", &d).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 2);
    assert_eq!(r.body["meta"]["versionId"], "2");
    assert!(r.header("location").is_none(), "an update has no Location");
    let v2 = h.read("Device/d1").await;
    assert_eq!(v2["status"], "inactive");

    // The same content again (with whatever meta the client sends) is a no-op.
    let mut same = d.clone();
    same["meta"] = json!({ "versionId": "99", "lastUpdated": "2020-01-01T00:00:00Z" });
    let r = h.put("Device/d1", &same).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 2, "identical content must not make a version");
    assert_eq!(r.body, v2, "the no-op answers with the stored version");
    assert_eq!(h.read("Device/d1").await, v2);
    let history = h.read("Device/d1/_history").await;
    assert_eq!(history["total"], 2);

    // vread of the old version still shows the old content.
    assert_eq!(h.read("Device/d1/_history/1").await, v1);

    // The id in the body must be the one in the URL.
    let mut other = d.clone();
    other["id"] = json!("d2");
    h.put("Device/d1", &other)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    let mut no_id = d.clone();
    no_id.as_object_mut().unwrap().remove("id");
    h.put("Device/d1", &no_id)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert_eq!(h.read("Device/d1").await, v2);
}

both_backends!(if_match_guards_updates);
async fn if_match_guards_updates(h: &Harness) {
    let mut d = device("active");
    d["id"] = json!("d1");
    h.put_resource(&d).await;
    d["status"] = json!("inactive");
    let put_if = |etag: &'static str, body: Value| {
        h.with_body(Method::PUT, "Device/d1", &body)
            .header("if-match", etag)
    };

    let r = h.send(put_if("W/\"1\"", d.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 2);
    let v2 = h.read("Device/d1").await;

    // Stale: 412, nothing changes.
    d["status"] = json!("unknown");
    let msg = h
        .send(put_if("W/\"1\"", d.clone()))
        .await
        .assert_outcome(StatusCode::PRECONDITION_FAILED);
    assert!(msg.contains("version"), "{msg}");
    assert_eq!(h.read("Device/d1").await, v2);
    // Ahead of the server: 412 too.
    h.send(put_if("W/\"7\"", d.clone()))
        .await
        .assert_outcome(StatusCode::PRECONDITION_FAILED);

    // The current version, in any accepted spelling, succeeds.
    let r = h.send(put_if("\"2\"", d.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 3);

    // If-Match on a resource that does not exist: 412, nothing created.
    let mut ghost = device("active");
    ghost["id"] = json!("ghost");
    let r = h
        .send(
            h.with_body(Method::PUT, "Device/ghost", &ghost)
                .header("if-match", "W/\"1\""),
        )
        .await;
    r.assert_outcome(StatusCode::PRECONDITION_FAILED);
    h.get("Device/ghost")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);

    // A stale If-Match on delete refuses it as well.
    let r = h
        .send(
            h.request(Method::DELETE, "Device/d1")
                .header("if-match", "W/\"2\""),
        )
        .await;
    r.assert_outcome(StatusCode::PRECONDITION_FAILED);
    assert_eq!(h.get("Device/d1").await.version(), 3);
}

both_backends!(delete_then_gone);
async fn delete_then_gone(h: &Harness) {
    let mut d = device("active");
    d["id"] = json!("d1");
    h.put_resource(&d).await;
    let v1 = h.read("Device/d1").await;

    let r = h.delete("Device/d1").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let msg = h.get("Device/d1").await.assert_outcome(StatusCode::GONE);
    assert!(msg.contains("Device/d1"), "{msg}");
    // The old version stays readable; the deletion itself is gone.
    assert_eq!(h.read("Device/d1/_history/1").await, v1);
    h.get("Device/d1/_history/2")
        .await
        .assert_outcome(StatusCode::GONE);
    // Deleted resources are not found by search.
    h.assert_search("Device", &[], &[]).await;
    h.assert_search("Device", &[("identifier", "DEV-1")], &[])
        .await;

    // Deleting again is fine; deleting what never existed is 404.
    assert_eq!(h.delete("Device/d1").await.status, StatusCode::NO_CONTENT);
    h.delete("Device/nope")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);

    let history = h.read("Device/d1/_history").await;
    assert_eq!(history["total"], 2, "one version and one deletion");
    let first = &history["entry"][0];
    assert_eq!(first["request"]["method"], "DELETE");
    assert!(first.get("resource").is_none());
    assert_eq!(history["entry"][1]["resource"], v1);

    // Writing it again brings it back as version 3.
    let r = h.put("Device/d1", &d).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.version(), 3);
    h.assert_search("Device", &[], &["d1"]).await;
}

both_backends!(history_instance_and_type);
async fn history_instance_and_type(h: &Harness) {
    let mut a = device("active");
    a["id"] = json!("a");
    let mut b = device("inactive");
    b["id"] = json!("b");
    h.put_resource(&a).await;
    h.put_resource(&b).await;
    for status in ["inactive", "entered-in-error"] {
        a["status"] = json!(status);
        h.put_resource(&a).await;
    }

    let history = h.read("Device/a/_history").await;
    assert_eq!(history["type"], "history");
    assert_eq!(history["total"], 3);
    let versions: Vec<&str> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["meta"]["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["3", "2", "1"], "newest first");
    assert_eq!(history["entry"][2]["request"]["method"], "POST");
    assert_eq!(history["entry"][0]["request"]["method"], "PUT");
    assert_eq!(
        history["entry"][0]["resource"]["status"],
        "entered-in-error"
    );

    // Type history: every version of every Device, paged.
    let mut seen = Vec::new();
    let mut page = h.read("Device/_history?_count=2").await;
    assert_eq!(page["total"], 4);
    loop {
        for e in page["entry"].as_array().unwrap() {
            let r = &e["resource"];
            seen.push(format!(
                "{}/{}",
                r["id"].as_str().unwrap(),
                r["meta"]["versionId"].as_str().unwrap()
            ));
        }
        match link(&page, "next") {
            Some(next) => {
                let r = h.get_absolute(&next).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                page = r.body;
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["a/1", "a/2", "a/3", "b/1"]);

    // Other types' histories are empty; unknown instances 404.
    assert_eq!(h.read("Location/_history").await["total"], 0);
    h.get("Device/zzz/_history")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
}

both_backends!(conditional_update_by_identifier);
async fn conditional_update_by_identifier(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let path = format!("Slot?identifier={ID_SYSTEM}|S-1");
    let mut s = slot(
        "ignored",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    s.as_object_mut().unwrap().remove("id");
    s["identifier"] = json!([{ "system": ID_SYSTEM, "value": "S-1" }]);

    // No match: created with a server id.
    let r = h.put(&path, &s).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.version(), 1);
    assert!(r.header("location").is_some());

    // One match: that resource is updated.
    s["status"] = json!("free");
    let r = h.put(&path, &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.version(), 2);
    // Unchanged content: no new version.
    let r = h.put(&path, &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 2);
    // The OID spelled another way names the same identifier.
    s["status"] = json!("busy-tentative");
    let r = h
        .put("Slot?identifier=1.2.246.10.1234567.10.1|S-1", &s)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.version(), 3);
    h.assert_search("Slot", &[], &[&id]).await;

    // A body id naming another resource is refused.
    let mut wrong = s.clone();
    wrong["id"] = json!("someone-else");
    h.put(&path, &wrong)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);

    // Two resources with the identifier: 412, neither changes.
    let r = h.post("Slot", &s).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let second = r.body["id"].as_str().unwrap().to_owned();
    s["status"] = json!("free");
    let msg = h
        .put(&path, &s)
        .await
        .assert_outcome(StatusCode::PRECONDITION_FAILED);
    assert!(msg.contains("S-1"), "{msg}");
    assert_eq!(h.get(&format!("Slot/{id}")).await.version(), 3);
    assert_eq!(h.get(&format!("Slot/{second}")).await.version(), 1);

    // A PUT on the type needs the identifier parameter (and only it).
    h.put("Slot", &s)
        .await
        .assert_outcome(StatusCode::METHOD_NOT_ALLOWED);
    h.put(&format!("Slot?identifier={ID_SYSTEM}|S-1&status=busy"), &s)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    h.put(&format!("Slot?identifier={ID_SYSTEM}|"), &s)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
}

both_backends!(tenants_are_isolated);
async fn tenants_are_isolated(h: &Harness) {
    let as_org =
        |org: &'static str, method: Method, path: &str| h.request(method, path).header(TENANT, org);
    let body_as = |org: &'static str, method: Method, path: &str, body: &Value| {
        h.with_body(method, path, body).header(TENANT, org)
    };
    let ward = location("ward", "Osasto A", "wa", None);
    let r = h
        .send(body_as("org-a", Method::PUT, "Location/ward", &ward))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let sch = schedule("sch", "Location/ward");
    let r = h
        .send(body_as("org-a", Method::PUT, "Schedule/sch", &sch))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Organisation B sees none of it: reads, searches, histories.
    for path in ["Location/ward", "Schedule/sch", "Location/ward/_history"] {
        let r = h.send(as_org("org-b", Method::GET, path)).await;
        r.assert_outcome(StatusCode::NOT_FOUND);
        h.get(path).await.assert_outcome(StatusCode::NOT_FOUND); // the default tenant
    }
    for path in [
        "Location",
        "Location?name=osasto",
        "Schedule?actor=Location/ward",
        "Location/_history",
    ] {
        let r = h.send(as_org("org-b", Method::GET, path)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["total"], 0, "{path} under org-b: {}", r.text);
        assert!(r.body.get("entry").is_none(), "{path}: {}", r.text);
    }
    let r = h
        .send(as_org("org-a", Method::GET, "Location?name=osasto"))
        .await;
    assert_eq!(match_ids(&r.body), ["ward"]);

    // B cannot refer to A's resources: they do not exist for B.
    let s = slot(
        "s1",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    let r = h.send(body_as("org-b", Method::PUT, "Slot/s1", &s)).await;
    let msg = r.assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(msg.contains("Slot.schedule"), "{msg}");

    // B writing the same id makes B's own resource; A's stays as it was.
    let other = location("ward", "Osasto B", "ro", None);
    let r = h
        .send(body_as("org-b", Method::PUT, "Location/ward", &other))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.version(), 1);
    let a = h.send(as_org("org-a", Method::GET, "Location/ward")).await;
    assert_eq!(a.version(), 1);
    assert_eq!(a.body["name"], "Osasto A");
    // Deleting in B leaves A alone.
    let r = h
        .send(as_org("org-b", Method::DELETE, "Location/ward"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let a = h.send(as_org("org-a", Method::GET, "Location/ward")).await;
    assert_eq!(a.status, StatusCode::OK);

    // Conditional updates look only inside the tenant.
    let mut dev = device("active");
    let path = format!("Device?identifier={ID_SYSTEM}|DEV-1");
    let ra = h.send(body_as("org-a", Method::PUT, &path, &dev)).await;
    assert_eq!(ra.status, StatusCode::CREATED, "{}", ra.text);
    dev["status"] = json!("inactive");
    let rb = h.send(body_as("org-b", Method::PUT, &path, &dev)).await;
    assert_eq!(rb.status, StatusCode::CREATED, "{}", rb.text);
    assert_ne!(ra.body["id"], rb.body["id"]);
    let a_dev = h
        .send(as_org(
            "org-a",
            Method::GET,
            &format!("Device/{}", ra.body["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(a_dev.body["status"], "active");

    // Conditional references resolve only inside the tenant as well.
    let mut sch_a = schedule("sch-ident", "Location/ward");
    sch_a["identifier"] = json!([{ "system": ID_SYSTEM, "value": "SCH-A" }]);
    let r = h
        .send(body_as("org-a", Method::PUT, "Schedule/sch-ident", &sch_a))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mut s = slot(
        "s2",
        "x",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    s["schedule"] = json!({ "reference": format!("Schedule?identifier={ID_SYSTEM}|SCH-A") });
    let r = h.send(body_as("org-b", Method::PUT, "Slot/s2", &s)).await;
    r.assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.send(body_as("org-a", Method::PUT, "Slot/s2", &s)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = h
        .send(as_org("org-b", Method::GET, "Slot?_include=Slot:schedule"))
        .await;
    assert!(r.body.get("entry").is_none(), "{}", r.text);

    // A malformed organisation header is refused.
    let r = h.send(as_org("org a/../b", Method::GET, "Location")).await;
    r.assert_outcome(StatusCode::BAD_REQUEST);
}

both_backends!(metadata_lists_the_registry);
async fn metadata_lists_the_registry(h: &Harness) {
    let cs = h.read("metadata").await;
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    for rt in ohjaamo_fhir::ResourceType::ALL {
        let entry = resources
            .iter()
            .find(|r| r["type"] == rt.as_str())
            .unwrap_or_else(|| panic!("{rt} missing from the CapabilityStatement"));
        let listed: Vec<&str> = entry["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for p in ohjaamo_core::search::registry::params(rt) {
            assert!(listed.contains(&p.name), "{rt}.{} not listed", p.name);
        }
    }
}
