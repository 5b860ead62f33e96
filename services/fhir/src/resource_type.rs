//! The resource types this service stores, and nothing else.

use std::fmt;
use std::str::FromStr;

/// A resource type the store accepts. The list is closed on purpose: the capacity
/// picture needs these, and every other type is refused with a clear message rather
/// than stored unsearchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Appointment,
    Device,
    Encounter,
    HealthcareService,
    Location,
    MeasureReport,
    Organization,
    Practitioner,
    PractitionerRole,
    Schedule,
    Slot,
}

impl ResourceType {
    /// Every supported type, in alphabetical order (as the CapabilityStatement lists them).
    pub const ALL: [ResourceType; 11] = [
        ResourceType::Appointment,
        ResourceType::Device,
        ResourceType::Encounter,
        ResourceType::HealthcareService,
        ResourceType::Location,
        ResourceType::MeasureReport,
        ResourceType::Organization,
        ResourceType::Practitioner,
        ResourceType::PractitionerRole,
        ResourceType::Schedule,
        ResourceType::Slot,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ResourceType::Appointment => "Appointment",
            ResourceType::Device => "Device",
            ResourceType::Encounter => "Encounter",
            ResourceType::HealthcareService => "HealthcareService",
            ResourceType::Location => "Location",
            ResourceType::MeasureReport => "MeasureReport",
            ResourceType::Organization => "Organization",
            ResourceType::Practitioner => "Practitioner",
            ResourceType::PractitionerRole => "PractitionerRole",
            ResourceType::Schedule => "Schedule",
            ResourceType::Slot => "Slot",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource type name that is not one of [`ResourceType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("resource type {0} is not supported by this server")]
pub struct UnsupportedType(pub String);

impl FromStr for ResourceType {
    type Err = UnsupportedType;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnsupportedType(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ResourceType::ALL {
            assert_eq!(t.as_str().parse::<ResourceType>().unwrap(), t);
        }
        assert!("slot".parse::<ResourceType>().is_err());
    }
}
