//! Avro's logical types read from JSON text: decimals, dates, timestamps.

use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, Schema};
use serde_json::Value;

use super::binary::{code_points, write_bytes};
use super::{expected, Mismatch, Writer};

impl Writer<'_> {
    pub(super) fn write_decimal(
        &self,
        decimal: &DecimalSchema,
        data: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), Mismatch> {
        let what = || expected(format!("decimal({}, {})", decimal.precision, decimal.scale));
        let unscaled = match data {
            // A JSON number, when it is exact: an integer, or a float of at most 15 significant
            // digits (what a double keeps).
            Value::Number(n) => {
                let text = n.to_string();
                let significant = text.bytes().filter(u8::is_ascii_digit).count();
                if n.is_f64() && (significant > 15 || text.contains(['e', 'E'])) {
                    return Err(Mismatch::new(format!(
                        "a decimal number of more than 15 significant digits loses some: give decimal({}, {}) as Avro's byte string",
                        decimal.precision, decimal.scale
                    )));
                }
                unscaled(&text, decimal.scale).ok_or_else(what)?
            }
            // Avro's JSON encoding: the two's-complement bytes as code points.
            Value::String(_) => {
                let bytes = code_points(data).ok_or_else(what)?;
                return self.write_raw_decimal(decimal, &bytes, out);
            }
            _ => return Err(what()),
        };
        if digits(unscaled) > decimal.precision {
            return Err(Mismatch::new(format!(
                "more than {} digits (decimal({}, {}))",
                decimal.precision, decimal.precision, decimal.scale
            )));
        }
        let full = unscaled.to_be_bytes();
        // The shortest two's-complement form.
        let mut start = 0;
        while start < 15 {
            let (b, next) = (full[start], full[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        self.write_raw_decimal(decimal, &full[start..], out)
    }

    fn write_raw_decimal(
        &self,
        decimal: &DecimalSchema,
        bytes: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Mismatch> {
        match &decimal.inner {
            InnerDecimalSchema::Bytes => {
                write_bytes(bytes, out);
                Ok(())
            }
            InnerDecimalSchema::Fixed(fixed) => {
                if bytes.len() > fixed.size {
                    return Err(expected(format!(
                        "a decimal that fits {} bytes",
                        fixed.size
                    )));
                }
                let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                    0xff
                } else {
                    0
                };
                out.extend(std::iter::repeat_n(fill, fixed.size - bytes.len()));
                out.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

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
