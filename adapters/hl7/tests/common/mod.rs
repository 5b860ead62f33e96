//! Realistic Finnish HL7 v2.3 ADT messages, as Lifecare-style feeds send them.
//!
//! All personal data is made up: the personal identity code uses the 900-series
//! individual number reserved for test identities, and the names and addresses are
//! invented. Segments are joined with CR here; tests re-encode them (ISO-8859-1, LF, CRLF)
//! the way different feeds do.
#![allow(dead_code)]

pub mod exercise;

/// Admission to the cardiology ward OS5, room 101, bed 1 at Satakunta central hospital; sent as ISO-8859-1 and declared so in MSH-18.
pub const A01: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314083000||ADT^A01^ADT_A01|LC0000101|P|2.3|||AL|NE||8859/1",
    "\r",
    r"EVN|A01|20250314083000|||LAAKARI01^Lääkäri^Leena|20250314082500",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS5^101^1^SATKS||||12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
    r"PV2|||^Sydämen vajaatoiminta||||||20250318",
    "\r",
);

/// Transfer from OS5 101/1 to OS6 204/2 (PV1-6 is the prior location); no MSH-18, so a Finnish feed would send ISO-8859-1 bytes.
pub const A02: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250315141000||ADT^A02^ADT_A01|LC0000102|P|2.3|||AL|NE",
    "\r",
    r"EVN|A02|20250315141000|||LAAKARI01^Lääkäri^Leena|20250315140000",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS6^204^2^SATKS|||OS5^101^1^SATKS|12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
    r"PV2|||^Sydämen vajaatoiminta||||||20250319",
    "\r",
);

/// Discharge (PV1-45 discharge time, PV1-36 disposition); declared UTF-8.
pub const A03: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250319101500||ADT^A03^ADT_A01|LC0000103|P|2.3|||AL|NE||UNICODE UTF-8",
    "\r",
    r"EVN|A03|20250319101500|||LAAKARI01^Lääkäri^Leena|20250319100000",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS6^204^2^SATKS||||12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||01||||||||20250314083000|20250319100000",
    "\r",
    r"PV2|||^Sydämen vajaatoiminta||||||20250319",
    "\r",
);

/// Update: planned discharge moved (PV2-9), admit reason deleted with the HL7 null (PV2-8), two diagnoses with escape sequences in DG1-4.
pub const A08: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250316090000||ADT^A08^ADT_A01|LC0000108|P|2.3|||AL|NE",
    "\r",
    r"EVN|A08|20250316090000|||LAAKARI01^Lääkäri^Leena|20250316085500",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS6^204^2^SATKS||||12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
    r#"PV2|||^Sydämen vajaatoiminta|||||""|20250320"#,
    "\r",
    r"DG1|1||I50.0^Sydämen vajaatoiminta^ICD10|Vajaatoiminta \T\ turvotus\.br\tark. \F\ seuranta||W",
    "\r",
    r"DG1|2||E11.9^Tyypin 2 diabetes^ICD10|||W",
    "\r",
);

/// Cancel admit (the A01 was entered for the wrong patient).
pub const A11: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314090000||ADT^A11^ADT_A09|LC0000111|P|2.3|||AL|NE||8859/1",
    "\r",
    r"EVN|A11|20250314090000|||LAAKARI01^Lääkäri^Leena|20250314083000",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS5^101^1^SATKS||||12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
);

/// Cancel transfer: PV1-3 is the location the patient returns to, PV1-6 the cancelled one.
pub const A12: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250315150000||ADT^A12^ADT_A12|LC0000112|P|2.3|||AL|NE",
    "\r",
    r"EVN|A12|20250315150000|||LAAKARI01^Lääkäri^Leena|20250315140000",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS5^101^1^SATKS|||OS6^204^2^SATKS|12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
);

/// Cancel discharge: the patient stays in OS6 204/2.
pub const A13: &str = concat!(
    r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250319120000||ADT^A13^ADT_A01|LC0000113|P|2.3|||AL|NE||8859/1",
    "\r",
    r"EVN|A13|20250319120000|||LAAKARI01^Lääkäri^Leena|20250319100000",
    "\r",
    r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~0012345^^^LIFECARE^PI||Ääkkönen^Åsa^Östen||19450312|F|||Testikatu 1 B 12^^Pori^^28100^FIN||+358401234567~^NET^Internet^testi@example.invalid",
    "\r",
    r"PV1|1|I|OS6^204^2^SATKS||||12345^Lääkäri^Leena|||SIS||||1|||12345^Lääkäri^Leena|IP|V0001234|||||||||||||||||||||||||20250314083000",
    "\r",
    r"PV2|||^Sydämen vajaatoiminta||||||20250321",
    "\r",
);

/// Every fixture with its trigger event.
pub const ALL: [(&str, &str); 7] = [
    ("A01", A01),
    ("A02", A02),
    ("A03", A03),
    ("A08", A08),
    ("A11", A11),
    ("A12", A12),
    ("A13", A13),
];

/// Encodes text as ISO-8859-1, the way a Finnish feed sends it. Written out here rather
/// than taken from the crate, so that the tests do not trust the code they test.
pub fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("fixture text fits ISO-8859-1"))
        .collect()
}

/// The bytes a feed would send for a fixture: ISO-8859-1, unless MSH-18 declares UTF-8.
pub fn wire(text: &str) -> Vec<u8> {
    if text.contains("UNICODE UTF-8") {
        text.as_bytes().to_vec()
    } else {
        latin1(text)
    }
}

/// A small deterministic pseudo-random generator (xorshift64*), so that the random
/// sweeps are the same on every run and need no crate.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
