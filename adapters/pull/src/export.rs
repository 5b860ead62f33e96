//! The export as a [`PullSource`]: `GET <base>/api/v1/<stream>?jalkeen=<cursor>&koko=<n>`.
//!
//! Anything but a whole JSON page with a `rivit` array and a `seuraava` cursor is a
//! failed pull (retried, the cursor not moved): a network error, a timeout, a 5xx, an
//! HTML error page, half a page.

use std::time::Duration;

use ohjaamo_adapter_kit::source::Record;
use ohjaamo_adapter_kit::{Mapped, Page, PullError, PullSource, SourceIds};
use serde_json::Value;

use crate::map;

pub struct Export {
    http: reqwest::Client,
    base: String,
    page_size: usize,
    ids: SourceIds,
}

impl Export {
    /// `base` is the export's address, e.g. `http://lifecare-export:8090`.
    pub fn new(
        base: &str,
        ids: SourceIds,
        page_size: usize,
        timeout: Duration,
    ) -> Result<Export, reqwest::Error> {
        Ok(Export {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.trim_end_matches('/').to_owned(),
            page_size: page_size.max(1),
            ids,
        })
    }
}

impl PullSource for Export {
    fn streams(&self) -> Vec<String> {
        map::STREAMS.iter().map(|s| (*s).to_owned()).collect()
    }

    async fn fetch(&self, stream: &str, cursor: Option<&str>) -> Result<Page, PullError> {
        let mut url = url::Url::parse(&format!("{}/api/v1/{stream}", self.base))
            .map_err(|e| PullError::Unusable(format!("bad export address: {e}")))?;
        url.query_pairs_mut()
            .append_pair("jalkeen", cursor.unwrap_or("0"))
            .append_pair("koko", &self.page_size.to_string());
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| PullError::Unavailable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(PullError::Unavailable(format!(
                "{stream}: the export answered {status}"
            )));
        }
        let text = response
            .text()
            .await
            .map_err(|e| PullError::Unavailable(format!("{stream}: reading the answer: {e}")))?;
        let body: Value = serde_json::from_str(&text).map_err(|e| {
            let start: String = text.chars().take(60).collect();
            PullError::Unusable(format!(
                "{stream}: the answer is not JSON ({e}); it starts {start:?}"
            ))
        })?;
        let (Some(rows), Some(next)) = (body["rivit"].as_array(), body["seuraava"].as_str()) else {
            return Err(PullError::Unusable(format!(
                "{stream}: the answer has no rivit array or seuraava cursor"
            )));
        };
        let records = rows
            .iter()
            .map(|row| Record {
                key: row["koodi"].as_str().unwrap_or("(no koodi)").to_owned(),
                body: row.clone(),
            })
            .collect();
        Ok(Page {
            records,
            next_cursor: Some(next.to_owned()),
            more: body["lisaa"].as_bool().unwrap_or(false),
        })
    }

    fn map(&self, stream: &str, record: &Record) -> Mapped {
        map::record(&self.ids, stream, &record.body)
    }
}
