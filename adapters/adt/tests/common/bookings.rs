//! SIU messages in three senders' shapes, written from the HL7 v2 chapter 10
//! segment definitions (MSH, SCH, TQ1, NTE, PID, PV1, RGS, AIS, AIG, AIL, AIP)
//! rather than copied:
//!
//! - [`Vendor::Lifecare23`]: v2.3, ISO-8859-1 declared in MSH-18, the time in SCH-11
//!   (the timing quantity: `^^M90^start^end`), local times without an offset, one
//!   RGS group with AIS, AIL, AIG and AIP segments after it;
//! - [`Vendor::Epic251`]: v2.5.1, the structure in MSH-9-3, placer and filler ids
//!   with namespaces, SCH-6 / SCH-7 coded, TQ1-7 / TQ1-8 in UTC with `+0000`, NTE,
//!   PID and PV1, and one RGS group per resource;
//! - [`Vendor::Oberon28`]: v2.8, an MSH-21 profile, no SCH-11 (withdrawn), TQ1-7 with
//!   a duration in TQ1-6 (`90^min&minute&UCUM`), AIS-4 with AIS-7/AIS-8, SCH-25
//!   coded with its table.

use jiff::Timestamp;
use jiff::tz::TimeZone;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Lifecare23,
    Epic251,
    Oberon28,
}

/// One SIU message about one booking.
#[derive(Debug, Clone)]
pub struct Siu {
    pub vendor: Vendor,
    pub trigger: &'static str,
    pub control: String,
    /// MSH-7.
    pub at: Timestamp,
    /// SCH-2 (filler appointment id).
    pub filler: Option<String>,
    /// SCH-1 (placer appointment id).
    pub placer: Option<String>,
    /// The booking's start; `None` writes no time at all.
    pub start: Option<Timestamp>,
    pub minutes: i64,
    /// SCH-25.
    pub status: Option<&'static str>,
    /// SCH-6.
    pub reason: Option<&'static str>,
    /// SCH-7 EMERGENCY instead of ROUTINE.
    pub emergency: bool,
    /// AIL rooms (PL-2) of theatre suite LEIK.
    pub rooms: Vec<String>,
    /// AIL recovery bays (PL-3) of recovery unit HER.
    pub bays: Vec<String>,
    /// AIG device ids.
    pub devices: Vec<String>,
    /// AIP (personnel id, role).
    pub staff: Vec<(String, String)>,
    /// AIS service codes.
    pub services: Vec<String>,
}

impl Siu {
    /// A booking `filler` of `minutes` from `start` in `room`, as `vendor` sends it.
    pub fn new(vendor: Vendor, trigger: &'static str, control: &str, filler: &str) -> Siu {
        Siu {
            vendor,
            trigger,
            control: control.into(),
            at: Timestamp::now(),
            filler: Some(filler.into()),
            placer: Some(format!("P{filler}")),
            start: None,
            minutes: 90,
            status: Some("Booked"),
            reason: None,
            emergency: false,
            rooms: Vec::new(),
            bays: Vec::new(),
            devices: Vec::new(),
            staff: Vec::new(),
            services: vec!["LEIK".into()],
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let helsinki = TimeZone::get("Europe/Helsinki").unwrap();
        let ts = |t: Timestamp| match self.vendor {
            Vendor::Lifecare23 => t
                .to_zoned_datetime(helsinki.clone())
                .strftime("%Y%m%d%H%M%S")
                .to_string(),
            Vendor::Epic251 => t
                .to_zoned_datetime(TimeZone::UTC)
                .strftime("%Y%m%d%H%M%S+0000")
                .to_string(),
            Vendor::Oberon28 => t
                .to_zoned_datetime(helsinki.clone())
                .strftime("%Y%m%d%H%M%S%z")
                .to_string(),
        };
        let end = self.start.map(|s| {
            s.checked_add(jiff::SignedDuration::from_mins(self.minutes))
                .unwrap()
        });
        let id = |v: &Option<String>| match (v, self.vendor) {
            (Some(v), Vendor::Epic251) => format!("{v}^EPIC"),
            (Some(v), _) => v.clone(),
            (None, _) => String::new(),
        };
        let reason = if self.emergency {
            "EMERGENCY^Päivystys^HL70276"
        } else {
            "ROUTINE^Elektiivinen^HL70276"
        };
        let mut sch = vec![String::new(); 26];
        sch[0] = "SCH".into();
        sch[1] = id(&self.placer);
        sch[2] = id(&self.filler);
        sch[6] = self
            .reason
            .map(|r| format!("{r}^^HL70277"))
            .unwrap_or_default();
        sch[7] = reason.into();
        if self.vendor == Vendor::Lifecare23
            && let (Some(s), Some(e)) = (self.start, end)
        {
            sch[11] = format!("^^M{}^{}^{}", self.minutes, ts(s), ts(e));
        }
        sch[16] = "9999^Ajanvaraaja^Anna".into();
        sch[25] = match (self.status, self.vendor) {
            (Some(s), Vendor::Oberon28) => format!("{s}^{s}^HL70278"),
            (Some(s), _) => s.into(),
            (None, _) => String::new(),
        };
        let sch = sch.join("|").trim_end_matches('|').to_owned();
        let (version, msh9, tail) = match self.vendor {
            Vendor::Lifecare23 => ("2.3", format!("SIU^{}", self.trigger), "|||||FIN|8859/1"),
            Vendor::Epic251 => (
                "2.5.1",
                format!("SIU^{}^SIU_S12", self.trigger),
                "|||AL|NE||UNICODE UTF-8",
            ),
            Vendor::Oberon28 => (
                "2.8",
                format!("SIU^{}^SIU_S12", self.trigger),
                "|||AL|NE||UNICODE UTF-8|||FI_SIU^^2.16.840.1.113883.9.99^ISO",
            ),
        };
        let mut out = vec![
            format!(
                "MSH|^~\\&|SCHED|OYS|OHJAAMO|PPSHP|{}||{msh9}|{}|P|{version}{tail}",
                ts(self.at),
                self.control
            ),
            sch,
        ];
        match (self.vendor, self.start, end) {
            (Vendor::Epic251, Some(s), Some(e)) => {
                out.push(format!("TQ1|1||||||{}|{}", ts(s), ts(e)))
            }
            (Vendor::Oberon28, Some(s), _) => out.push(format!(
                "TQ1|1|||||{}^min&minute&UCUM|{}",
                self.minutes,
                ts(s)
            )),
            _ => {}
        }
        if self.vendor == Vendor::Epic251 {
            out.push("NTE|1||Potilas paastoaa klo 24 alkaen".into());
            out.push("PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti".into());
            out.push("PV1|1|O|LEIK^^^OYS||||||||||||||||V-77".into());
        }
        let mut group = 0;
        let mut rgs = |out: &mut Vec<String>| {
            if group == 0 || self.vendor == Vendor::Epic251 {
                group += 1;
                out.push(format!("RGS|{group}|A"));
            }
        };
        for (n, service) in self.services.iter().enumerate() {
            rgs(&mut out);
            let when = match (self.vendor, self.start) {
                (Vendor::Oberon28, Some(s)) => format!("{}|||{}|min", ts(s), self.minutes),
                (Vendor::Epic251, Some(s)) => ts(s),
                _ => String::new(),
            };
            out.push(format!("AIS|{}|A|{service}^Leikkaus^L|{when}", n + 1));
        }
        for (n, device) in self.devices.iter().enumerate() {
            rgs(&mut out);
            out.push(format!(
                "AIG|{}|A|{device}^Laite {device}|EQUIP^Laite",
                n + 1
            ));
        }
        let places = self
            .rooms
            .iter()
            .map(|r| (format!("LEIK^{r}^^OYS"), "OR^Leikkaussali"))
            .chain(
                self.bays
                    .iter()
                    .map(|b| (format!("HER^^{b}^OYS"), "PACU^Heräämö")),
            );
        for (n, (place, kind)) in places.enumerate() {
            rgs(&mut out);
            out.push(format!("AIL|{}|A|{place}|{kind}", n + 1));
        }
        for (n, (person, role)) in self.staff.iter().enumerate() {
            rgs(&mut out);
            out.push(format!(
                "AIP|{}|A|{person}^Kirurgi^Kalle|{role}^{role}^HL70443",
                n + 1
            ));
        }
        let text = out.join("\r") + "\r";
        match self.vendor {
            Vendor::Lifecare23 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            _ => text.into_bytes(),
        }
    }
}
