//! Which fields identify a stay: a rule per source, an ordered list of keys.
//!
//! Lifecare sends the visit number in PV1-19; other senders leave it empty and
//! identify the visit by the patient account number (PID-18), or only by the patient
//! and the admission time (PID-3 with PV1-44). A source's rule lists the keys it
//! trusts in order (`--visit-key pv1-19,pid-18,pid-3+pv1-44`); a message offers
//! those it carries. Every key a message offers is kept as an identifier of the
//! stay (one system, the visit system, the kind as a prefix of the value), so that a
//! later message carrying only a lower key still finds the stay an earlier one made.
//!
//! PID-3 is the patient's identity code in Finland, and Ohjaamo keeps no personal
//! data: the key made from it is a keyed SHA-256 pseudonym (the source's secret,
//! `--visit-key-secret`), never the code itself.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// The prefix of a patient's pseudonym among a stay's identifiers.
pub const PATIENT: &str = "patient:";

/// One kind of visit key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// PV1-19, the visit number (the value as is).
    VisitNumber,
    /// PID-18, the patient account number (`account:<value>`).
    Account,
    /// PID-3 with PV1-44: the patient's pseudonym and the admission time
    /// (`patient-admit:<pseudonym>:<PV1-44>`).
    PatientAdmit,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            KeyKind::VisitNumber => "pv1-19",
            KeyKind::Account => "pid-18",
            KeyKind::PatientAdmit => "pid-3+pv1-44",
        }
    }

    /// The fields the key is made of, for a message that lacks them.
    pub fn fields(self) -> &'static str {
        match self {
            KeyKind::VisitNumber => "PV1-19 (visit number)",
            KeyKind::Account => "PID-18 (patient account number)",
            KeyKind::PatientAdmit => "PID-3 (patient identifier) with PV1-44 (admit time)",
        }
    }
}

/// A source's rule: the keys in the order they are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRule {
    kinds: Vec<KeyKind>,
}

impl Default for VisitRule {
    /// PV1-19 alone, as Lifecare sends it.
    fn default() -> VisitRule {
        VisitRule {
            kinds: vec![KeyKind::VisitNumber],
        }
    }
}

impl FromStr for VisitRule {
    type Err = String;

    fn from_str(text: &str) -> Result<VisitRule, String> {
        let mut kinds = Vec::new();
        for part in text.split(',').map(str::trim) {
            let kind = match part.to_ascii_lowercase().as_str() {
                "pv1-19" => KeyKind::VisitNumber,
                "pid-18" => KeyKind::Account,
                "pid-3+pv1-44" => KeyKind::PatientAdmit,
                other => {
                    return Err(format!(
                        "unknown visit key {other:?}: use pv1-19, pid-18 or pid-3+pv1-44, in order, separated by commas"
                    ));
                }
            };
            if kinds.contains(&kind) {
                return Err(format!("visit key {part:?} is listed twice"));
            }
            kinds.push(kind);
        }
        Ok(VisitRule { kinds })
    }
}

impl fmt::Display for VisitRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// The rule and the secret of the pseudonyms, as the mapping reads messages.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub rule: VisitRule,
    /// The key of PID-3's pseudonym; required when the rule uses PID-3.
    pub secret: Option<String>,
}

impl Reading {
    /// Checks the settings hold together: a rule with PID-3 needs a secret.
    pub fn new(rule: VisitRule, secret: Option<String>) -> Result<Reading, String> {
        let secret = secret.filter(|s| !s.is_empty());
        if rule.kinds.contains(&KeyKind::PatientAdmit) && secret.is_none() {
            return Err(
                "the visit key pid-3+pv1-44 needs --visit-key-secret (OHJAAMO_ADT_VISIT_KEY_SECRET): PID-3 is kept only as a keyed pseudonym".into(),
            );
        }
        Ok(Reading { rule, secret })
    }

    pub fn kinds(&self) -> &[KeyKind] {
        &self.rule.kinds
    }

    /// The keys `field` offers (it reads a position such as `PV1-19-1`, trimmed,
    /// `None` when empty), in the rule's order. `admitted` is PV1-44 as the
    /// message wrote it.
    pub fn keys(&self, field: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        self.rule
            .kinds
            .iter()
            .filter_map(|kind| self.key(*kind, field))
            .collect()
    }

    fn key(&self, kind: KeyKind, field: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        match kind {
            KeyKind::VisitNumber => field("PV1-19-1"),
            KeyKind::Account => field("PID-18-1").map(|v| format!("account:{v}")),
            KeyKind::PatientAdmit => {
                let patient = self.patient(field("PID-3-1")?, field("PID-3-4"))?;
                let admitted = field("PV1-44-1")?;
                Some(format!("patient-admit:{patient}:{admitted}"))
            }
        }
    }

    /// The keys of the identifiers a merge (A34, A40) names in MRG as those being
    /// merged away: MRG-5 (prior visit number), MRG-3 (prior account), MRG-1 (prior
    /// patient identifier, as its pseudonym) — each paired with the message's own
    /// key of that kind. For the patient, the pair is `patient:<pseudonym>` of each:
    /// every key made of the prior pseudonym is renamed (see `merge`).
    pub fn renames(&self, field: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        let mut renames = Vec::new();
        for kind in &self.rule.kinds {
            let pair = match kind {
                KeyKind::VisitNumber => field("MRG-5-1").zip(field("PV1-19-1")),
                KeyKind::Account => field("MRG-3-1")
                    .map(|v| format!("account:{v}"))
                    .zip(field("PID-18-1").map(|v| format!("account:{v}"))),
                KeyKind::PatientAdmit => field("MRG-1-1")
                    .and_then(|v| self.patient(v, field("MRG-1-4")))
                    .map(|p| format!("{PATIENT}{p}"))
                    .zip(self.patient_key(field)),
            };
            if let Some((old, new)) = pair
                && old != new
            {
                renames.push((old, new));
            }
        }
        renames
    }

    /// `patient:<pseudonym>` of PID-3, when the rule uses PID-3: kept beside the
    /// stay's keys so that a merge of patients finds every stay of the one merged
    /// away.
    pub fn patient_key(&self, field: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        if !self.rule.kinds.contains(&KeyKind::PatientAdmit) {
            return None;
        }
        let p = self.patient(field("PID-3-1")?, field("PID-3-4"))?;
        Some(format!("{PATIENT}{p}"))
    }

    /// The pseudonym of a patient identifier (and its assigning authority): the
    /// first 128 bits of SHA-256 over the secret and the identifier, in hex.
    fn patient(&self, id: String, authority: Option<String>) -> Option<String> {
        let secret = self.secret.as_deref()?;
        let mut hash = Sha256::new();
        hash.update((secret.len() as u64).to_be_bytes());
        hash.update(secret.as_bytes());
        hash.update(id.as_bytes());
        hash.update([0]);
        hash.update(authority.unwrap_or_default().as_bytes());
        Some(hex::encode(&hash.finalize()[..16]))
    }

    /// What a message without any key lacks, for the sender.
    pub fn missing(&self) -> String {
        let fields: Vec<&str> = self.rule.kinds.iter().map(|k| k.fields()).collect();
        format!(
            "no visit key: the source identifies a visit by {} (rule {}), and the message has none",
            fields.join(", else "),
            self.rule
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |p: &str| pairs.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_rule_reads_in_order_and_refuses_the_unknown() {
        let rule: VisitRule = "pv1-19, PID-18,pid-3+pv1-44".parse().unwrap();
        assert_eq!(rule.to_string(), "pv1-19,pid-18,pid-3+pv1-44");
        assert!("pv1-19,pv1-19".parse::<VisitRule>().is_err());
        assert!("pv1-50".parse::<VisitRule>().is_err());
        assert!(
            Reading::new(rule.clone(), None).is_err(),
            "PID-3 needs a secret"
        );
        let reading = Reading::new(rule, Some("s".into())).unwrap();
        let keys = reading.keys(&fields(&[
            ("PID-3-1", "010190-900P"),
            ("PID-18-1", "T-55"),
            ("PV1-44-1", "202603150800"),
        ]));
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(keys[0], "account:T-55");
        assert!(keys[1].starts_with("patient-admit:") && keys[1].ends_with(":202603150800"));
        assert!(!keys[1].contains("010190"), "a pseudonym, not the code");
    }

    #[test]
    fn the_pseudonym_depends_on_the_secret() {
        let rule: VisitRule = "pid-3+pv1-44".parse().unwrap();
        let f = fields(&[("PID-3-1", "010190-900P"), ("PV1-44-1", "2026")]);
        let a = Reading::new(rule.clone(), Some("a".into()))
            .unwrap()
            .keys(&f);
        let b = Reading::new(rule, Some("b".into())).unwrap().keys(&f);
        assert_ne!(a, b);
    }

    #[test]
    fn a_merge_renames_each_kind_of_key() {
        let reading = Reading::new("pv1-19,pid-18".parse().unwrap(), None).unwrap();
        let renames = reading.renames(&fields(&[
            ("MRG-5-1", "V-OLD"),
            ("PV1-19-1", "V-NEW"),
            ("MRG-3-1", "A1"),
            ("PID-18-1", "A1"),
        ]));
        assert_eq!(renames, [("V-OLD".to_owned(), "V-NEW".to_owned())]);
        assert!(
            reading
                .missing()
                .contains("PV1-19 (visit number), else PID-18")
        );
    }
}
