//! Scoped date index entries: a date parameter indexed under a reference target as
//! well, so that "this bed's Slots in this time range" is one index range.
//!
//! The question the whole capacity picture asks is `Slot?schedule=X&start=…`. With a
//! date index and a reference index kept apart, the database must look at every Slot
//! of the schedule (a bed with a year of hourly Slots: thousands) and check each one's
//! dates. Measured at 1,000,000 Slots over 1,000 Schedules, that was 25 ms p50. With
//! the Slot's `start` row carrying its Schedule (`scope`) and an index on the scope
//! and the dates, the same search is a range scan: a few milliseconds.
//!
//! The scope is a column of the date row itself rather than a second row (as it was
//! until migration 0006): one heap tuple and two B-tree insertions fewer per Slot,
//! which during an initial sync was the largest single cost in PostgreSQL. Searches
//! are rewritten to use the scope when they name exactly one target. Adding a pair
//! here needs a migration that sets the scope of rows already stored.
//!
//! A scoped row also says until when its resource lasts (a Slot's `end`): the
//! pictures read "what is on this bed now" as the scoped rows that last past now
//! (`Store::scoped_during`), not every Slot the bed's Schedule ever had.

use jiff::tz::TimeZone;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{DateScope, Filter, IndexEntry, IndexValue};
use serde_json::Value;

use crate::search::fhir_time::parse_range;

/// A reference parameter and a date parameter of one resource type, searched together,
/// and the element that ends the resource.
struct Pair {
    rtype: ResourceType,
    reference: &'static str,
    date: &'static str,
    until: &'static str,
}

const PAIRS: &[Pair] = &[Pair {
    rtype: ResourceType::Slot,
    reference: "schedule",
    date: "start",
    until: "end",
}];

/// The scope of one reference target: `Schedule/s1`.
pub fn scope(target_type: &str, target_id: &str) -> String {
    format!("{target_type}/{target_id}")
}

/// Scopes a resource's paired date entries by its paired reference targets. The first
/// target scopes the date rows themselves; any further target gets copies, so that
/// every value is still found once per target and plain date searches, which ignore
/// the scope, see the same values.
pub fn add_entries(
    rtype: ResourceType,
    resource: &Value,
    tz: &TimeZone,
    index: &mut Vec<IndexEntry>,
) {
    let mut extra = Vec::new();
    for pair in PAIRS.iter().filter(|p| p.rtype == rtype) {
        // No end (or none that parses: such a resource is refused before it is
        // stored) lasts for ever, so that no window misses it.
        let end = resource
            .get(pair.until)
            .and_then(Value::as_str)
            .and_then(|end| parse_range(end, tz).ok())
            .map_or(i64::MAX, |range| range.lo);
        let scopes: Vec<String> = index
            .iter()
            .filter_map(|e| match &e.value {
                IndexValue::Reference {
                    target_type,
                    target_id,
                } if e.param == pair.reference => Some(scope(target_type, target_id)),
                _ => None,
            })
            .collect();
        let Some((first, others)) = scopes.split_first() else {
            continue;
        };
        for entry in index.iter_mut().filter(|e| e.param == pair.date) {
            if let IndexValue::Date { lo, hi, scope } = &mut entry.value {
                let scoped = |target: &String| DateScope {
                    target: target.clone(),
                    until: end.max(*hi),
                };
                for other in others {
                    extra.push(IndexEntry {
                        param: entry.param.clone(),
                        value: IndexValue::Date {
                            lo: *lo,
                            hi: *hi,
                            scope: Some(scoped(other)),
                        },
                    });
                }
                *scope = Some(scoped(first));
            }
        }
    }
    index.extend(extra);
}

/// Rewrites a search that names exactly one target of a paired reference parameter
/// and filters on the paired date: the date filters are then limited to that
/// target's scope, and the reference filter, which the scope already implies, is
/// dropped.
pub fn rewrite_filters(rtype: ResourceType, filters: &mut Vec<Filter>) {
    for pair in PAIRS.iter().filter(|p| p.rtype == rtype) {
        let target = filters.iter().position(|f| match f {
            Filter::Reference { param, any_of } => {
                *param == pair.reference && any_of.len() == 1 && any_of[0].target_type.is_some()
            }
            _ => false,
        });
        let Some(at) = target else { continue };
        let has_date = filters
            .iter()
            .any(|f| matches!(f, Filter::Date { param, .. } if *param == pair.date));
        if !has_date {
            continue;
        }
        let Filter::Reference { any_of, .. } = filters.remove(at) else {
            unreachable!("position() found a reference filter");
        };
        let only = &any_of[0];
        let target_scope = scope(
            only.target_type.as_deref().unwrap_or_default(),
            &only.target_id,
        );
        for f in filters.iter_mut() {
            if let Filter::Date {
                param,
                scope,
                single_valued,
                ..
            } = f
                && *param == pair.date
            {
                *scope = Some(target_scope.clone());
                // One schedule, one start per Slot: one scoped row per Slot.
                *single_valued = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use ohjaamo_store::{DateCondition, ReferenceMatch};
    use serde_json::json;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    /// A Slot ending at 00:00:01Z on 1970-01-01 (one second after the epoch).
    fn slot() -> Value {
        json!({"resourceType": "Slot", "end": "1970-01-01T00:00:01Z"})
    }

    fn entry(param: &'static str, value: IndexValue) -> IndexEntry {
        IndexEntry {
            param: Cow::Borrowed(param),
            value,
        }
    }

    fn schedule(id: &str) -> IndexEntry {
        IndexEntry {
            param: Cow::Borrowed("schedule"),
            value: IndexValue::Reference {
                target_type: "Schedule".into(),
                target_id: id.into(),
            },
        }
    }

    fn start(lo: i64, scope: Option<(&str, i64)>) -> IndexEntry {
        entry(
            "start",
            IndexValue::Date {
                lo,
                hi: lo + 1,
                scope: scope.map(|(target, until)| DateScope {
                    target: target.to_owned(),
                    until,
                }),
            },
        )
    }

    #[test]
    fn a_slot_start_is_scoped_by_its_schedule_until_its_end() {
        let mut index = vec![schedule("bed-1"), start(10, None)];
        add_entries(ResourceType::Slot, &slot(), &utc(), &mut index);
        assert_eq!(
            index,
            vec![
                schedule("bed-1"),
                start(10, Some(("Schedule/bed-1", 1_000_000)))
            ]
        );

        let mut other = vec![schedule("bed-1"), start(10, None)];
        add_entries(ResourceType::Appointment, &slot(), &utc(), &mut other);
        assert_eq!(other[1], start(10, None), "only the declared pairs");
    }

    #[test]
    fn a_scoped_row_lasts_at_least_to_the_end_of_its_own_range() {
        // The end is before the start's range ends (the start is 2 s after the epoch):
        // the row still lasts to its own hi. Without an end it lasts for ever.
        let mut index = vec![schedule("bed-1"), start(2_000_000, None)];
        add_entries(ResourceType::Slot, &slot(), &utc(), &mut index);
        assert_eq!(
            index[1],
            start(2_000_000, Some(("Schedule/bed-1", 2_000_001)))
        );
        let mut open = vec![schedule("bed-1"), start(10, None)];
        let no_end = json!({"resourceType": "Slot"});
        add_entries(ResourceType::Slot, &no_end, &utc(), &mut open);
        assert_eq!(open[1], start(10, Some(("Schedule/bed-1", i64::MAX))));
    }

    #[test]
    fn every_target_finds_every_value() {
        let mut index = vec![schedule("a"), schedule("b"), start(10, None)];
        add_entries(ResourceType::Slot, &slot(), &utc(), &mut index);
        assert_eq!(
            index,
            vec![
                schedule("a"),
                schedule("b"),
                start(10, Some(("Schedule/a", 1_000_000))),
                start(10, Some(("Schedule/b", 1_000_000))),
            ]
        );
        // Without a target nothing is scoped.
        let mut alone = vec![start(10, None)];
        add_entries(ResourceType::Slot, &slot(), &utc(), &mut alone);
        assert_eq!(alone, vec![start(10, None)]);
    }

    fn reference(target_type: Option<&str>, id: &str) -> Filter {
        Filter::Reference {
            param: "schedule",
            any_of: vec![ReferenceMatch {
                target_type: target_type.map(str::to_owned),
                target_id: id.into(),
            }],
        }
    }

    fn date() -> Filter {
        Filter::Date {
            param: "start",
            scope: None,
            any_of: Vec::<DateCondition>::new(),
            single_valued: false,
        }
    }

    #[test]
    fn one_target_and_a_date_use_the_scope() {
        let mut filters = vec![reference(Some("Schedule"), "bed-1"), date(), date()];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert_eq!(filters.len(), 2);
        for f in &filters {
            assert!(matches!(
                f,
                Filter::Date { param, scope: Some(scope), single_valued: true, .. }
                    if *param == "start" && scope == "Schedule/bed-1"
            ));
        }
    }

    #[test]
    fn other_searches_are_left_alone() {
        // No date filter.
        let mut filters = vec![reference(Some("Schedule"), "bed-1")];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert!(matches!(filters[0], Filter::Reference { .. }));
        // Two targets.
        let mut filters = vec![
            Filter::Reference {
                param: "schedule",
                any_of: vec![
                    ReferenceMatch {
                        target_type: Some("Schedule".into()),
                        target_id: "a".into(),
                    },
                    ReferenceMatch {
                        target_type: Some("Schedule".into()),
                        target_id: "b".into(),
                    },
                ],
            },
            date(),
        ];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert_eq!(filters.len(), 2);
        assert!(
            matches!(&filters[1], Filter::Date { param, scope: None, .. } if *param == "start")
        );
        // No known target type.
        let mut filters = vec![reference(None, "bed-1"), date()];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert_eq!(filters.len(), 2);
    }
}
