//! ADT messages as a Lifecare-style sender writes them: HL7 v2.3, Finnish
//! localisation, ISO 8859-1 (declared in MSH-18), timestamps in local time with the
//! offset. The patient segment is pseudonymous: a case number and a placeholder name,
//! never a real identity.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::records::Hoitojakso;

/// Where a patient is: unit, room and bed place codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub unit: String,
    pub room: String,
    pub bed: String,
}

/// An HL7 timestamp in `zone` with its offset: `YYYYMMDDHHMMSS+HHMM`.
pub fn hl7_time(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%Y%m%d%H%M%S%z")
        .to_string()
}

/// One ADT message. `place` fills PV1-3, `prior` PV1-6.
pub fn adt(
    trigger: &str,
    control_id: &str,
    now: Timestamp,
    zone: &TimeZone,
    stay: &Hoitojakso,
    place: &Place,
    prior: Option<&Place>,
) -> Vec<u8> {
    let ts = hl7_time(now, zone);
    let admitted = stay
        .tulo
        .parse::<Timestamp>()
        .map(|t| hl7_time(t, zone))
        .unwrap_or_default();
    let discharged = stay
        .lahto
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|t| hl7_time(t, zone))
        .unwrap_or_default();
    let planned = stay
        .suunniteltu_lahto
        .as_deref()
        .map(|d| d.replace('-', ""))
        .unwrap_or_default();
    let poc = |p: &Place| format!("{}^{}^{}", p.unit, p.room, p.bed);
    let prior = prior.map(poc).unwrap_or_default();
    // PV1: 1 set id, 2 class, 3 location, 6 prior location, 19 visit, 44 admit, 45 discharge.
    let mut pv1 = vec![String::new(); 46];
    pv1[0] = "PV1".into();
    pv1[1] = "1".into();
    pv1[2] = "I".into();
    pv1[3] = poc(place);
    pv1[6] = prior;
    pv1[19] = stay.kaynti.clone();
    pv1[44] = admitted;
    pv1[45] = discharged;
    let text = format!(
        "MSH|^~\\&|LIFECARE|SAIRAALA|OHJAAMO|OHJAAMO|{ts}||ADT^{trigger}|{control_id}|P|2.3|||||FIN|8859/1\r\
         EVN|{trigger}|{ts}||||{ts}\r\
         PID|1||{case}^^^LIFECARE^PI||Potilas^Testi Äijä\r\
         {pv1}\r\
         PV2|||||||||{planned}\r",
        case = stay.kaynti,
        pv1 = pv1.join("|").trim_end_matches('|'),
    );
    latin1(&text)
}

/// The text in ISO 8859-1; characters outside it become `?`, as such senders do.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}
