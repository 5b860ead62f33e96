//! ADT messages in three senders' shapes, written from the HL7 v2 chapter 3
//! segment definitions (MSH, EVN, PID, PD1, PV1, PV2, MRG) rather than copied:
//!
//! - [`Shape::Lifecare23`]: v2.3, ISO-8859-1 declared in MSH-18, EVN-1 filled, the
//!   visit number in PV1-19, nothing optional;
//! - [`Shape::Epic251`]: v2.5.1, UTF-8, the message structure in MSH-9-3, EVN-6
//!   (event occurred), PID-3 with an assigning authority, PID-18 account number, PD1,
//!   NK1, ROL, DG1 and a `ZPV` Z-segment;
//! - [`Shape::Esko28`]: v2.8, EVN-1 left empty (withdrawn since v2.7), MSH-21
//!   profile, OBX and a `ZBE` Z-segment after PV2.
//!
//! Times are written in UTC with an explicit offset, as several senders do.

use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Lifecare23,
    Epic251,
    Esko28,
}

/// One patient's PID–PV1 group.
#[derive(Debug, Clone, Default)]
pub struct Patient {
    /// PV1-19.
    pub visit: Option<String>,
    /// PID-18.
    pub account: Option<String>,
    /// PID-3 (an identity code: never to be stored).
    pub id: String,
    /// PV1-2.
    pub class: String,
    /// PV1-3 bed key in ward K2 (`K2-1-1`).
    pub bed: Option<String>,
    /// PV1-6 bed key.
    pub prior: Option<String>,
    /// PV1-42 bed key.
    pub pending: Option<String>,
    /// PV1-44.
    pub admitted: Option<Timestamp>,
    /// PV2-8.
    pub expected_admit: Option<Timestamp>,
    /// PV2-9.
    pub expected_discharge: Option<Timestamp>,
}

/// An ADT message.
#[derive(Debug, Clone)]
pub struct Adt {
    pub shape: Shape,
    pub trigger: String,
    pub control: String,
    pub at: Timestamp,
    /// EVN-3.
    pub planned: Option<Timestamp>,
    pub patients: Vec<Patient>,
    /// MRG-1 (prior patient id), MRG-3 (prior account), MRG-5 (prior visit).
    pub mrg: Option<(String, String, String)>,
}

pub fn ts(t: Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%S+0000").to_string()
}

fn bed(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!("K2^1^{k}^OYS"))
        .unwrap_or_default()
}

impl Adt {
    /// A message of one patient, visit `visit` (PV1-19) in `bed`, at `at`.
    pub fn new(shape: Shape, trigger: &str, control: &str, at: Timestamp, patient: Patient) -> Adt {
        Adt {
            shape,
            trigger: trigger.into(),
            control: control.into(),
            at,
            planned: None,
            patients: vec![patient],
            mrg: None,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let at = ts(self.at);
        let t = &self.trigger;
        let c = &self.control;
        let planned = self.planned.map(ts).unwrap_or_default();
        let mut segments = vec![match self.shape {
            Shape::Lifecare23 => {
                format!("MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|{at}||ADT^{t}|{c}|P|2.3||||||8859/1")
            }
            Shape::Epic251 => format!(
                "MSH|^~\\&|EPIC|APOTTI|OHJAAMO|HUS|{at}||ADT^{t}^ADT_A01|{c}|P|2.5.1|||AL|NE||UNICODE UTF-8"
            ),
            Shape::Esko28 => format!(
                "MSH|^~\\&|ESKO|KSSHP|OHJAAMO|KSSHP|{at}||ADT^{t}^ADT_A01|{c}|P|2.8|||AL|NE|FIN|UNICODE UTF-8|||ESKO_ADT^^1.2.246.537^ISO"
            ),
        }];
        segments.push(match self.shape {
            Shape::Lifecare23 => format!("EVN|{t}|{at}|{planned}"),
            Shape::Epic251 => format!("EVN|{t}|{at}|{planned}|||{at}"),
            Shape::Esko28 => format!("EVN||{at}|{planned}|||{at}^^"),
        });
        for p in &self.patients {
            let mut pid = vec![String::new(); 19];
            pid[0] = "PID".into();
            pid[1] = "1".into();
            pid[3] = match self.shape {
                Shape::Lifecare23 => format!("{}^^^^NNFIN", p.id),
                _ => format!("{}^^^APOTTI^MR~{}^^^NNFIN^NNFIN", p.id, p.id),
            };
            pid[5] = "Meikäläinen^Matti".into();
            pid[18] = p.account.clone().unwrap_or_default();
            segments.push(pid.join("|"));
            if self.shape == Shape::Epic251 {
                segments.push("PD1|||HUS^^01901".into());
                segments.push("NK1|1|Meikäläinen^Maija|SPO".into());
            }
            let mut pv1 = vec![String::new(); 46];
            pv1[0] = "PV1".into();
            pv1[1] = "1".into();
            pv1[2] = p.class.clone();
            pv1[3] = bed(&p.bed);
            pv1[6] = bed(&p.prior);
            pv1[7] = "1234^Lääkäri^Liisa".into();
            pv1[19] = p.visit.clone().unwrap_or_default();
            pv1[42] = bed(&p.pending);
            pv1[44] = p.admitted.map(ts).unwrap_or_default();
            let pv1 = pv1.join("|");
            segments.push(match self.shape {
                // Lifecare ends its PV1 at the last field it fills.
                Shape::Lifecare23 => pv1.trim_end_matches('|').to_owned(),
                _ => pv1,
            });
            if p.expected_admit.is_some() || p.expected_discharge.is_some() {
                segments.push(format!(
                    "PV2|||Rintakipu^^local|||||{}|{}",
                    p.expected_admit.map(ts).unwrap_or_default(),
                    p.expected_discharge.map(ts).unwrap_or_default()
                ));
            }
            match self.shape {
                Shape::Epic251 => {
                    segments.push("ROL|1|AD|AT|1234^Lääkäri^Liisa".into());
                    segments.push("DG1|1||I21.0^Sydäninfarkti^ICD10".into());
                    segments.push("ZPV|APOTTI|extra^data|".into());
                }
                Shape::Esko28 => {
                    segments.push("OBX|1|NM|8302-2^Pituus^LN||180|cm|||||F".into());
                    segments.push("ZBE|MOVE-1|20260101|".into());
                }
                Shape::Lifecare23 => {}
            }
        }
        if let Some((patient, account, visit)) = &self.mrg {
            segments.push(format!("MRG|{patient}^^^NNFIN||{account}||{visit}"));
        }
        let mut text = segments.join("\r");
        text.push('\r');
        match self.shape {
            // Lifecare declares ISO-8859-1 and sends it.
            Shape::Lifecare23 => text.chars().map(|c| c as u32 as u8).collect(),
            _ => text.into_bytes(),
        }
    }
}
