//! Avro's logical types read from JSON text: decimals, dates, timestamps.

use apache_avro::schema::Schema;

/// A decimal text (`-12.34`) as its unscaled integer at `scale` (`-1234` at scale 2); `None` if
/// it is not a plain decimal or has more fraction digits than the scale.
pub(super) fn unscaled(text: &str, scale: usize) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || fraction.len() > scale
    {
        return None;
    }
    let mut n: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        n = n.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    n = n.checked_mul(10i128.checked_pow((scale - fraction.len()) as u32)?)?;
    Some(if negative { -n } else { n })
}

pub(super) fn digits(n: i128) -> usize {
    n.unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1)
}

pub(super) fn date_days(text: &str) -> Option<i32> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let epoch = time::Date::from_calendar_date(1970, time::Month::January, 1).ok()?;
    Some(date.to_julian_day() - epoch.to_julian_day())
}

pub(super) fn timestamp(schema: &Schema, text: &str) -> Option<i64> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let nanos = at.unix_timestamp_nanos();
    let n = match schema {
        Schema::TimestampMillis | Schema::LocalTimestampMillis => nanos.div_euclid(1_000_000),
        Schema::TimestampMicros | Schema::LocalTimestampMicros => nanos.div_euclid(1_000),
        _ => nanos,
    };
    i64::try_from(n).ok()
}
