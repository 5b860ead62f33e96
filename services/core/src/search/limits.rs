//! What one search may cost. A search's price in the database grows with its
//! parameters, alternatives, sort keys and includes; without a ceiling one GET with
//! a thousand `_sort` keys held a connection for minutes. [`Budget`] counts a search
//! as it is parsed and refuses it with a 400 that names the limit and the setting
//! that raises it, before any SQL is built.

use crate::base::config::SearchLimits;
use crate::base::error::ApiError;

/// The running count of one search against its [`SearchLimits`].
pub struct Budget<'a> {
    limits: &'a SearchLimits,
    parameters: usize,
    values: usize,
    ids: usize,
    includes: usize,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a SearchLimits) -> Self {
        Budget {
            limits,
            parameters: 0,
            values: 0,
            ids: 0,
            includes: 0,
        }
    }

    /// One more parameter `name` with `alternatives` comma-separated values.
    pub fn parameter(&mut self, name: &str, alternatives: usize) -> Result<(), ApiError> {
        if matches!(name, "_count" | "_offset" | "_format") {
            return Ok(());
        }
        self.parameters += 1;
        refuse_over(
            self.parameters,
            self.limits.max_parameters,
            "search parameters in one request",
            "OHJAAMO_SEARCH_MAX_PARAMETERS",
        )?;
        if name == "_id" {
            self.ids += alternatives;
            refuse_over(
                self.ids,
                self.limits.max_ids,
                "ids in _id",
                "OHJAAMO_SEARCH_MAX_IDS",
            )?;
        } else {
            refuse_over(
                alternatives,
                self.limits.max_or_values,
                &format!("comma-separated values in {name}"),
                "OHJAAMO_SEARCH_MAX_OR_VALUES",
            )?;
        }
        self.values += alternatives;
        refuse_over(
            self.values,
            self.limits.max_total_values,
            "values in all parameters together",
            "OHJAAMO_SEARCH_MAX_TOTAL_VALUES",
        )
    }

    pub fn sort_keys(&self, keys: usize) -> Result<(), ApiError> {
        refuse_over(
            keys,
            self.limits.max_sort_keys,
            "keys in _sort",
            "OHJAAMO_SEARCH_MAX_SORT_KEYS",
        )
    }

    pub fn includes(&mut self, more: usize) -> Result<(), ApiError> {
        self.includes += more;
        refuse_over(
            self.includes,
            self.limits.max_includes,
            "_include values",
            "OHJAAMO_SEARCH_MAX_INCLUDES",
        )
    }

    pub fn offset(&self, offset: usize) -> Result<(), ApiError> {
        refuse_over(
            offset,
            self.limits.max_offset,
            "as _offset (narrow the search instead of paging this deep)",
            "OHJAAMO_SEARCH_MAX_OFFSET",
        )
    }
}

fn refuse_over(n: usize, limit: usize, what: &str, setting: &str) -> Result<(), ApiError> {
    if n <= limit {
        return Ok(());
    }
    Err(ApiError::BadRequest(format!(
        "this search asks for more than {limit} {what}, the limit of this server ({setting})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_named_when_passed() {
        let limits = SearchLimits {
            max_parameters: 2,
            max_or_values: 3,
            max_ids: 5,
            max_total_values: 6,
            max_sort_keys: 1,
            max_includes: 1,
            max_offset: 10,
        };
        let message = |e: ApiError| e.to_string();
        let mut b = Budget::new(&limits);
        b.parameter("_count", 1).unwrap();
        b.parameter("status", 3).unwrap();
        let e = b.parameter("name", 4).unwrap_err();
        assert!(message(e).contains("OHJAAMO_SEARCH_MAX_OR_VALUES"));

        let mut b = Budget::new(&limits);
        b.parameter("status", 1).unwrap();
        b.parameter("_id", 1).unwrap();
        assert!(message(b.parameter("_id", 1).unwrap_err()).contains("MAX_PARAMETERS"));

        let mut b = Budget::new(&limits);
        b.parameter("_id", 4).unwrap();
        assert!(message(b.parameter("_id", 2).unwrap_err()).contains("MAX_IDS"));

        let mut b = Budget::new(&limits);
        b.parameter("_id", 4).unwrap();
        assert!(message(b.parameter("status", 3).unwrap_err()).contains("MAX_TOTAL_VALUES"));

        let mut b = Budget::new(&limits);
        assert!(b.sort_keys(1).is_ok());
        assert!(message(b.sort_keys(2).unwrap_err()).contains("MAX_SORT_KEYS"));
        b.includes(1).unwrap();
        assert!(message(b.includes(1).unwrap_err()).contains("MAX_INCLUDES"));
        assert!(b.offset(10).is_ok());
        assert!(message(b.offset(11).unwrap_err()).contains("MAX_OFFSET"));
    }
}
