//! The size of a JSON body measured before it becomes a tree.
//!
//! A JSON tree costs far more memory than its text: a 32 MiB body of `[0,0,…]` became
//! 1.6 GB of `serde_json::Value`s. [`measure`] walks the text once without keeping
//! anything, counting values and the entries of a top-level `entry` array (a Bundle's),
//! and stops as soon as the count passes the caller's limit, so a hostile body costs
//! one pass over its bytes and no allocation.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What [`measure`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Every JSON value: objects, arrays and scalars.
    pub values: usize,
    /// Elements of the top-level object's `entry` array (0 when there is none).
    pub entries: usize,
}

/// Why a body was not measured to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// More than the limit of values; the body was not read further.
    TooManyValues { limit: usize },
    /// Not JSON (the message is serde_json's).
    NotJson(String),
}

/// Counts the values of `body`, refusing it as soon as they pass `max_values`.
pub fn measure(body: &[u8], max_values: usize) -> Result<Shape, ShapeError> {
    let mut counter = Counter {
        values: 0,
        max_values,
        exceeded: false,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let walked = Values {
        counter: &mut counter,
        length: false,
        top: true,
    }
    .deserialize(&mut deserializer);
    let outcome = walked.and_then(|entries| deserializer.end().map(|()| entries));
    match outcome {
        Ok(entries) => Ok(Shape {
            values: counter.values,
            entries,
        }),
        Err(_) if counter.exceeded => Err(ShapeError::TooManyValues { limit: max_values }),
        Err(e) => Err(ShapeError::NotJson(e.to_string())),
    }
}

struct Counter {
    values: usize,
    max_values: usize,
    exceeded: bool,
}

impl Counter {
    fn one<E: de::Error>(&mut self) -> Result<(), E> {
        self.values += 1;
        if self.values > self.max_values {
            self.exceeded = true;
            return Err(E::custom("too many JSON values"));
        }
        Ok(())
    }
}

/// A value: counted, with its children. With `length`, an array's element count is
/// returned (0 for anything else); with `top` (the document itself), the length of
/// the `entry` array of an object.
struct Values<'a> {
    counter: &'a mut Counter,
    length: bool,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for Values<'_> {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        self.counter.one()?;
        let mut n = 0;
        while seq
            .next_element_seed(Values {
                counter: &mut *self.counter,
                length: false,
                top: false,
            })?
            .is_some()
        {
            n += 1;
        }
        Ok(if self.length { n } else { 0 })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        self.counter.one()?;
        let mut entries = 0;
        loop {
            let is_entry = if self.top {
                map.next_key_seed(KeyIsEntry)?
            } else {
                map.next_key::<IgnoredAny>()?.map(|_| false)
            };
            let Some(is_entry) = is_entry else {
                return Ok(entries);
            };
            let length = map.next_value_seed(Values {
                counter: &mut *self.counter,
                length: is_entry,
                top: false,
            })?;
            if is_entry {
                entries = length;
            }
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
    fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
        self.counter.one().map(|()| 0)
    }
}

/// Reads an object key and tells whether it is `entry`, without keeping it.
struct KeyIsEntry;

impl<'de> DeserializeSeed<'de> for KeyIsEntry {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIsEntry {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == "entry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_bundle_entries_are_counted() {
        let bundle = br#"{"resourceType":"Bundle","entry":[{"a":1},{"b":[true,null]}],"x":"y"}"#;
        // object, "Bundle", entry array, {a}, 1, {b}, [..], true, null, "y"
        assert_eq!(
            measure(bundle, 100),
            Ok(Shape {
                values: 10,
                entries: 2
            })
        );
        assert_eq!(measure(b"[1,[2,3]]", 100).unwrap().values, 5);
        assert_eq!(measure(b"\"entry\"", 100).unwrap().entries, 0);
        let nested_entry = br#"{"a":{"entry":[1,2,3]}}"#;
        assert_eq!(measure(nested_entry, 100).unwrap().entries, 0);
    }

    #[test]
    fn a_large_body_stops_at_the_limit() {
        let body = format!("[{}0]", "0,".repeat(1_000_000));
        assert_eq!(
            measure(body.as_bytes(), 1_000),
            Err(ShapeError::TooManyValues { limit: 1_000 })
        );
        assert!(measure(body.as_bytes(), 2_000_000).is_ok());
    }

    #[test]
    fn not_json_is_said_so() {
        for bad in [&b"{"[..], b"[1,]", b"{} {}", b"", b"\xff"] {
            assert!(
                matches!(measure(bad, 100), Err(ShapeError::NotJson(_))),
                "{bad:?}"
            );
        }
    }
}
