//! Composite date index entries: a date parameter indexed once more per reference
//! target, so that "this bed's Slots in this time range" is one index range.
//!
//! The question the whole capacity picture asks is `Slot?schedule=X&start=…`. With a
//! date index and a reference index kept apart, the database must look at every Slot
//! of the schedule (a bed with a year of hourly Slots: thousands) and check each one's
//! dates. Measured at 1,000,000 Slots over 1,000 Schedules, that was 25 ms p50. With
//! the Slot's `start` also indexed under the name `start@Schedule/X`, the same search
//! is a range scan of that one name: a few milliseconds.
//!
//! The composite rows are ordinary date index rows whose parameter name carries the
//! target; searches are rewritten to use them when they name exactly one target.
//! Adding a pair here needs a migration that back-fills the rows for resources
//! already stored (see `0002_search_speed.sql` for Slot).

use std::borrow::Cow;

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{Filter, IndexEntry, IndexValue};

/// A reference parameter and a date parameter of one resource type, searched together.
struct Pair {
    rtype: ResourceType,
    reference: &'static str,
    date: &'static str,
}

const PAIRS: &[Pair] = &[Pair {
    rtype: ResourceType::Slot,
    reference: "schedule",
    date: "start",
}];

/// The index name of `date` for one reference target: `start@Schedule/s1`.
pub fn name(date: &str, target_type: &str, target_id: &str) -> String {
    format!("{date}@{target_type}/{target_id}")
}

/// Adds the composite entries implied by a resource's own index entries.
pub fn add_entries(rtype: ResourceType, index: &mut Vec<IndexEntry>) {
    let mut extra = Vec::new();
    for pair in PAIRS.iter().filter(|p| p.rtype == rtype) {
        let targets = index.iter().filter_map(|e| match &e.value {
            IndexValue::Reference {
                target_type,
                target_id,
            } if e.param == pair.reference => Some((target_type, target_id)),
            _ => None,
        });
        for (target_type, target_id) in targets {
            for entry in index.iter().filter(|e| e.param == pair.date) {
                if let IndexValue::Date { lo, hi } = entry.value {
                    extra.push(IndexEntry {
                        param: Cow::Owned(name(pair.date, target_type, target_id)),
                        value: IndexValue::Date { lo, hi },
                    });
                }
            }
        }
    }
    index.extend(extra);
}

/// Rewrites a search that names exactly one target of a paired reference parameter
/// and filters on the paired date: the date filters then use the composite name, and
/// the reference filter, which the name already implies, is dropped.
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
            .any(|f| matches!(f, Filter::Date { param, .. } if param == pair.date));
        if !has_date {
            continue;
        }
        let Filter::Reference { any_of, .. } = filters.remove(at) else {
            unreachable!("position() found a reference filter");
        };
        let only = &any_of[0];
        let composite = name(
            pair.date,
            only.target_type.as_deref().unwrap_or_default(),
            &only.target_id,
        );
        for f in filters.iter_mut() {
            if let Filter::Date {
                param,
                single_valued,
                ..
            } = f
                && param == pair.date
            {
                *param = Cow::Owned(composite.clone());
                // One schedule, one start per Slot: one composite row per Slot.
                *single_valued = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ohjaamo_store::{DateCondition, ReferenceMatch};

    fn entry(param: &'static str, value: IndexValue) -> IndexEntry {
        IndexEntry {
            param: Cow::Borrowed(param),
            value,
        }
    }

    #[test]
    fn a_slot_gets_its_start_under_its_schedule() {
        let mut index = vec![
            entry(
                "schedule",
                IndexValue::Reference {
                    target_type: "Schedule".into(),
                    target_id: "bed-1".into(),
                },
            ),
            entry("start", IndexValue::Date { lo: 10, hi: 11 }),
        ];
        add_entries(ResourceType::Slot, &mut index);
        assert_eq!(index.len(), 3);
        assert_eq!(index[2].param, "start@Schedule/bed-1");
        assert_eq!(index[2].value, IndexValue::Date { lo: 10, hi: 11 });

        let mut other = index[..2].to_vec();
        add_entries(ResourceType::Appointment, &mut other);
        assert_eq!(other.len(), 2, "only the declared pairs");
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
            param: Cow::Borrowed("start"),
            any_of: Vec::<DateCondition>::new(),
            single_valued: false,
        }
    }

    #[test]
    fn one_target_and_a_date_use_the_composite() {
        let mut filters = vec![reference(Some("Schedule"), "bed-1"), date(), date()];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert_eq!(filters.len(), 2);
        for f in &filters {
            assert!(matches!(
                f,
                Filter::Date { param, single_valued: true, .. } if param == "start@Schedule/bed-1"
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
        assert!(matches!(&filters[1], Filter::Date { param, .. } if param == "start"));
        // No known target type.
        let mut filters = vec![reference(None, "bed-1"), date()];
        rewrite_filters(ResourceType::Slot, &mut filters);
        assert_eq!(filters.len(), 2);
    }
}
