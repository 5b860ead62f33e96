//! Parsing FHIR search parameters into a store query, following the R4 search page:
//! comma means OR, repeating a parameter means AND, modifiers after a colon.

use jiff::tz::TimeZone;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{
    DateCondition, DatePrefix, Filter, ReferenceMatch, SearchQuery, SortBy, SortKey, StringMatch,
    StringMode, TokenMatch,
};

use crate::base::config::{Paging, SearchLimits};
use crate::base::error::ApiError;
use crate::search::fhir_time::{Prefix, parse_range};
use crate::search::limits::Budget;
use crate::search::normalize::fold;
use crate::search::references::{is_fhir_id, parse_reference};
use crate::search::registry::{self, INCLUDES, ParamKind, SearchParam};

/// One `_include`: `source:param`, optionally narrowed to one target type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub source: ResourceType,
    pub param: &'static str,
    pub target: Option<ResourceType>,
}

/// A parsed search: the store query plus what the response needs.
#[derive(Debug, Clone)]
pub struct ParsedSearch {
    pub query: SearchQuery,
    /// `_include`s to follow.
    pub includes: Vec<Include>,
    /// Parameters that were applied, for the self and paging links.
    pub applied: Vec<(String, String)>,
    /// Parameters ignored under lenient handling, for a warning in the Bundle.
    pub ignored: Vec<String>,
}

/// Parses the query string parameters of a search on `rtype`. With `strict`
/// (`Prefer: handling=strict`) an unknown parameter is an error; otherwise it is
/// ignored and reported. A search past one of `limits` is refused (400) before any
/// of it reaches the database.
pub fn parse(
    rtype: ResourceType,
    params: &[(String, String)],
    strict: bool,
    tz: &TimeZone,
    paging: Paging,
    limits: &SearchLimits,
) -> Result<ParsedSearch, ApiError> {
    let mut budget = Budget::new(limits);
    let mut query = SearchQuery {
        rtype: rtype.as_str(),
        count: paging.default_count,
        with_total: true,
        ..SearchQuery::default()
    };
    let mut parsed = ParsedSearch {
        query: SearchQuery::default(),
        includes: Vec::new(),
        applied: Vec::new(),
        ignored: Vec::new(),
    };
    for (raw_name, value) in params {
        let (name, modifier) = match raw_name.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (raw_name.as_str(), None),
        };
        let bad = |msg: String| ApiError::BadRequest(format!("search parameter {raw_name}: {msg}"));
        budget.parameter(name, count_values(value))?;
        let mut applied = true;
        match name {
            "_id" => {
                no_modifier(modifier).map_err(bad)?;
                let ids = split_values(value);
                if let Some(bad_id) = ids.iter().find(|i| !is_fhir_id(i)) {
                    return Err(bad(format!("{bad_id:?} is not a valid id")));
                }
                query.filters.push(Filter::Id(ids));
            }
            "_lastUpdated" => {
                no_modifier(modifier).map_err(bad)?;
                let conditions = split_values(value)
                    .iter()
                    .map(|v| date_condition(v, tz))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?;
                query.filters.push(Filter::LastUpdated(conditions));
            }
            "_count" => {
                let n: usize = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a non-negative integer")))?;
                query.count = n.min(paging.max_count);
            }
            "_offset" => {
                query.offset = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a non-negative integer")))?;
                budget.offset(query.offset)?;
            }
            "_sort" => {
                budget.sort_keys(value.split(',').count())?;
                query.sort = parse_sort(rtype, value).map_err(bad)?;
            }
            "_total" => match value.as_str() {
                "none" => query.with_total = false,
                "estimate" | "accurate" => query.with_total = true,
                other => {
                    return Err(bad(format!(
                        "{other:?} is not one of none, estimate, accurate"
                    )));
                }
            },
            "_summary" => match value.as_str() {
                "count" => query.count_only = true,
                "false" => {}
                other => {
                    if strict {
                        return Err(bad(format!(
                            "_summary={other} is not supported (only count)"
                        )));
                    }
                    parsed.ignored.push(format!("{raw_name}={value}"));
                    applied = false;
                }
            },
            "_include" => {
                let values = split_values(value);
                budget.includes(values.len())?;
                for v in values {
                    let include = parse_include(&v).ok_or_else(|| {
                        bad(format!(
                            "{v:?} is not supported; supported: {}",
                            INCLUDES
                                .iter()
                                .map(|(t, p)| format!("{t}:{p}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?;
                    parsed.includes.push(include);
                }
            }
            "_format" if value.contains("json") => applied = false,
            _ if name.contains('.') => {
                return Err(bad("chained search is not supported".into()));
            }
            _ => match registry::param(rtype, name) {
                Some(p) => query
                    .filters
                    .push(filter(&p, modifier, value, tz).map_err(bad)?),
                None if strict => {
                    return Err(bad(format!(
                        "unknown parameter for {rtype}; the CapabilityStatement at /fhir/metadata lists the supported ones"
                    )));
                }
                None => {
                    parsed.ignored.push(raw_name.clone());
                    applied = false;
                }
            },
        }
        if applied && !matches!(name, "_count" | "_offset") {
            parsed.applied.push((raw_name.clone(), value.clone()));
        }
    }
    parsed.query = query;
    Ok(parsed)
}

fn no_modifier(modifier: Option<&str>) -> Result<(), String> {
    match modifier {
        None => Ok(()),
        Some(m) => Err(format!("modifier :{m} is not supported here")),
    }
}

/// How many values [`split_values`] finds in `value`, without building them.
fn count_values(value: &str) -> usize {
    let mut n = 1;
    let mut escaped = false;
    for c in value.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, ',') => n += 1,
            _ => {}
        }
    }
    n
}

/// Splits on commas not escaped with a backslash, and unescapes `\,` `\|` `\\`.
fn split_values(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ (',' | '\\' | '$')) => {
                    out.last_mut().map(|s| s.push(next)).unwrap_or(())
                }
                Some(next) => {
                    if let Some(s) = out.last_mut() {
                        s.push('\\');
                        s.push(next);
                    }
                }
                None => out.last_mut().map(|s| s.push('\\')).unwrap_or(()),
            },
            ',' => out.push(String::new()),
            other => out.last_mut().map(|s| s.push(other)).unwrap_or(()),
        }
    }
    out
}

fn date_condition(value: &str, tz: &TimeZone) -> Result<DateCondition, String> {
    let (prefix, rest) = Prefix::split(value).map_err(|e| e.to_string())?;
    let range = parse_range(rest, tz).map_err(|e| e.to_string())?;
    let prefix = match prefix {
        Prefix::Eq => DatePrefix::Eq,
        Prefix::Ne => DatePrefix::Ne,
        Prefix::Gt => DatePrefix::Gt,
        Prefix::Lt => DatePrefix::Lt,
        Prefix::Ge => DatePrefix::Ge,
        Prefix::Le => DatePrefix::Le,
        Prefix::Sa => DatePrefix::Sa,
        Prefix::Eb => DatePrefix::Eb,
    };
    Ok(DateCondition {
        prefix,
        lo: range.lo,
        hi: range.hi,
    })
}

fn filter(
    p: &SearchParam,
    modifier: Option<&str>,
    value: &str,
    tz: &TimeZone,
) -> Result<Filter, String> {
    let values = split_values(value);
    if values.iter().any(String::is_empty) {
        return Err("empty value".into());
    }
    match p.kind {
        ParamKind::Token => {
            let negate = match modifier {
                None => false,
                Some("not") => true,
                Some(m) => {
                    return Err(format!(
                        "modifier :{m} is not supported for tokens (only :not)"
                    ));
                }
            };
            let any_of = values
                .iter()
                .map(|v| {
                    let (system, code) = split_token(v);
                    TokenMatch {
                        system,
                        code: Some(code).filter(|c| !c.is_empty()),
                    }
                })
                .collect();
            Ok(Filter::Token {
                param: p.name,
                any_of,
                negate,
            })
        }
        ParamKind::String => {
            let mode = match modifier {
                None => StringMode::StartsWith,
                Some("exact") => StringMode::Exact,
                Some("contains") => StringMode::Contains,
                Some(m) => {
                    return Err(format!(
                        "modifier :{m} is not supported for strings (:exact, :contains)"
                    ));
                }
            };
            let any_of = values
                .into_iter()
                .map(|v| StringMatch {
                    value: if mode == StringMode::Exact {
                        v
                    } else {
                        fold(&v)
                    },
                    mode,
                })
                .collect();
            Ok(Filter::String {
                param: p.name,
                any_of,
            })
        }
        ParamKind::Date => {
            no_modifier(modifier)?;
            let any_of = values
                .iter()
                .map(|v| date_condition(v, tz))
                .collect::<Result<_, _>>()?;
            Ok(Filter::Date {
                param: p.name,
                scope: None,
                any_of,
                single_valued: false,
            })
        }
        ParamKind::Reference => {
            let typed = match modifier {
                None => None,
                Some(t) if p.targets.iter().any(|x| x.as_str() == t) => Some(t.to_owned()),
                Some(m) => {
                    return Err(format!(
                        "modifier :{m} is not a target type of this parameter"
                    ));
                }
            };
            let only_target = match p.targets {
                [one] => Some(one.as_str().to_owned()),
                _ => None,
            };
            let any_of = values
                .iter()
                .map(|v| {
                    if is_fhir_id(v) {
                        return Ok(ReferenceMatch {
                            target_type: typed.clone().or_else(|| only_target.clone()),
                            target_id: v.clone(),
                        });
                    }
                    match parse_reference(v) {
                        Ok(Some(r)) => Ok(ReferenceMatch {
                            target_type: Some(r.rtype),
                            target_id: r.id,
                        }),
                        _ => Err(format!("{v:?} is not Type/id or an id")),
                    }
                })
                .collect::<Result<_, _>>()?;
            Ok(Filter::Reference {
                param: p.name,
                any_of,
            })
        }
    }
}

fn parse_sort(rtype: ResourceType, value: &str) -> Result<Vec<SortKey>, String> {
    value
        .split(',')
        .map(|key| {
            let (descending, name) = match key.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, key),
            };
            let by = match name {
                "_id" => SortBy::Id,
                "_lastUpdated" => SortBy::LastUpdated,
                _ => match registry::param(rtype, name) {
                    Some(p) if p.kind == ParamKind::Date => SortBy::Date(p.name),
                    Some(p) if p.kind == ParamKind::String => SortBy::String(p.name),
                    Some(p) if p.kind == ParamKind::Token => SortBy::Token(p.name),
                    _ => return Err(format!("cannot sort {rtype} by {name:?}")),
                },
            };
            Ok(SortKey { by, descending })
        })
        .collect()
}

fn parse_include(value: &str) -> Option<Include> {
    let mut parts = value.split(':');
    let (source, param) = (parts.next()?, parts.next()?);
    let target = match parts.next() {
        Some(t) => Some(t.parse::<ResourceType>().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    let (source, param) = INCLUDES
        .iter()
        .copied()
        .find(|(t, p)| t.as_str() == source && *p == param)?;
    if let Some(target) = target {
        registry::param(source, param)?
            .targets
            .contains(&target)
            .then_some(())?;
    }
    Some(Include {
        source,
        param,
        target,
    })
}

/// Splits a token search value `system|code` (system normalised) or `code`.
pub fn split_token(value: &str) -> (Option<String>, String) {
    match value.split_once('|') {
        // "|code" means explicitly no system.
        Some(("", code)) => (Some(String::new()), code.to_owned()),
        Some((system, code)) => (
            Some(crate::search::normalize::system(system)),
            code.to_owned(),
        ),
        None => (None, value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_q(
        rtype: ResourceType,
        q: &[(&str, &str)],
        strict: bool,
    ) -> Result<ParsedSearch, ApiError> {
        let params: Vec<(String, String)> = q
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let tz = TimeZone::get("Europe/Helsinki").unwrap();
        parse(
            rtype,
            &params,
            strict,
            &tz,
            Paging {
                default_count: 50,
                max_count: 1000,
            },
            &SearchLimits::default(),
        )
    }

    #[test]
    fn commas_or_and_repeats_and() {
        let p = parse_q(
            ResourceType::Slot,
            &[
                ("status", "busy,free"),
                ("start", "ge2026-03-29"),
                ("start", "lt2026-03-30"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(p.query.filters.len(), 3);
        match &p.query.filters[0] {
            Filter::Token { any_of, .. } => assert_eq!(any_of.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_parameters_follow_handling() {
        assert!(parse_q(ResourceType::Slot, &[("colour", "red")], true).is_err());
        let p = parse_q(ResourceType::Slot, &[("colour", "red")], false).unwrap();
        assert_eq!(p.ignored, ["colour"]);
        assert!(p.applied.is_empty());
    }

    #[test]
    fn bad_values_are_400() {
        for (k, v) in [
            ("start", "2026-13-01"),
            ("_count", "-1"),
            ("schedule", "a b"),
            ("status:fuzzy", "x"),
            ("schedule.actor", "x"),
            ("_sort", "colour"),
            ("_include", "Slot:nope"),
            ("status", ""),
        ] {
            let err = parse_q(ResourceType::Slot, &[(k, v)], false).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{k}={v}");
        }
    }

    #[test]
    fn reference_ids_get_the_only_target_type() {
        let p = parse_q(ResourceType::Slot, &[("schedule", "s1")], true).unwrap();
        match &p.query.filters[0] {
            Filter::Reference { any_of, .. } => {
                assert_eq!(any_of[0].target_type.as_deref(), Some("Schedule"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn escaped_commas_stay_in_values() {
        assert_eq!(split_values(r"a\,b,c"), ["a,b", "c"]);
        for v in [r"a\,b,c", "", "a,,b", r"a\\,b", r"x\", r"\,\,,"] {
            assert_eq!(count_values(v), split_values(v).len(), "{v:?}");
        }
    }

    #[test]
    fn searches_past_a_limit_are_400_before_any_sql() {
        let many = |n: usize, v: &str| vec![v; n].join(",");
        for (k, v) in [
            ("status", many(101, "busy")),
            ("_id", many(1001, "a")),
            ("_sort", many(5, "start")),
            ("_include", many(9, "Slot:schedule")),
            ("_offset", "100001".to_string()),
        ] {
            let err = parse_q(ResourceType::Slot, &[(k, &v)], true).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{k}");
            assert!(err.to_string().contains("OHJAAMO_SEARCH_MAX_"), "{err}");
        }
        let repeated: Vec<(&str, &str)> = vec![("name", "a"); 33];
        let err = parse_q(ResourceType::Location, &repeated, true).unwrap_err();
        assert!(err.to_string().contains("MAX_PARAMETERS"), "{err}");
        assert!(parse_q(ResourceType::Slot, &[("_id", &many(1000, "a"))], true).is_ok());
    }

    #[test]
    fn count_is_capped() {
        let p = parse_q(ResourceType::Slot, &[("_count", "100000")], true).unwrap();
        assert_eq!(p.query.count, 1000);
    }
}
