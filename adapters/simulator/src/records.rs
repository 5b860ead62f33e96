//! The records of the export, with the Finnish field names such an export has.
//!
//! Every record carries `muutos` (the change number of its last change, global and
//! increasing: the export's modified-since cursor) and `poistettu` (a tombstone: the
//! record was deleted and stays in the export so that readers learn of it).

use serde::Serialize;

/// Hospital or rehabilitation hospital.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Toimipiste {
    pub koodi: String,
    pub nimi: String,
    /// `sairaala` or `kuntoutussairaala`.
    pub tyyppi: String,
    pub muutos: u64,
    pub poistettu: bool,
}

/// A unit: ward, theatre suite, recovery unit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Yksikko {
    pub koodi: String,
    pub nimi: String,
    pub toimipiste: String,
    /// `vuodeosasto`, `kuntoutusosasto`, `leikkausosasto` or `heraamo`.
    pub tyyppi: String,
    /// The ward's specialty (*erikoisala*), e.g. `ortopedia`; none for units without
    /// one (theatre suite, recovery, clinic).
    pub erikoisala: Option<String>,
    pub muutos: u64,
    pub poistettu: bool,
}

/// A patient room or an operating room.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Huone {
    pub koodi: String,
    pub nimi: String,
    pub yksikko: String,
    /// `potilashuone` or `leikkaussali`.
    pub tyyppi: String,
    pub muutos: u64,
    pub poistettu: bool,
}

/// A bed place or a recovery bay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vuodepaikka {
    pub koodi: String,
    pub nimi: String,
    pub yksikko: String,
    pub huone: Option<String>,
    /// An over-capacity place (*ylipaikka*): used only when the ward is full.
    pub ylipaikka: bool,
    /// Closed (cleaning, repair, staff shortage).
    pub suljettu: bool,
    pub muutos: u64,
    pub poistettu: bool,
}

/// A maintenance window of a piece of equipment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Huolto {
    pub alkaa: String,
    pub paattyy: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Laite {
    pub koodi: String,
    pub nimi: String,
    pub tyyppi: String,
    pub yksikko: String,
    pub huolto: Option<Huolto>,
    pub muutos: u64,
    pub poistettu: bool,
}

/// One staff member's shift in a role, with their competences.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tyovuoro {
    pub koodi: String,
    /// Pseudonymous staff number: never a name.
    pub henkilo: String,
    /// `sairaanhoitaja`, `lahihoitaja`, `anestesialaakari`, `kirurgi`, ...
    pub rooli: String,
    pub osaamiset: Vec<String>,
    pub yksikko: String,
    pub alkaa: String,
    pub paattyy: String,
    pub muutos: u64,
    pub poistettu: bool,
}

/// An operation on the operation list, with its phase.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Leikkaus {
    pub koodi: String,
    /// The operating room (a `Huone` of type `leikkaussali`).
    pub sali: String,
    /// Pseudonymous case number.
    pub tapaus: String,
    pub kiireellisyys: String,
    pub alkaa: String,
    pub paattyy: String,
    /// `varattu`, `kaynnissa`, `valmis` or `peruttu`.
    pub tila: String,
    /// `odottaa`, `siirto_saliin`, `leikkaus`, `heraamossa`, `poistunut`.
    pub vaihe: String,
    pub toteutunut_alku: Option<String>,
    pub toteutunut_loppu: Option<String>,
    /// When the patient was ready to leave recovery (from then on, one going to a
    /// ward waits for a bed there).
    pub siirtovalmis: Option<String>,
    /// When the patient left recovery.
    pub heraamosta: Option<String>,
    pub heraamopaikka: Option<String>,
    /// Where the patient goes after recovery: a unit code or `koti`.
    pub jatkohoito: String,
    pub muutos: u64,
    pub poistettu: bool,
}

/// An inpatient stay as the ADT feed tells it (not in the export: `GET /truth` only).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hoitojakso {
    pub kaynti: String,
    pub yksikko: String,
    pub paikka: String,
    pub tulo: String,
    pub suunniteltu_lahto: Option<String>,
    pub lahto: Option<String>,
    /// `osastolla`, `kotiutettu` or `peruttu`.
    pub tila: String,
    /// The places of the stay in order, with arrival and leaving times.
    pub paikat: Vec<Siirto>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Siirto {
    pub yksikko: String,
    pub paikka: String,
    pub alkaa: String,
    pub paattyy: Option<String>,
}

/// A time window of an outpatient clinic room's booking list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vastaanottoaika {
    pub koodi: String,
    /// The clinic room (a `Huone` of type `vastaanottohuone`).
    pub huone: String,
    pub alkaa: String,
    pub paattyy: String,
    /// `vapaa` (free) or `varattu` (booked).
    pub tila: String,
    pub muutos: u64,
    pub poistettu: bool,
}
