//! HL7 positions written the way interface specifications write them: `PV1-3-1`.
//!
//! Integration specs, mapping tables and error reports all name data by position, so the
//! adapter should be able to as well: `msg.get("PV1-3-1")` reads like the spec it
//! implements. A position is `SEG[(occurrence)]-field[(repetition)][-component[-subcomponent]]`,
//! all numbers 1-based; `.` is accepted instead of `-` after the field (`PID-5.1`).
//! Left-out parts mean "the first one", as in HAPI's terser.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A position that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid HL7 position {path:?}: {reason}")]
pub struct PathError {
    path: String,
    reason: &'static str,
}

/// A position inside a message, such as `PV1-3-1` or `NK1(2)-2-1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    segment: String,
    occurrence: usize,
    field: FieldPath,
}

/// A position inside a segment, such as `3-1` or `3(2)-1-2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPath {
    /// Field number (MSH-1 is the field separator).
    pub field: usize,
    /// Repetition of the field.
    pub repetition: usize,
    /// Component.
    pub component: usize,
    /// Subcomponent.
    pub subcomponent: usize,
}

impl Path {
    /// Reads a position such as `PV1-3-1`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let err = |reason| PathError {
            path: text.to_owned(),
            reason,
        };
        let (head, rest) = text
            .split_once('-')
            .ok_or_else(|| err("expected SEG-field, such as PV1-3"))?;
        let (id, occurrence) = split_index(head).ok_or_else(|| err("bad segment occurrence"))?;
        if !is_segment_id(id) {
            return Err(err(
                "a segment ID is 3 characters: an upper-case letter, then letters or digits",
            ));
        }
        let field = FieldPath::parse(rest).map_err(|e| err(e.reason))?;
        Ok(Path {
            segment: id.to_owned(),
            occurrence,
            field,
        })
    }

    /// The segment ID.
    pub fn segment(&self) -> &str {
        &self.segment
    }

    /// Which occurrence of the segment (1 = the first).
    pub fn occurrence(&self) -> usize {
        self.occurrence
    }

    /// The position inside the segment.
    pub fn field_path(&self) -> FieldPath {
        self.field
    }
}

impl FieldPath {
    /// Reads a position inside a segment such as `3-1` or `3(2)-1`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let err = |reason| PathError {
            path: text.to_owned(),
            reason,
        };
        let mut parts = text.split(['-', '.']);
        let first = parts.next().unwrap_or_default();
        let (field, repetition) = split_index(first).ok_or_else(|| err("bad field repetition"))?;
        let field = number(field).ok_or_else(|| err("field numbers start at 1"))?;
        let mut next = |name| match parts.next() {
            None => Ok(1),
            Some(p) => number(p).ok_or_else(|| err(name)),
        };
        let component = next("component numbers start at 1")?;
        let subcomponent = next("subcomponent numbers start at 1")?;
        if parts.next().is_some() {
            return Err(err(
                "too many parts: field, component and subcomponent at most",
            ));
        }
        Ok(FieldPath {
            field,
            repetition,
            component,
            subcomponent,
        })
    }
}

impl FromStr for Path {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Path::parse(s)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segment)?;
        if self.occurrence != 1 {
            write!(f, "({})", self.occurrence)?;
        }
        let p = self.field;
        write!(f, "-{}", p.field)?;
        if p.repetition != 1 {
            write!(f, "({})", p.repetition)?;
        }
        write!(f, "-{}-{}", p.component, p.subcomponent)
    }
}

/// `"NK1(2)"` to `("NK1", 2)`, `"NK1"` to `("NK1", 1)`.
fn split_index(text: &str) -> Option<(&str, usize)> {
    match text.split_once('(') {
        None => Some((text, 1)),
        Some((name, rest)) => Some((name, number(rest.strip_suffix(')')?)?)),
    }
}

/// A positive decimal number, digits only.
fn number(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n > 0)
}

/// Three characters: an upper-case letter, then upper-case letters or digits.
pub(crate) fn is_segment_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 3
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(field: usize, repetition: usize, component: usize, subcomponent: usize) -> FieldPath {
        FieldPath {
            field,
            repetition,
            component,
            subcomponent,
        }
    }

    #[test]
    fn reads_positions() {
        let p = Path::parse("PV1-3-1").unwrap();
        assert_eq!((p.segment(), p.occurrence()), ("PV1", 1));
        assert_eq!(p.field_path(), fp(3, 1, 1, 1));

        let p: Path = "NK1(2)-2(3)-1-2".parse().unwrap();
        assert_eq!((p.segment(), p.occurrence()), ("NK1", 2));
        assert_eq!(p.field_path(), fp(2, 3, 1, 2));

        assert_eq!(Path::parse("PID-5.1").unwrap().field_path(), fp(5, 1, 1, 1));
        assert_eq!(Path::parse("ZPV-10").unwrap().field_path(), fp(10, 1, 1, 1));
        assert_eq!(Path::parse("PV2-9").unwrap().to_string(), "PV2-9-1-1");
        assert_eq!(
            Path::parse("OBX(2)-5(3)").unwrap().to_string(),
            "OBX(2)-5(3)-1-1"
        );
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            "",
            "PV1",
            "PV1-",
            "PV1-0",
            "PV1-3-0",
            "pv1-3",
            "PV-3",
            "PV11-3",
            "1PV-3",
            "PV1-3-1-1-1",
            "PV1(0)-3",
            "PV1(x)-3",
            "PV1-3(2",
            "PV1-+3",
            "PV1--3",
            "PV1-3-",
            "PV1-ä",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let e = Path::parse("PV1-0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid HL7 position \"PV1-0\": field numbers start at 1"
        );
    }
}
