//! What a searchset carries besides its matches: `_sort`, `_include`,
//! `_summary=count`, `_total`, paging with `next` / `previous` links, and the
//! handling of unknown parameters (lenient: ignored with an outcome; strict: 400).

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn named(id: &str, name: Option<&str>, status: &str) -> Value {
    let mut l = json!({ "resourceType": "Location", "id": id, "status": status });
    if let Some(n) = name {
        l["name"] = json!(n);
    }
    l
}

both_backends!(sort_orders);
async fn sort_orders(h: &Harness) {
    h.seed(&[
        named("l1", Some("Charlie"), "active"),
        named("l2", Some("alfa"), "inactive"),
        named("l3", Some("delta"), "active"),
        named("l4", Some("Bravo"), "suspended"),
        named("l5", None, "active"),
    ])
    .await;
    let order = |params: &'static [(&'static str, &'static str)]| async move {
        match_ids(&h.search("Location", params).await)
    };
    // Strings sort ignoring case; resources without the value come last either way.
    assert_eq!(
        order(&[("_sort", "name")]).await,
        ["l2", "l4", "l1", "l3", "l5"]
    );
    assert_eq!(
        order(&[("_sort", "-name")]).await,
        ["l3", "l1", "l4", "l2", "l5"]
    );
    assert_eq!(
        order(&[("_sort", "_id")]).await,
        ["l1", "l2", "l3", "l4", "l5"]
    );
    assert_eq!(
        order(&[("_sort", "-_id")]).await,
        ["l5", "l4", "l3", "l2", "l1"]
    );
    // Several keys: status, then name descending.
    assert_eq!(
        order(&[("_sort", "status,-name")]).await,
        ["l3", "l1", "l5", "l2", "l4"]
    );
    // Sorting applies before paging.
    assert_eq!(
        order(&[("_sort", "-name"), ("_count", "2"), ("_offset", "2")]).await,
        ["l4", "l2"]
    );
    // Without _sort the order is still stable (by id).
    assert_eq!(order(&[]).await, ["l1", "l2", "l3", "l4", "l5"]);
}

both_backends!(includes);
async fn includes(h: &Harness) {
    let mut dev = json!({ "resourceType": "Device", "id": "dev", "status": "active" });
    dev["location"] = json!({ "reference": "Location/ward" });
    h.seed(&[
        location("site", "Sairaala", "si", None),
        location("ward", "Osasto 1", "wa", Some("site")),
        location("bed-1", "Vuode 1", "bd", Some("ward")),
        location("bed-2", "Vuode 2", "bd", Some("ward")),
        dev,
        schedule("sch-1", "Location/bed-1"),
        schedule("sch-2", "Location/bed-2"),
        schedule("sch-dev", "Device/dev"),
        slot(
            "slot-1",
            "sch-1",
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
        ),
        slot(
            "slot-2",
            "sch-1",
            "2026-03-29T11:00:00+03:00",
            "2026-03-29T12:00:00+03:00",
        ),
        slot(
            "slot-3",
            "sch-2",
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
        ),
    ])
    .await;
    let included = |b: &Value| -> BTreeSet<String> {
        entries_with_mode(b, "include")
            .iter()
            .map(|r| format!("{}/{}", r["resourceType"].as_str().unwrap(), id_of(r)))
            .collect()
    };
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    // Slot:schedule: each Schedule once, however many Slots point at it.
    let b = h.search("Slot", &[("_include", "Slot:schedule")]).await;
    assert_eq!(match_ids(&b), ["slot-1", "slot-2", "slot-3"]);
    assert_eq!(included(&b), set(&["Schedule/sch-1", "Schedule/sch-2"]));
    assert_eq!(entries_with_mode(&b, "include").len(), 2);
    assert_eq!(b["total"], 3, "included resources do not count");
    let b = h
        .search(
            "Slot",
            &[("schedule", "sch-2"), ("_include", "Slot:schedule")],
        )
        .await;
    assert_eq!(included(&b), set(&["Schedule/sch-2"]));

    // Schedule:actor reaches Locations and Devices; a target type narrows it.
    let b = h
        .search("Schedule", &[("_include", "Schedule:actor")])
        .await;
    assert_eq!(
        included(&b),
        set(&["Location/bed-1", "Location/bed-2", "Device/dev"])
    );
    let b = h
        .search("Schedule", &[("_include", "Schedule:actor:Device")])
        .await;
    assert_eq!(included(&b), set(&["Device/dev"]));

    // Location:partof; a parent that is itself a match is not repeated.
    let b = h
        .search(
            "Location",
            &[("physical-type", "bd"), ("_include", "Location:partof")],
        )
        .await;
    assert_eq!(included(&b), set(&["Location/ward"]));
    let b = h
        .search("Location", &[("_include", "Location:partof")])
        .await;
    assert_eq!(match_ids(&b).len(), 4);
    assert!(
        included(&b).is_empty(),
        "matches are not included again: {b}"
    );

    // Only the current page's matches bring their includes.
    let b = h
        .search(
            "Slot",
            &[
                ("_sort", "_id"),
                ("_count", "1"),
                ("_offset", "2"),
                ("_include", "Slot:schedule"),
            ],
        )
        .await;
    assert_eq!(match_ids(&b), ["slot-3"]);
    assert_eq!(included(&b), set(&["Schedule/sch-2"]));

    // An _include for another type is allowed and changes nothing.
    let b = h.search("Slot", &[("_include", "Location:partof")]).await;
    assert!(included(&b).is_empty());
    // Deleted targets are not included.
    assert_eq!(h.delete("Slot/slot-3").await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.delete("Schedule/sch-2").await.status,
        StatusCode::NO_CONTENT
    );
    let b = h.search("Slot", &[("_include", "Slot:schedule")]).await;
    assert_eq!(included(&b), set(&["Schedule/sch-1"]));
}

both_backends!(summary_count_and_total);
async fn summary_count_and_total(h: &Harness) {
    let locs: Vec<Value> = (0..7)
        .map(|i| named(&format!("l{i}"), Some("X"), "active"))
        .collect();
    h.seed(&locs).await;
    let b = h.search("Location", &[("_summary", "count")]).await;
    assert_eq!(b["total"], 7);
    assert!(b.get("entry").is_none(), "{b}");
    assert!(link(&b, "next").is_none());
    let b = h
        .search("Location", &[("_summary", "count"), ("_id", "l1,l2")])
        .await;
    assert_eq!(b["total"], 2);

    let b = h.search("Location", &[("_count", "3")]).await;
    assert_eq!(b["total"], 7, "a total by default");
    assert_eq!(match_ids(&b).len(), 3);
    for total in ["none"] {
        let b = h
            .search("Location", &[("_total", total), ("_count", "3")])
            .await;
        assert!(b.get("total").is_none(), "_total=none: {b}");
        assert_eq!(match_ids(&b).len(), 3);
        assert!(link(&b, "next").is_some(), "paging works without a total");
    }
    for total in ["accurate", "estimate"] {
        let b = h.search("Location", &[("_total", total)]).await;
        assert_eq!(b["total"], 7);
    }
    // _count=0: the total only, and no links to pages that cannot exist.
    let b = h.search("Location", &[("_count", "0")]).await;
    assert!(b.get("entry").is_none(), "{b}");
    assert_eq!(b["total"], 7);
    assert!(link(&b, "next").is_none(), "{b}");
    // An empty page past the end.
    let b = h.search("Location", &[("_offset", "100")]).await;
    assert!(b.get("entry").is_none());
    assert_eq!(b["total"], 7);
    assert!(link(&b, "next").is_none());
}

both_backends!(paging_follows_links);
async fn paging_follows_links(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    const N: usize = 23;
    let slots: Vec<Value> = (0..N)
        .map(|i| {
            slot(
                &format!("p{i:02}"),
                "sch",
                &format!("2026-04-01T{:02}:00:00+03:00", i),
                &format!("2026-04-01T{:02}:30:00+03:00", i),
            )
        })
        .collect();
    h.seed(&slots).await;
    let all: Vec<String> = (0..N).map(|i| format!("p{i:02}")).collect();

    for (sort, expected_order) in [
        ("start", all.clone()),
        ("-start", all.iter().rev().cloned().collect::<Vec<_>>()),
    ] {
        let first = h
            .search(
                "Slot",
                &[("status", "busy"), ("_sort", sort), ("_count", "5")],
            )
            .await;
        // Forward through `next` until there is none.
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut page = first.clone();
        loop {
            assert_eq!(page["total"], N as u64);
            assert!(link(&page, "self").is_some());
            assert_eq!(link(&page, "first"), link(&first, "first"));
            pages.push(match_ids(&page));
            let Some(next) = link(&page, "next") else {
                break;
            };
            assert!(
                next.contains("status=busy"),
                "filters stay in links: {next}"
            );
            assert!(pages.len() < 10, "paging does not end");
            let r = h.get_absolute(&next).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            page = r.body;
        }
        assert_eq!(pages.len(), 5, "23 matches in pages of 5");
        assert!(pages[..4].iter().all(|p| p.len() == 5) && pages[4].len() == 3);
        let seen: Vec<String> = pages.concat();
        assert_eq!(seen, expected_order, "every match once, in order");
        assert!(link(&first, "previous").is_none());

        // Backward through `previous` gives the same pages.
        let mut back = vec![match_ids(&page)];
        while let Some(previous) = link(&page, "previous") {
            assert!(back.len() < 10, "previous does not end");
            let r = h.get_absolute(&previous).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            page = r.body;
            back.push(match_ids(&page));
        }
        back.reverse();
        assert_eq!(back, pages);

        // `first` goes back to the start.
        let r = h.get_absolute(&link(&page, "first").unwrap()).await;
        assert_eq!(match_ids(&r.body), pages[0]);
    }

    // _count above the maximum is capped; the default page size applies without it.
    let b = h.search("Slot", &[("_count", "100000")]).await;
    assert_eq!(match_ids(&b).len(), N);
    let b = h.search("Slot", &[]).await;
    assert_eq!(match_ids(&b).len(), N, "fewer than the default page size");
}

both_backends!(unknown_parameters);
async fn unknown_parameters(h: &Harness) {
    h.seed(&[
        named("a", Some("Alfa"), "active"),
        named("b", Some("Beta"), "inactive"),
    ])
    .await;

    // Lenient (the default, and when asked): ignored, and said so in an outcome entry.
    for prefer in [None, Some("handling=lenient")] {
        let mut request = h
            .client
            .get(h.search_url("Location", &[("colour", "red"), ("status", "active")]));
        if let Some(p) = prefer {
            request = request.header("prefer", p);
        }
        let r = h.send(request).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            match_ids(&r.body),
            ["a"],
            "the known parameter still applies"
        );
        let outcomes = entries_with_mode(&r.body, "outcome");
        assert_eq!(outcomes.len(), 1, "{}", r.text);
        assert_outcome_body(&outcomes[0], &r.text);
        assert_eq!(outcomes[0]["issue"][0]["severity"], "warning");
        assert!(diagnostics(&outcomes[0]).contains("colour"));
        let self_link = link(&r.body, "self").unwrap();
        assert!(
            !self_link.contains("colour"),
            "ignored parameters are not in self: {self_link}"
        );
    }
    // Nothing ignored: no outcome entry.
    let b = h.search("Location", &[("status", "active")]).await;
    assert!(entries_with_mode(&b, "outcome").is_empty());

    // Strict: 400 naming the parameter.
    let strict = |params: &[(&str, &str)]| {
        h.client
            .get(h.search_url("Location", params))
            .header("prefer", "handling=strict")
    };
    let msg = h
        .send(strict(&[("colour", "red")]))
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert!(msg.contains("colour"), "{msg}");
    h.send(strict(&[("_summary", "text")]))
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    // Strict with known parameters only is an ordinary search.
    let r = h.send(strict(&[("status", "inactive")])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(match_ids(&r.body), ["b"]);
    // _summary values other than count are ignored leniently.
    let b = h.search("Location", &[("_summary", "text")]).await;
    assert_eq!(match_ids(&b), ["a", "b"]);
    assert_eq!(entries_with_mode(&b, "outcome").len(), 1);
}
