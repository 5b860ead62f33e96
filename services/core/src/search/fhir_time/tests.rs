use super::*;
use jiff::civil::Date;

const SEC: i64 = 1_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn hel() -> TimeZone {
    TimeZone::get("Europe/Helsinki").expect("Europe/Helsinki in the tz database")
}

fn utc() -> TimeZone {
    TimeZone::UTC
}

/// Independent oracle: jiff's own RFC 3339 parser.
fn ts(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("oracle {s}: {e}"))
        .as_microsecond()
}

fn range(value: &str, tz: &TimeZone) -> Range {
    parse_range(value, tz).unwrap_or_else(|e| panic!("{value}: {e}"))
}

fn span(lo: &str, hi: &str) -> Range {
    Range {
        lo: ts(lo),
        hi: ts(hi),
    }
}

#[test]
fn every_precision_in_utc() {
    let z = utc();
    let cases = [
        ("2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("2026-02", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
        ("2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("2026-03-10", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"),
        ("2026-12-31", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"),
        (
            "2026-03-10T10:15",
            "2026-03-10T10:15:00Z",
            "2026-03-10T10:16:00Z",
        ),
        (
            "2026-03-10T10:15Z",
            "2026-03-10T10:15:00Z",
            "2026-03-10T10:16:00Z",
        ),
        (
            "2026-03-10T23:59:59Z",
            "2026-03-10T23:59:59Z",
            "2026-03-11T00:00:00Z",
        ),
        (
            "2026-03-10T10:15:30",
            "2026-03-10T10:15:30Z",
            "2026-03-10T10:15:31Z",
        ),
        (
            "2026-03-10T10:15:30.5Z",
            "2026-03-10T10:15:30.5Z",
            "2026-03-10T10:15:30.6Z",
        ),
        (
            "2026-03-10T10:15:30.12Z",
            "2026-03-10T10:15:30.12Z",
            "2026-03-10T10:15:30.13Z",
        ),
        (
            "2026-03-10T10:15:30.999Z",
            "2026-03-10T10:15:30.999Z",
            "2026-03-10T10:15:31Z",
        ),
        (
            "2026-03-10T10:15:30.000001Z",
            "2026-03-10T10:15:30.000001Z",
            "2026-03-10T10:15:30.000002Z",
        ),
        (
            "2026-03-10T10:15:30.1234567Z",
            "2026-03-10T10:15:30.123456Z",
            "2026-03-10T10:15:30.123457Z",
        ),
        (
            "2026-03-10T10:15:30.123456789Z",
            "2026-03-10T10:15:30.123456Z",
            "2026-03-10T10:15:30.123457Z",
        ),
        (
            "1969-12-31T23:59:59.5Z",
            "1969-12-31T23:59:59.5Z",
            "1969-12-31T23:59:59.6Z",
        ),
    ];
    for (value, lo, hi) in cases {
        assert_eq!(range(value, &z), span(lo, hi), "{value}");
    }
    assert_eq!(range("2024", &z).hi - range("2024", &z).lo, 366 * DAY);
    assert_eq!(range("2026", &z).hi - range("2026", &z).lo, 365 * DAY);
    assert_eq!(range("1970", &z).lo, 0);
}

#[test]
fn every_precision_in_helsinki() {
    let h = hel();
    let cases = [
        ("2026", "2025-12-31T22:00:00Z", "2026-12-31T22:00:00Z"),
        ("2026-07", "2026-06-30T21:00:00Z", "2026-07-31T21:00:00Z"),
        ("2026-03", "2026-02-28T22:00:00Z", "2026-03-31T21:00:00Z"),
        ("2026-07-15", "2026-07-14T21:00:00Z", "2026-07-15T21:00:00Z"),
        ("2026-01-15", "2026-01-14T22:00:00Z", "2026-01-15T22:00:00Z"),
        (
            "2026-07-15T10:15",
            "2026-07-15T07:15:00Z",
            "2026-07-15T07:16:00Z",
        ),
        (
            "2026-01-15T10:15:30",
            "2026-01-15T08:15:30Z",
            "2026-01-15T08:15:31Z",
        ),
        (
            "2026-01-15T10:15:30.25",
            "2026-01-15T08:15:30.25Z",
            "2026-01-15T08:15:30.26Z",
        ),
    ];
    for (value, lo, hi) in cases {
        assert_eq!(range(value, &h), span(lo, hi), "{value}");
    }
}

#[test]
fn explicit_offset_wins_over_tz() {
    for value in [
        "2026-03-10T10:00:00+05:30",
        "2026-03-10T10:00:00-03:00",
        "2026-03-10T10:00Z",
        "2026-03-10T10:00:00.5+14:00",
        "2026-03-10T10:00:00-14:00",
        "2026-03-10T10:00:00-00:00",
    ] {
        assert_eq!(range(value, &hel()), range(value, &utc()), "{value}");
    }
    assert_eq!(
        range("2026-03-10T10:00:00+05:30", &hel()).lo,
        ts("2026-03-10T04:30:00Z")
    );
    assert_eq!(
        range("2026-03-10T10:00:00-14:00", &hel()).lo,
        ts("2026-03-11T00:00:00Z")
    );
}

#[test]
fn leap_days() {
    let h = hel();
    let r = range("2028-02-29", &h);
    assert_eq!(r, span("2028-02-28T22:00:00Z", "2028-02-29T22:00:00Z"));
    assert_eq!(range("2028-02-28", &h).hi, r.lo);
    assert_eq!(range("2028-03-01", &h).lo, r.hi);
    assert!(parse_range("2000-02-29", &h).is_ok());
    assert!(parse_range("2028-02-29T12:00:00Z", &h).is_ok());
    for bad in [
        "2026-02-29",
        "2100-02-29",
        "1900-02-29",
        "2028-02-30",
        "2026-02-29T00:00:00Z",
    ] {
        assert!(parse_range(bad, &h).is_err(), "{bad}");
    }
    for (ok, bad) in [
        ("2026-01-31", "2026-01-32"),
        ("2026-04-30", "2026-04-31"),
        ("2026-06-30", "2026-06-31"),
        ("2026-09-30", "2026-09-31"),
        ("2026-11-30", "2026-11-31"),
        ("2026-12-31", "2026-12-32"),
    ] {
        assert!(parse_range(ok, &h).is_ok(), "{ok}");
        assert!(parse_range(bad, &h).is_err(), "{bad}");
    }
}

#[test]
fn helsinki_dst_days_are_23_and_25_hours() {
    let h = hel();
    let spring = range("2026-03-29", &h);
    assert_eq!(spring, span("2026-03-28T22:00:00Z", "2026-03-29T21:00:00Z"));
    assert_eq!(spring.hi - spring.lo, 23 * HOUR);
    let autumn = range("2026-10-25", &h);
    assert_eq!(autumn, span("2026-10-24T21:00:00Z", "2026-10-25T22:00:00Z"));
    assert_eq!(autumn.hi - autumn.lo, 25 * HOUR);
    // Neighbouring days are ordinary and tile with the change days.
    for (before, day, after) in [
        ("2026-03-28", "2026-03-29", "2026-03-30"),
        ("2026-10-24", "2026-10-25", "2026-10-26"),
    ] {
        let (b, d, a) = (range(before, &h), range(day, &h), range(after, &h));
        assert_eq!(b.hi - b.lo, DAY);
        assert_eq!(a.hi - a.lo, DAY);
        assert_eq!(b.hi, d.lo);
        assert_eq!(d.hi, a.lo);
    }
    // Months containing a change are an hour short or long.
    let march = range("2026-03", &h);
    assert_eq!(march.hi - march.lo, 31 * DAY - HOUR);
    let october = range("2026-10", &h);
    assert_eq!(october.hi - october.lo, 31 * DAY + HOUR);
}

#[test]
fn instants_around_the_changes_with_explicit_offsets() {
    let h = hel();
    let cases = [
        ("2026-03-29T02:59:59+02:00", "2026-03-29T00:59:59Z"),
        ("2026-03-29T04:00:00+03:00", "2026-03-29T01:00:00Z"),
        ("2026-03-29T04:00:01+03:00", "2026-03-29T01:00:01Z"),
        ("2026-10-25T03:59:59+03:00", "2026-10-25T00:59:59Z"),
        ("2026-10-25T03:00:00+02:00", "2026-10-25T01:00:00Z"),
        ("2026-10-25T03:30:00+03:00", "2026-10-25T00:30:00Z"),
        ("2026-10-25T03:30:00+02:00", "2026-10-25T01:30:00Z"),
    ];
    for (value, want) in cases {
        let r = range(value, &h);
        assert_eq!(r.lo, ts(want), "{value}");
        assert_eq!(r.hi - r.lo, SEC, "{value}");
    }
}

#[test]
fn local_times_in_gap_and_fold() {
    let h = hel();
    let cases = [
        // Unambiguous neighbours of the spring gap [03:00, 04:00).
        ("2026-03-29T02:59:59", "2026-03-29T00:59:59Z"),
        ("2026-03-29T04:00", "2026-03-29T01:00:00Z"),
        // In the gap: read with +02:00, i.e. shifted forward one hour.
        ("2026-03-29T03:00", "2026-03-29T01:00:00Z"),
        ("2026-03-29T03:30", "2026-03-29T01:30:00Z"),
        ("2026-03-29T03:59:59.5", "2026-03-29T01:59:59.5Z"),
        // Neighbours of the autumn fold [03:00, 04:00), which occurs twice.
        ("2026-10-25T02:59:59", "2026-10-24T23:59:59Z"),
        ("2026-10-25T04:00", "2026-10-25T02:00:00Z"),
        // In the fold: the earlier occurrence (+03:00).
        ("2026-10-25T03:00", "2026-10-25T00:00:00Z"),
        ("2026-10-25T03:30", "2026-10-25T00:30:00Z"),
        ("2026-10-25T03:59:59", "2026-10-25T00:59:59Z"),
    ];
    for (value, want) in cases {
        assert_eq!(range(value, &h).lo, ts(want), "{value}");
    }
    // Time-of-day widths are absolute even across a transition.
    let r = range("2026-10-25T03:59", &h);
    assert_eq!(r, span("2026-10-25T00:59:00Z", "2026-10-25T01:00:00Z"));
    let r = range("2026-03-29T02:59", &h);
    assert_eq!(r, span("2026-03-29T00:59:00Z", "2026-03-29T01:00:00Z"));
}

#[test]
fn extreme_years() {
    let h = hel();
    let last = range("9999", &h);
    assert_eq!(last.hi - last.lo, 365 * DAY);
    let r = range("9999-12-31", &h);
    assert_eq!(r.hi - r.lo, DAY);
    let r = range("9999-12-31T23:59:59.999999Z", &h);
    assert_eq!(format_instant(r.lo), "9999-12-31T23:59:59.999999Z");
    assert_eq!(
        range("9999-12", &utc()).hi,
        days_from_civil(10_000, 1, 1) * DAY
    );
    let first = range("0001", &utc());
    assert_eq!(first.lo, -DAYS_0001_TO_1970 * DAY);
    assert_eq!(format_instant(first.lo), "0001-01-01T00:00:00.000000Z");
    // Helsinki used local mean time then; the range still spans the year.
    let first = range("0001", &h);
    assert_eq!(first.hi - first.lo, 365 * DAY);
}

#[test]
fn civil_arithmetic_agrees_with_jiff_for_every_day() {
    let mut date = Date::new(1, 1, 1).expect("0001-01-01");
    let mut n = -DAYS_0001_TO_1970;
    loop {
        let (y, m, d) = (
            i64::from(date.year()),
            date.month() as u32,
            date.day() as u32,
        );
        assert_eq!(days_from_civil(y, m, d), n, "{date}");
        assert_eq!(civil_from_days(n), (y, m, d), "{date}");
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
        n += 1;
    }
    assert_eq!((date.year(), date.month(), date.day()), (9999, 12, 31));
    assert_eq!(civil_from_days(n + 1), (10_000, 1, 1));
}

#[test]
fn format_instant_examples_and_round_trip() {
    assert_eq!(format_instant(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(format_instant(-1), "1969-12-31T23:59:59.999999Z");
    assert_eq!(
        format_instant(ts("2026-03-29T01:00:00.123456Z")),
        "2026-03-29T01:00:00.123456Z"
    );
    assert_eq!(format_instant(i64::MIN), "0001-01-01T00:00:00.000000Z");
    assert_eq!(format_instant(i64::MAX), "9999-12-31T23:59:59.999999Z");
    let samples = [
        0,
        1,
        -1,
        ts("2026-03-29T00:59:59.999999Z"),
        ts("2026-03-29T01:00:00Z"),
        ts("2026-10-25T01:00:00.5Z"),
        ts("2028-02-29T23:59:59.999999Z"),
        ts("1900-03-01T12:00:00Z"),
        ts("0001-01-02T00:00:00.000001Z"),
        now_micros(),
    ];
    for micros in samples {
        let text = format_instant(micros);
        for tz in [hel(), utc()] {
            let r = range(&text, &tz);
            assert_eq!(
                r,
                Range {
                    lo: micros,
                    hi: micros + 1
                },
                "{text}"
            );
        }
        assert_eq!(ts(&text), micros, "{text}");
    }
    // A dense sweep over a couple of years at an odd stride.
    let mut micros = ts("2025-12-30T00:00:00Z");
    while micros < ts("2027-01-02T00:00:00Z") {
        assert_eq!(range(&format_instant(micros), &utc()).lo, micros);
        micros += 7 * HOUR + 13 * MIN + 17 * SEC + 123_457;
    }
}

#[test]
fn now_is_plausible() {
    let now = now_micros();
    assert!(now > ts("2025-01-01T00:00:00Z"));
    assert!(now < ts("2200-01-01T00:00:00Z"));
}

#[test]
fn prefix_split_and_as_str() {
    let all = [
        Prefix::Eq,
        Prefix::Ne,
        Prefix::Gt,
        Prefix::Lt,
        Prefix::Ge,
        Prefix::Le,
        Prefix::Sa,
        Prefix::Eb,
    ];
    for p in all {
        let value = format!("{}2026-01-01", p.as_str());
        assert_eq!(Prefix::split(&value), Ok((p, "2026-01-01")));
    }
    assert_eq!(Prefix::split("2026-01-01"), Ok((Prefix::Eq, "2026-01-01")));
    assert_eq!(Prefix::split(""), Ok((Prefix::Eq, "")));
    assert_eq!(Prefix::split("2"), Ok((Prefix::Eq, "2")));
    assert_eq!(Prefix::split("ge"), Ok((Prefix::Ge, "")));
    assert_eq!(Prefix::split("ää"), Ok((Prefix::Eq, "ää")));
    assert_eq!(Prefix::split("gä"), Ok((Prefix::Eq, "gä")));
    let err = Prefix::split("ap2026-01-01").expect_err("ap");
    assert!(err.0.contains("not supported"), "{err}");
    assert!(err.0.contains("ap2026-01-01"), "{err}");
    for bad in ["xx2026", "GE2026-01-01", "Eq2026", "aa"] {
        let err = Prefix::split(bad).expect_err(bad);
        assert!(err.0.contains(bad), "{err}");
    }
}

#[test]
fn prefix_matches_on_a_day() {
    let h = hel();
    let day = range("2026-03-10", &h);
    let before = range("2026-03-09", &h);
    let next = range("2026-03-11", &h);
    // A Slot starting exactly at local midnight, and one ending exactly there.
    let morning = range("2026-03-10T00:00", &h);
    let evening = Range {
        lo: range("2026-03-09T23:30", &h).lo,
        hi: morning.lo,
    };
    assert!(Prefix::Eq.matches(day, morning));
    assert!(!Prefix::Eq.matches(before, morning));
    assert!(Prefix::Eq.matches(before, evening));
    assert!(!Prefix::Eq.matches(day, evening));
    assert!(Prefix::Sa.matches(before, morning));
    assert!(!Prefix::Sa.matches(day, morning));
    assert!(Prefix::Eb.matches(day, evening));
    assert!(!Prefix::Eb.matches(before, evening));

    let inside = range("2026-03-10T12:00:00+02:00", &h);
    let straddle = Range {
        lo: inside.lo,
        hi: next.lo + HOUR,
    };
    let later = range("2026-03-12T08:00", &h);
    let earlier = range("2026-03-08T08:00", &h);
    // (prefix, [inside, straddle into next day, later, earlier, whole day, midnight slot, evening slot])
    let table = [
        (Prefix::Eq, [true, false, false, false, true, true, false]),
        (Prefix::Ne, [false, true, true, true, false, false, true]),
        (Prefix::Gt, [false, true, true, false, false, false, false]),
        (Prefix::Lt, [false, false, false, true, false, false, true]),
        (Prefix::Ge, [true, true, true, false, true, true, false]),
        (Prefix::Le, [true, false, false, true, true, true, true]),
        (Prefix::Sa, [false, false, true, false, false, false, false]),
        (Prefix::Eb, [false, false, false, true, false, false, true]),
    ];
    let targets = [inside, straddle, later, earlier, day, morning, evening];
    for (prefix, expected) in table {
        for (target, want) in targets.iter().zip(expected) {
            assert_eq!(
                prefix.matches(day, *target),
                want,
                "{} {target:?}",
                prefix.as_str()
            );
        }
    }
    // The next day's first microsecond is gt/sa but not ge-by-eq; the last
    // microsecond of the day is eq/le, not lt.
    let first_next = Range {
        lo: day.hi,
        hi: day.hi + 1,
    };
    let last_in = Range {
        lo: day.hi - 1,
        hi: day.hi,
    };
    assert!(Prefix::Gt.matches(day, first_next) && Prefix::Ge.matches(day, first_next));
    assert!(Prefix::Sa.matches(day, first_next) && !Prefix::Eq.matches(day, first_next));
    assert!(Prefix::Eq.matches(day, last_in) && Prefix::Le.matches(day, last_in));
    assert!(!Prefix::Lt.matches(day, last_in) && !Prefix::Gt.matches(day, last_in));
}

#[test]
fn prefix_matches_open_periods() {
    let h = hel();
    let search = range("2026-03-10", &h);
    let open_end = period_range(Some("2026-03-01"), None, &h).expect("open end");
    assert!(Prefix::Gt.matches(search, open_end));
    assert!(Prefix::Lt.matches(search, open_end));
    assert!(!Prefix::Eq.matches(search, open_end));
    assert!(Prefix::Ne.matches(search, open_end));
    assert!(!Prefix::Sa.matches(search, open_end));
    let open_start = period_range(None, Some("2026-03-09"), &h).expect("open start");
    assert!(Prefix::Eb.matches(search, open_start));
    assert!(Prefix::Le.matches(search, open_start));
    assert!(!Prefix::Ge.matches(search, open_start));
}

#[test]
fn period_ranges() {
    let h = hel();
    let p = period_range(Some("2026-03-01"), Some("2026-03-31"), &h).expect("closed");
    assert_eq!(p, span("2026-02-28T22:00:00Z", "2026-03-31T21:00:00Z"));
    let p = period_range(
        Some("2026-03-10T09:00:00+02:00"),
        Some("2026-03-10T09:30:00+02:00"),
        &h,
    )
    .expect("slot");
    assert_eq!(p, span("2026-03-10T07:00:00Z", "2026-03-10T07:30:01Z"));
    let p = period_range(Some("2026"), None, &h).expect("open end");
    assert_eq!(p.lo, ts("2025-12-31T22:00:00Z"));
    assert_eq!(p.hi, i64::MAX);
    let p = period_range(None, Some("2026-03-29"), &h).expect("open start");
    assert_eq!(p.lo, i64::MIN);
    assert_eq!(p.hi, ts("2026-03-29T21:00:00Z"));
    assert_eq!(
        period_range(None, None, &h),
        Ok(Range {
            lo: i64::MIN,
            hi: i64::MAX
        })
    );
    // Same value at both ends is a valid (one-unit) period.
    let p = period_range(Some("2026-03-10"), Some("2026-03-10"), &h).expect("same day");
    assert_eq!(p, range("2026-03-10", &h));
    let err = period_range(Some("2026-03-10"), Some("2026-03-09"), &h).expect_err("inverted");
    assert!(
        err.0.contains("2026-03-09") && err.0.contains("2026-03-10"),
        "{err}"
    );
    assert!(period_range(Some("2026-13"), None, &h).is_err());
    assert!(period_range(None, Some("nope"), &h).is_err());
}

#[test]
fn garbage_is_rejected_with_the_value_named() {
    let h = hel();
    let bad = [
        "",
        " ",
        "2026-1-01",
        "2026-01-1",
        "2026-13-01",
        "2026-00-01",
        "2026-01-00",
        "2026-00",
        "2026-13",
        "0000",
        "0000-01-01",
        "202",
        "20260",
        "+2026",
        "-2026",
        " 2026",
        "2026 ",
        "2026-",
        "2026-01-",
        "2026/01/01",
        "2026-01-01Z",
        "2026-01-01+02:00",
        "2026-01-01T",
        "2026-01-01T10",
        "2026-01-01T10Z",
        "2026-01-01T1:00",
        "2026-01-01T10:0",
        "2026-01-01T10:00:",
        "2026-01-01T10:00:0Z",
        "2026-01-01T25:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T10:60:00Z",
        "2026-01-01T10:00:60Z",
        "2026-01-01T10:00:00+15:00",
        "2026-01-01T10:00:00+14:01",
        "2026-01-01T10:00:00-14:30",
        "2026-01-01T10:00:00+02:60",
        "2026-01-01T10:00:00+0200",
        "2026-01-01T10:00:00+02",
        "2026-01-01T10:00:00+",
        "2026-01-01T10:00:00.Z",
        "2026-01-01T10:00:00.",
        "2026-01-01T10:00:00.1234567890Z",
        "2026-01-01T10:00:00,5Z",
        "2026-01-01T10:00.5Z",
        "2026-01-01T10:00:00ZZ",
        "2026-01-01T10:00:00Z ",
        "2026-01-01T10:00:00+02:00x",
        "2026-01-01 10:00:00Z",
        "2026-01-01t10:00:00z",
        "ää",
        "２０２６",
        "2026-0ä",
        "ge2026-01-01",
        "today",
    ];
    for value in bad {
        let err = parse_range(value, &h).expect_err(value);
        assert!(err.0.contains(&format!("{value:?}")), "{value}: {err}");
        assert!(err.0.contains("expected"), "{value}: {err}");
    }
    let long = "2".repeat(10_000);
    let err = parse_range(&long, &h).expect_err("long");
    assert!(err.0.len() < 300, "{err}");
    let long = format!("2026-01-01T10:00:00.{}Z", "1".repeat(10_000));
    assert!(parse_range(&long, &h).is_err());
    let long = "ä".repeat(10_000);
    let err = parse_range(&long, &h).expect_err("long non-ASCII");
    assert!(err.0.len() < 300, "{err}");
}

#[test]
fn mutations_never_panic() {
    let h = hel();
    let base = "2026-03-29T03:30:15.123456789+14:00";
    let replacements = [
        "0", "9", "3", "-", ":", "T", "Z", "+", ".", "x", "ä", "", "00",
    ];
    for end in 0..=base.len() {
        let _ = parse_range(&base[..end], &h);
        for rep in replacements {
            let mutated = format!(
                "{}{rep}{}",
                &base[..end],
                &base[(end + 1).min(base.len())..]
            );
            let _ = parse_range(&mutated, &h);
            let _ = Prefix::split(&mutated);
        }
    }
}
