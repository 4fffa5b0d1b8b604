//! Turning records into text, on the writer thread only: the human console line and the
//! JSON line for files. Also the last-line secret scrubber every backend applies.

use std::fmt::Write as _;

use crate::record::{Level, Record, Value};

/// `2026-11-24T03:26:47.123456Z` from Unix nanoseconds (UTC, proleptic Gregorian,
/// microseconds). The writer formats one timestamp per record, so this avoids the
/// `fmt` machinery and caches the date-and-time part of the last second seen.
pub fn write_timestamp(out: &mut String, ts_ns: i64) {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, [u8; 19])> =
            const { std::cell::RefCell::new((i64::MIN, [0; 19])) };
    }
    let secs = ts_ns.div_euclid(1_000_000_000);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1000;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            let days = secs.div_euclid(86_400);
            let sod = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let mut b = [0u8; 19];
            digits(&mut b[0..4], y.clamp(0, 9999) as u64);
            b[4] = b'-';
            digits(&mut b[5..7], m as u64);
            b[7] = b'-';
            digits(&mut b[8..10], d as u64);
            b[10] = b'T';
            digits(&mut b[11..13], (sod / 3600) as u64);
            b[13] = b':';
            digits(&mut b[14..16], ((sod / 60) % 60) as u64);
            b[16] = b':';
            digits(&mut b[17..19], (sod % 60) as u64);
            *last = (secs, b);
        }
        out.push_str(std::str::from_utf8(&last.1).unwrap_or("0000-00-00T00:00:00"));
    });
    let mut frac = [0u8; 8];
    frac[0] = b'.';
    digits(&mut frac[1..7], micros as u64);
    frac[7] = b'Z';
    out.push_str(std::str::from_utf8(&frac).unwrap_or(".000000Z"));
}

/// Writes `v` as zero-padded decimal filling `buf` exactly.
fn digits(buf: &mut [u8], mut v: u64) {
    for b in buf.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Howard Hinnant's days-to-civil algorithm (days since 1970-01-01).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn level_colour(level: Level) -> &'static str {
    match level {
        Level::Trace => "\x1b[90m",
        Level::Debug => "\x1b[36m",
        Level::Info => "\x1b[32m",
        Level::Warn => "\x1b[33m",
        Level::Error => "\x1b[31m",
        Level::Critical => "\x1b[1;41;97m",
    }
}

/// The console line: `<ts> <LEVEL> <target>: <message> key=value ...` (+ newline).
pub fn human_line(out: &mut String, rec: &Record, colour: bool) {
    write_timestamp(out, rec.ts_ns);
    out.push(' ');
    if colour {
        out.push_str(level_colour(rec.level));
    }
    let _ = write!(out, "{:<8}", rec.level.as_str());
    if colour {
        out.push_str("\x1b[0m");
    }
    out.push(' ');
    out.push_str(rec.target);
    out.push_str(": ");
    out.push_str(rec.message.as_str());
    for f in rec.fields() {
        out.push(' ');
        out.push_str(f.key);
        out.push('=');
        match &f.value {
            Value::Str(s) => human_str(out, s),
            Value::Inline(s) => human_str(out, s.as_str()),
            Value::Owned(s) => human_str(out, s),
            v => write_scalar(out, v),
        }
    }
    out.push('\n');
}

/// Strings print bare unless they need quoting to stay one unambiguous token.
fn human_str(out: &mut String, s: &str) {
    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '=') {
        out.push_str(s);
    } else {
        json_str(out, s);
    }
}

fn write_scalar(out: &mut String, v: &Value) {
    match v {
        Value::I64(x) => {
            let _ = write!(out, "{x}");
        }
        Value::U64(x) => {
            let _ = write!(out, "{x}");
        }
        Value::F64(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        // JSON has no NaN/inf: keep the information as a string rather than drop it.
        Value::F64(x) => json_str(out, &x.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Str(s) => json_str(out, s),
        Value::Inline(s) => json_str(out, s.as_str()),
        Value::Owned(s) => json_str(out, s),
    }
}

/// A JSON string literal with the escapes RFC 8259 requires.
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One JSON object per line:
/// `{"ts":"...","ts_ns":...,"level":"INFO","target":"...","msg":"...","fields":{...}}`.
pub fn json_line(out: &mut String, rec: &Record) {
    out.push_str("{\"ts\":\"");
    write_timestamp(out, rec.ts_ns);
    let _ = write!(out, "\",\"ts_ns\":{},\"level\":\"", rec.ts_ns);
    out.push_str(rec.level.as_str());
    out.push_str("\",\"target\":");
    json_str(out, rec.target);
    out.push_str(",\"msg\":");
    json_str(out, rec.message.as_str());
    out.push_str(",\"fields\":{");
    for (i, f) in rec.fields().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(out, f.key);
        out.push(':');
        write_scalar(out, &f.value);
    }
    out.push_str("}}\n");
}

/// Replaces every registered secret in `line` by `**********`. The config objects mask
/// themselves already; this is the last line of defence for a secret that reached a
/// message some other way (an f-string, an exception text).
pub fn scrub(line: &mut String, secrets: &[String]) {
    for s in secrets {
        if line.contains(s.as_str()) {
            *line = line.replace(s.as_str(), "**********");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, Text};

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        let mut s = String::new();
        write_timestamp(&mut s, 0);
        assert_eq!(s, "1970-01-01T00:00:00.000000Z");
        s.clear();
        // 2024-02-29T23:59:59.999999Z (leap day)
        write_timestamp(&mut s, 1_709_251_199_999_999_000);
        assert_eq!(s, "2024-02-29T23:59:59.999999Z");
    }

    #[test]
    fn json_line_is_valid_json_with_typed_fields() {
        let rec = Record::with_text(
            Level::Warn,
            "arb.test",
            Text::Owned("say \"hi\"\n".into()),
            [
                Field::new("i", -3i64),
                Field::new("u", 7u64),
                Field::new("f", 1.5f64),
                Field::new("nan", f64::NAN),
                Field::new("b", true),
                Field::new("s", Value::inline("a\tb")),
            ],
            1_000,
        );
        let mut s = String::new();
        json_line(&mut s, &rec);
        let v: serde_json::Value = serde_json::from_str(s.trim_end()).unwrap();
        assert_eq!(v["level"], "WARNING");
        assert_eq!(v["msg"], "say \"hi\"\n");
        assert_eq!(v["ts_ns"], 1000);
        assert_eq!(v["fields"]["i"], -3);
        assert_eq!(v["fields"]["u"], 7);
        assert_eq!(v["fields"]["f"], 1.5);
        assert_eq!(v["fields"]["nan"], "NaN");
        assert_eq!(v["fields"]["b"], true);
        assert_eq!(v["fields"]["s"], "a\tb");
    }

    #[test]
    fn human_line_quotes_only_when_needed_and_colours_on_request() {
        let rec = Record::with_text(
            Level::Info,
            "t",
            Text::Static("m"),
            [Field::new("a", "x y"), Field::new("b", "BTC_USDT")],
            0,
        );
        let mut plain = String::new();
        human_line(&mut plain, &rec, false);
        assert!(
            plain.ends_with("INFO     t: m a=\"x y\" b=BTC_USDT\n"),
            "{plain}"
        );
        assert!(!plain.contains('\x1b'));
        let mut coloured = String::new();
        human_line(&mut coloured, &rec, true);
        assert!(coloured.contains("\x1b[32m"));
    }

    #[test]
    fn scrub_masks_every_occurrence() {
        let mut s = "key=abc123secret and again abc123secret".to_string();
        scrub(&mut s, &["abc123secret".to_string()]);
        assert_eq!(s, "key=********** and again **********");
    }
}
