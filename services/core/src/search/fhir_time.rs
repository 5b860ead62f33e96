//! FHIR R4 date search semantics.
//!
//! FHIR never treats a `date`, `dateTime` or `instant` as a point: "2026-03-29"
//! means the whole day, "2026" the whole year. Date search (`date=ge2026-01-01`)
//! is defined by comparing such *ranges*, so every value is turned into a
//! half-open interval of microseconds since the Unix epoch. Half-open intervals
//! make consecutive periods tile the timeline exactly (the end of one day is the
//! start of the next), which is what the `eq`/`sa`/`eb` boundary rules need.
//!
//! Calendar arithmetic (days since the epoch) is done here on plain integers so
//! that every four-digit year, including the end of 9999, is representable;
//! `jiff` is used only for what needs the time-zone database: the UTC offset of
//! a local wall-clock time.

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

use crate::base::error::ApiError;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Days from 0001-01-01 to 1970-01-01 in the proleptic Gregorian calendar.
const DAYS_0001_TO_1970: i64 = 719_162;
/// Longest value shown verbatim in an error; longer input is cut so that a
/// hostile 10 kB query parameter does not end up in logs and responses whole.
const SHOWN_CHARS: usize = 40;
const EXPECTED: &str = "expected YYYY, YYYY-MM, YYYY-MM-DD or \
                        YYYY-MM-DDThh:mm[:ss[.fffffffff]][Z|(+|-)hh:mm]";

/// Half-open interval [lo, hi) in microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub lo: i64,
    pub hi: i64,
}

/// A value that is not a FHIR date/dateTime/instant (or a search prefix we do
/// not support). The message quotes the value so that an OperationOutcome
/// built from it tells the client exactly which parameter was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DateError(pub String);

impl DateError {
    fn invalid(value: &str, reason: &str) -> Self {
        DateError(format!(
            "invalid FHIR date {}: {reason}; {EXPECTED}",
            shown(value)
        ))
    }
}

/// A date a client sent that does not parse is the client's error: 400.
impl From<DateError> for ApiError {
    fn from(e: DateError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

/// Quotes a value for an error message, cut to a bounded length.
fn shown(value: &str) -> String {
    if value.chars().count() > SHOWN_CHARS {
        let head: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{head:?}… ({} bytes)", value.len())
    } else {
        format!("{value:?}")
    }
}

/// Parses a FHIR date, dateTime or instant (and the search form YYYY-MM-DDThh:mm that
/// search allows) into the range it denotes. Values without a time-zone offset are read
/// in `tz` (the server's / unit's zone, Europe/Helsinki by default).
///
/// The width follows the precision written: a year, month or day spans from
/// local midnight at its start to local midnight at the start of the next one
/// in `tz` (so a DST-change day is 23 or 25 hours long); a value with a time is
/// 60 s wide at minute precision, 1 s at second precision, and 10^-n s for n
/// fractional digits, but never narrower than 1 µs (digits beyond the sixth are
/// truncated). Time-of-day widths are absolute durations, not wall-clock ones.
///
/// A time with `Z` or `±hh:mm` is anchored by that offset and `tz` is ignored.
/// Date-only values always use `tz`: FHIR gives them no offset. A local time
/// that `tz` skips (a DST gap) or repeats (a fold) is resolved with the offset
/// in force *before* the transition. This is jiff's and RFC 5545's
/// "compatible" choice: a time in the gap shifts forward by the gap's length
/// (03:30 on the Helsinki spring-forward day is 04:30 +03:00), and a repeated
/// time takes its earlier occurrence, so that a search for "from 03:30" never
/// silently skips the first pass through that hour.
///
/// Validation is strict (R4 lexical rules: exact digit counts, real calendar
/// dates, hour 00-23, minute and second 00-59 with no leap second, offset at
/// most ±14:00) with two search-only relaxations: the offset may be missing
/// and the seconds may be left out.
pub fn parse_range(value: &str, tz: &TimeZone) -> Result<Range, DateError> {
    let parsed = parse(value).map_err(|reason| DateError::invalid(value, reason))?;
    Ok(parsed.range(tz))
}

/// A Period (start and/or end, each optional) as one range: missing start = i64::MIN,
/// missing end = i64::MAX; the end bound is the *end* of the end value's range.
///
/// An end of "2026-03-31" therefore includes the whole last day, as a person
/// reading the Period would expect. A period whose end range finishes at or
/// before its start range begins contains no instant at all, which violates
/// the R4 invariant per-1 (start <= end), so it is an error rather than an
/// empty range that would silently never match.
pub fn period_range(
    start: Option<&str>,
    end: Option<&str>,
    tz: &TimeZone,
) -> Result<Range, DateError> {
    let lo = match start {
        Some(s) => parse_range(s, tz)?.lo,
        None => i64::MIN,
    };
    let hi = match end {
        Some(e) => parse_range(e, tz)?.hi,
        None => i64::MAX,
    };
    if hi <= lo {
        return Err(DateError(format!(
            "invalid FHIR Period: end {} is before start {}",
            shown(end.unwrap_or_default()),
            shown(start.unwrap_or_default()),
        )));
    }
    Ok(Range { lo, hi })
}

pub use ohjaamo_store::format_instant;

/// Microseconds since the epoch for the current time.
///
/// The same unit as [`Range`], so a freshly stamped `meta.lastUpdated` can be
/// stored and compared without conversion.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Search prefixes of R4 date search.
///
/// `ap` (approximately) is deliberately absent: R4 leaves its width to the
/// server, and guessing one would give results clients cannot predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
}

impl Prefix {
    /// Splits a leading two-letter prefix off a search value ("ge2026-01-01" -> (Ge, "2026-01-01")); no prefix means Eq. "ap" gives an Err(DateError) saying it is not supported.
    ///
    /// A date always starts with a digit, so two leading letters can only be a
    /// prefix; unknown ones are rejected rather than passed on as part of the
    /// date, which would produce a less helpful "invalid date" message.
    pub fn split(value: &str) -> Result<(Prefix, &str), DateError> {
        let Some((head, rest)) = value.split_at_checked(2) else {
            return Ok((Prefix::Eq, value));
        };
        if !head.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Ok((Prefix::Eq, value));
        }
        let prefix = match head {
            "eq" => Prefix::Eq,
            "ne" => Prefix::Ne,
            "gt" => Prefix::Gt,
            "lt" => Prefix::Lt,
            "ge" => Prefix::Ge,
            "le" => Prefix::Le,
            "sa" => Prefix::Sa,
            "eb" => Prefix::Eb,
            "ap" => {
                return Err(DateError(format!(
                    "search prefix \"ap\" in {} is not supported for dates; \
                     use ge and le for a window",
                    shown(value)
                )));
            }
            _ => {
                return Err(DateError(format!(
                    "unknown search prefix {head:?} in {}; expected one of \
                     eq, ne, gt, lt, ge, le, sa, eb",
                    shown(value)
                )));
            }
        };
        Ok((prefix, rest))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
        }
    }

    /// Does a target range match a search range under this prefix? (the R4 definitions:
    /// eq: search range fully contains target; ne: not eq; gt: the range above the search value
    /// intersects the target (target.hi > search.hi); lt: the range below intersects (target.lo < search.lo);
    /// ge: gt or eq; le: lt or eq; sa: target.lo >= search.hi; eb: target.hi <= search.lo).
    ///
    /// Because ranges are half-open, "above the search value" starts at
    /// `search.hi` and "below" ends at `search.lo`: a Slot starting exactly at
    /// midnight lies inside that day and after the previous one.
    pub fn matches(self, search: Range, target: Range) -> bool {
        let eq = search.lo <= target.lo && target.hi <= search.hi;
        let gt = target.hi > search.hi;
        let lt = target.lo < search.lo;
        match self {
            Prefix::Eq => eq,
            Prefix::Ne => !eq,
            Prefix::Gt => gt,
            Prefix::Lt => lt,
            Prefix::Ge => gt || eq,
            Prefix::Le => lt || eq,
            Prefix::Sa => target.lo >= search.hi,
            Prefix::Eb => target.hi <= search.lo,
        }
    }
}

/// A lexically valid value, fields already range-checked.
#[derive(Debug, PartialEq)]
enum Parsed {
    Year(i64),
    Month(i64, u32),
    Day(i64, u32, u32),
    Time {
        date: (i64, u32, u32),
        /// Seconds since local midnight.
        seconds: i64,
        /// Sub-second part, already truncated to microseconds.
        micros: i64,
        /// Width of the range in microseconds, from the precision written.
        width: i64,
        /// Explicit offset in seconds east of UTC, if the value had one.
        offset: Option<i64>,
    },
}

impl Parsed {
    fn range(&self, tz: &TimeZone) -> Range {
        match *self {
            Parsed::Year(y) => Range {
                lo: local_midnight(tz, y, 1, 1),
                hi: local_midnight(tz, y + 1, 1, 1),
            },
            Parsed::Month(y, m) => {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Range {
                    lo: local_midnight(tz, y, m, 1),
                    hi: local_midnight(tz, ny, nm, 1),
                }
            }
            Parsed::Day(y, m, d) => {
                let (ny, nm, nd) = civil_from_days(days_from_civil(y, m, d) + 1);
                Range {
                    lo: local_midnight(tz, y, m, d),
                    hi: local_midnight(tz, ny, nm, nd),
                }
            }
            Parsed::Time {
                date: (y, m, d),
                seconds,
                micros,
                width,
                offset,
            } => {
                let local = days_from_civil(y, m, d) * MICROS_PER_DAY
                    + seconds * MICROS_PER_SECOND
                    + micros;
                let offset = offset.unwrap_or_else(|| zone_offset(tz, y, m, d, seconds, micros));
                let lo = local - offset * MICROS_PER_SECOND;
                Range { lo, hi: lo + width }
            }
        }
    }
}

/// UTC instant of local midnight starting the given date in `tz`.
fn local_midnight(tz: &TimeZone, y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) * MICROS_PER_DAY - zone_offset(tz, y, m, d, 0, 0) * MICROS_PER_SECOND
}

/// Offset (seconds east of UTC) that `tz` applies to a local wall-clock time,
/// taking the pre-transition offset in gaps and folds (see [`parse_range`]).
///
/// jiff cannot represent 10000-01-01, the end of the year 9999; the offset of
/// the last representable moment is used for it, since no zone changes offset
/// at that exact instant in any real database.
fn zone_offset(tz: &TimeZone, y: i64, m: u32, d: u32, seconds: i64, micros: i64) -> i64 {
    let dt = civil_datetime(y, m, d, seconds, micros).unwrap_or(DateTime::MAX);
    let offset = match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
    };
    i64::from(offset.seconds())
}

fn civil_datetime(y: i64, m: u32, d: u32, seconds: i64, micros: i64) -> Option<DateTime> {
    DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(seconds / 3600).ok()?,
        i8::try_from(seconds / 60 % 60).ok()?,
        i8::try_from(seconds % 60).ok()?,
        i32::try_from(micros * 1000).ok()?,
    )
    .ok()
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (proleptic Gregorian, year >= 1).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let p = y - 1; // whole years before this one
    let before_year = 365 * p + p / 4 - p / 100 + p / 400;
    let before_month: i64 = (1..m).map(|mm| i64::from(days_in_month(y, mm))).sum();
    before_year + before_month + i64::from(d) - 1 - DAYS_0001_TO_1970
}

/// Inverse of [`days_from_civil`] for dates on or after 0001-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Peel off 400-, 100-, 4- and 1-year blocks counted from 0001-01-01. The
    // last block of each kind is one day longer (leap day), hence the `min`s:
    // day 365 of a 4-year block is Dec 31 of its leap year, not a fifth year.
    let n = (days + DAYS_0001_TO_1970).max(0);
    let (q400, r) = (n / 146_097, n % 146_097);
    let q100 = (r / 36_524).min(3);
    let r = r - q100 * 36_524;
    let (q4, r) = (r / 1_461, r % 1_461);
    let q1 = (r / 365).min(3);
    let mut doy = r - q1 * 365;
    let year = q400 * 400 + q100 * 100 + q4 * 4 + q1 + 1;
    let mut month = 1;
    while month < 12 && doy >= i64::from(days_in_month(year, month)) {
        doy -= i64::from(days_in_month(year, month));
        month += 1;
    }
    // doy < 31 here, so the cast cannot truncate.
    (year, month, doy as u32 + 1)
}

/// Byte cursor over the value; non-ASCII input simply fails to match.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.bytes.get(self.pos) == Some(&byte);
        self.pos += usize::from(hit);
        hit
    }

    /// Exactly `n` ASCII digits as a number (n <= 9, so no overflow).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let run = self.bytes.get(self.pos..self.pos + n)?;
        if !run.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += n;
        Some(run.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    }

    /// Two digits checked against an inclusive maximum.
    fn two(&mut self, max: u32, reason: &'static str) -> Result<u32, &'static str> {
        self.digits(2).filter(|&v| v <= max).ok_or(reason)
    }
}

fn parse(value: &str) -> Result<Parsed, &'static str> {
    let mut c = Cursor {
        bytes: value.as_bytes(),
        pos: 0,
    };
    let year = i64::from(c.digits(4).ok_or("the year must be four digits")?);
    if year == 0 {
        return Err("year 0000 is not allowed");
    }
    if c.done() {
        return Ok(Parsed::Year(year));
    }
    if !c.eat(b'-') {
        return Err("expected '-' after the year");
    }
    let month = c.two(12, "the month must be two digits 01-12")?;
    if month == 0 {
        return Err("the month must be two digits 01-12");
    }
    if c.done() {
        return Ok(Parsed::Month(year, month));
    }
    if !c.eat(b'-') {
        return Err("expected '-' after the month");
    }
    let day = c.two(31, "the day must be two digits")?;
    if day == 0 || day > days_in_month(year, month) {
        return Err("that day does not exist in that month");
    }
    if c.done() {
        return Ok(Parsed::Day(year, month, day));
    }
    if !c.eat(b'T') {
        return Err("expected 'T' before the time");
    }
    let hour = c.two(23, "the hour must be two digits 00-23")?;
    if !c.eat(b':') {
        return Err("expected ':' after the hour");
    }
    let minute = c.two(59, "the minute must be two digits 00-59")?;
    let (mut second, mut micros, mut width) = (0, 0, 60 * MICROS_PER_SECOND);
    if c.eat(b':') {
        second = c.two(59, "the second must be two digits 00-59")?;
        width = MICROS_PER_SECOND;
        if c.eat(b'.') {
            let start = c.pos;
            while c.bytes.get(c.pos).is_some_and(u8::is_ascii_digit) && c.pos - start < 10 {
                c.pos += 1;
            }
            let frac = c.bytes.get(start..c.pos).unwrap_or_default();
            if frac.is_empty() || frac.len() > 9 {
                return Err("a fraction of a second must have 1-9 digits");
            }
            // Each digit is worth a tenth of the previous one; digits past the
            // sixth are below our resolution and dropped (truncation).
            for &digit in frac.iter().take(6) {
                width /= 10;
                micros += i64::from(digit - b'0') * width;
            }
        }
    }
    let sign = match c.bytes.get(c.pos) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => 0,
    };
    let offset = if c.eat(b'Z') {
        Some(0)
    } else if sign != 0 {
        c.pos += 1;
        let hh = c.two(14, "the offset must be (+|-)hh:mm within 14:00")?;
        if !c.eat(b':') {
            return Err("the offset must be (+|-)hh:mm within 14:00");
        }
        let mm = c.two(59, "the offset must be (+|-)hh:mm within 14:00")?;
        if hh == 14 && mm != 0 {
            return Err("the offset must be (+|-)hh:mm within 14:00");
        }
        Some(sign * i64::from(hh * 3600 + mm * 60))
    } else {
        None
    };
    if !c.done() {
        return Err("unexpected characters after the value");
    }
    Ok(Parsed::Time {
        date: (year, month, day),
        seconds: i64::from(hour * 3600 + minute * 60 + second),
        micros,
        width,
        offset,
    })
}

#[cfg(test)]
mod tests;
