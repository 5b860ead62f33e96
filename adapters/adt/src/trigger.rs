//! The ADT trigger events the adapter knows (HL7 v2.3–v2.8, chapter 3), and what
//! each one is to a stay: an event that changes it, the cancel of such an event,
//! or one that says nothing about beds.
//!
//! The conformance table in docs/adapters.md says what each one does to the
//! Encounter, its Slots and the picture; the tests (`tests/triggers.rs`) hold the
//! two together.

/// An ADT trigger event the adapter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Admit an inpatient.
    A01,
    /// Transfer to another location.
    A02,
    /// Discharge.
    A03,
    /// Register an outpatient or emergency visit.
    A04,
    /// Pre-admit: a planned stay.
    A05,
    /// An outpatient becomes an inpatient.
    A06,
    /// An inpatient becomes an outpatient.
    A07,
    /// Update the visit's information.
    A08,
    /// Patient departing (tracking): not a change of the census bed.
    A09,
    /// Patient arriving (tracking): not a change of the census bed.
    A10,
    /// Cancel an admit (or a registration).
    A11,
    /// Cancel a transfer.
    A12,
    /// Cancel a discharge.
    A13,
    /// Pending admit: a bed to reserve.
    A14,
    /// Pending transfer: a bed to reserve at the destination.
    A15,
    /// Pending discharge: a bed freeing.
    A16,
    /// Swap two patients' beds.
    A17,
    /// Leave of absence: the bed is held, empty.
    A21,
    /// Return from leave of absence.
    A22,
    /// Cancel a pending discharge.
    A26,
    /// Cancel a pending transfer.
    A25,
    /// Cancel a pending admit.
    A27,
    /// Add person information: no visit, nothing for beds.
    A28,
    /// Update person information: no visit, nothing for beds.
    A31,
    /// Merge patient information (patient identifier only).
    A34,
    /// Cancel a pre-admit.
    A38,
    /// Merge patient (patient identifier list).
    A40,
    /// Cancel a leave of absence.
    A52,
    /// Cancel a return from leave of absence.
    A53,
}

/// What a trigger is to the stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Changes one stay.
    Stay,
    /// Moves two stays at once (A17).
    Swap,
    /// Re-keys the stays of merged identifiers (A34, A40).
    Merge,
    /// Acknowledged; nothing is stored (person data, tracking).
    Nothing,
}

impl Trigger {
    /// The trigger of MSH-9-2 (`A01`, …); `None` for one the adapter does not read.
    pub fn parse(code: &str) -> Option<Trigger> {
        use Trigger::*;
        Some(match code {
            "A01" => A01,
            "A02" => A02,
            "A03" => A03,
            "A04" => A04,
            "A05" => A05,
            "A06" => A06,
            "A07" => A07,
            "A08" => A08,
            "A09" => A09,
            "A10" => A10,
            "A11" => A11,
            "A12" => A12,
            "A13" => A13,
            "A14" => A14,
            "A15" => A15,
            "A16" => A16,
            "A17" => A17,
            "A21" => A21,
            "A22" => A22,
            "A25" => A25,
            "A26" => A26,
            "A27" => A27,
            "A28" => A28,
            "A31" => A31,
            "A34" => A34,
            "A38" => A38,
            "A40" => A40,
            "A52" => A52,
            "A53" => A53,
            _ => return None,
        })
    }

    /// The trigger's code, as MSH-9-2 writes it.
    pub fn code(self) -> &'static str {
        use Trigger::*;
        match self {
            A01 => "A01",
            A02 => "A02",
            A03 => "A03",
            A04 => "A04",
            A05 => "A05",
            A06 => "A06",
            A07 => "A07",
            A08 => "A08",
            A09 => "A09",
            A10 => "A10",
            A11 => "A11",
            A12 => "A12",
            A13 => "A13",
            A14 => "A14",
            A15 => "A15",
            A16 => "A16",
            A17 => "A17",
            A21 => "A21",
            A22 => "A22",
            A25 => "A25",
            A26 => "A26",
            A27 => "A27",
            A28 => "A28",
            A31 => "A31",
            A34 => "A34",
            A38 => "A38",
            A40 => "A40",
            A52 => "A52",
            A53 => "A53",
        }
    }

    pub fn role(self) -> Role {
        use Trigger::*;
        match self {
            A17 => Role::Swap,
            A34 | A40 => Role::Merge,
            A09 | A10 | A28 | A31 => Role::Nothing,
            _ => Role::Stay,
        }
    }

    /// The events this one cancels (A11 cancels A01 and A04, …); empty for an event
    /// that cancels nothing.
    pub fn cancels(self) -> &'static [Trigger] {
        use Trigger::*;
        match self {
            A11 => &[A01, A04],
            A12 => &[A02],
            A13 => &[A03],
            A25 => &[A15],
            A26 => &[A16],
            A27 => &[A14, A05],
            A38 => &[A05, A14],
            A52 => &[A21],
            A53 => &[A22],
            _ => &[],
        }
    }

    /// Whether the event needs PV1-3 (the place it puts the patient in).
    pub fn needs_location(self) -> bool {
        matches!(self, Trigger::A01 | Trigger::A02 | Trigger::A12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for n in 1..=62 {
            let code = format!("A{n:02}");
            if let Some(t) = Trigger::parse(&code) {
                assert_eq!(t.code(), code);
            }
        }
        assert_eq!(Trigger::parse("A60"), None);
        assert_eq!(Trigger::parse("a01"), None);
    }
}
