//! The fixed-size log record that producers copy into the ring: a timestamp, a level,
//! a static target and message, and a small inline array of typed key-value fields.
//!
//! Nothing here formats or allocates on the Rust hot path: a `Record` built by the
//! macros holds only integers, floats, `&'static str` and short inline strings, so
//! producing one is a handful of stores. Formatting happens on the writer thread.
//! Python records carry owned strings (`Text::Owned`, `Value::Owned`): the interpreter
//! already paid for an allocation when it built the string, so one more is fine there.

use std::fmt;

/// How many key-value fields one record carries. More is a compile error in the macros
/// (`Record::new` asserts it at compile time), never a silent truncation.
pub const MAX_FIELDS: usize = 6;

/// Bytes an inline string field holds before it is truncated (with a visible `…`).
pub const INLINE_CAP: usize = 22;

/// Severity, ordered. Python's numeric levels map onto it with [`Level::from_python`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Critical,
    ];

    /// Upper-case name as printed (`WARNING` matches Python's spelling).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    pub const fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Trace,
            1 => Level::Debug,
            2 => Level::Info,
            3 => Level::Warn,
            4 => Level::Error,
            _ => Level::Critical,
        }
    }

    /// Python `logging` numeric level (DEBUG=10 ... CRITICAL=50) to ours; anything below
    /// DEBUG is TRACE, custom levels fall into the band they sit in.
    pub const fn from_python(levelno: i64) -> Level {
        if levelno < 10 {
            Level::Trace
        } else if levelno < 20 {
            Level::Debug
        } else if levelno < 30 {
            Level::Info
        } else if levelno < 40 {
            Level::Warn
        } else if levelno < 50 {
            Level::Error
        } else {
            Level::Critical
        }
    }

    /// Parses `DEBUG`, `info`, `WARN`, `warning`, ... (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "TRACE" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" | "WARNING" => Level::Warn,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" => Level::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short string stored inline (no allocation). Longer input is cut at a character
/// boundary and ends in `…` so the cut is visible, never silent.
#[derive(Clone, Copy)]
pub struct InlineStr {
    len: u8,
    buf: [u8; INLINE_CAP],
}

impl InlineStr {
    pub fn new(s: &str) -> InlineStr {
        let mut out = InlineStr {
            len: 0,
            buf: [0; INLINE_CAP],
        };
        if s.len() <= INLINE_CAP {
            out.buf[..s.len()].copy_from_slice(s.as_bytes());
            out.len = s.len() as u8;
        } else {
            const ELLIPSIS: &str = "…";
            let mut cut = INLINE_CAP - ELLIPSIS.len();
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            out.buf[..cut].copy_from_slice(&s.as_bytes()[..cut]);
            out.buf[cut..cut + ELLIPSIS.len()].copy_from_slice(ELLIPSIS.as_bytes());
            out.len = (cut + ELLIPSIS.len()) as u8;
        }
        out
    }

    pub fn as_str(&self) -> &str {
        // Built only from whole UTF-8 characters in `new`.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Debug for InlineStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A typed field value.
#[derive(Clone, Debug)]
pub enum Value {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'static str),
    Inline(InlineStr),
    /// Owned text (Python fields); costs an allocation, so not for the Rust hot path.
    Owned(Box<str>),
}

impl Value {
    /// A dynamic short string copied inline (truncated visibly past [`INLINE_CAP`] bytes).
    pub fn inline(s: &str) -> Value {
        Value::Inline(InlineStr::new(s))
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            #[inline(always)]
            fn from(v: $t) -> Value {
                Value::$variant(v as $as)
            }
        })*
    };
}

value_from!(
    i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64, i64 => I64 as i64,
    isize => I64 as i64, u8 => U64 as u64, u16 => U64 as u64, u32 => U64 as u64,
    u64 => U64 as u64, usize => U64 as u64, f32 => F64 as f64, f64 => F64 as f64,
);

impl From<bool> for Value {
    #[inline(always)]
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<&'static str> for Value {
    #[inline(always)]
    fn from(v: &'static str) -> Value {
        Value::Str(v)
    }
}

impl From<InlineStr> for Value {
    #[inline(always)]
    fn from(v: InlineStr) -> Value {
        Value::Inline(v)
    }
}

impl From<arb_core::Venue> for Value {
    #[inline(always)]
    fn from(v: arb_core::Venue) -> Value {
        Value::Str(v.as_str())
    }
}

impl From<arb_core::ErrorClass> for Value {
    #[inline(always)]
    fn from(v: arb_core::ErrorClass) -> Value {
        Value::Str(v.as_str())
    }
}

impl From<std::time::Duration> for Value {
    /// Durations are logged as integer nanoseconds.
    #[inline(always)]
    fn from(v: std::time::Duration) -> Value {
        Value::U64(v.as_nanos().min(u64::MAX as u128) as u64)
    }
}

/// One key-value pair.
#[derive(Clone, Debug)]
pub struct Field {
    pub key: &'static str,
    pub value: Value,
}

impl Field {
    /// The filler for unused field slots (never printed: `Record::fields()` stops at `n_fields`).
    pub const EMPTY: Field = Field {
        key: "",
        value: Value::Bool(false),
    };

    #[inline(always)]
    pub fn new(key: &'static str, value: impl Into<Value>) -> Field {
        Field {
            key,
            value: value.into(),
        }
    }
}

/// The message: static for Rust call sites, owned for Python.
#[derive(Clone, Debug)]
pub enum Text {
    Static(&'static str),
    Owned(Box<str>),
}

impl Text {
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Owned(s) => s,
        }
    }
}

/// One log record as it sits in the ring.
#[derive(Clone, Debug)]
pub struct Record {
    /// Wall-clock nanoseconds since the Unix epoch, taken by the producer; raw CPU
    /// ticks while `ticks` is set (Rust call sites), until [`Record::resolve_time`].
    pub ts_ns: i64,
    pub level: Level,
    n_fields: u8,
    ticks: bool,
    pub target: &'static str,
    pub message: Text,
    fields: [Field; MAX_FIELDS],
}

impl Record {
    /// A record stamped now with up to [`MAX_FIELDS`] fields (more fails to compile).
    #[inline(always)]
    pub fn new<const N: usize>(
        level: Level,
        target: &'static str,
        message: &'static str,
        fields: [Field; N],
    ) -> Record {
        let (stamp, ticks) = crate::clock::stamp();
        let mut rec = Self::with_text(level, target, Text::Static(message), fields, stamp);
        rec.ticks = ticks;
        rec
    }

    /// A record stamped now with a dynamic message and no fields yet (Python's direct
    /// logger; fields can be added with [`Record::push_field`]).
    #[inline(always)]
    pub fn now_with_text(level: Level, target: &'static str, message: Text) -> Record {
        let (stamp, ticks) = crate::clock::stamp();
        let mut rec = Self::with_text(level, target, message, [], stamp);
        rec.ticks = ticks;
        rec
    }

    /// A record with an explicit message and timestamp (Python records, tests).
    #[inline(always)]
    pub fn with_text<const N: usize>(
        level: Level,
        target: &'static str,
        message: Text,
        fields: [Field; N],
        ts_ns: i64,
    ) -> Record {
        const { assert!(N <= MAX_FIELDS, "too many fields in one log record") };
        let mut all = [Field::EMPTY; MAX_FIELDS];
        for (slot, f) in all.iter_mut().zip(fields) {
            *slot = f;
        }
        Record {
            ts_ns,
            level,
            n_fields: N as u8,
            ticks: false,
            target,
            message,
            fields: all,
        }
    }

    /// Appends a field; returns `false` (and keeps the record unchanged) once full.
    pub fn push_field(&mut self, field: Field) -> bool {
        let n = self.n_fields as usize;
        if n >= MAX_FIELDS {
            return false;
        }
        self.fields[n] = field;
        self.n_fields += 1;
        true
    }

    pub fn fields(&self) -> &[Field] {
        &self.fields[..self.n_fields as usize]
    }

    /// True while the timestamp is in CPU ticks (see [`crate::clock`]).
    pub fn time_is_ticks(&self) -> bool {
        self.ticks
    }

    /// Turns a tick timestamp into Unix nanoseconds (the writer does this per batch).
    pub fn resolve_time(&mut self, conv: &crate::clock::Converter) {
        if self.ticks {
            self.ts_ns = conv.to_ns(self.ts_ns);
            self.ticks = false;
        }
    }
}

/// Wall-clock nanoseconds since the Unix epoch. `SystemTime::now` is a vDSO
/// `clock_gettime(CLOCK_REALTIME)` on Linux: no system call when the clock source is
/// the TSC, which is what makes it affordable on every log call.
#[inline(always)]
pub fn now_ns() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_str_truncates_visibly_on_a_char_boundary() {
        assert_eq!(InlineStr::new("BTC_USDT").as_str(), "BTC_USDT");
        let long = "ééééééééééééééééé"; // 34 bytes
        let s = InlineStr::new(long);
        assert!(s.as_str().ends_with('…'), "{}", s.as_str());
        assert!(s.as_str().len() <= INLINE_CAP);
        assert!(long.starts_with(s.as_str().trim_end_matches('…')));
    }

    #[test]
    fn python_levels_map_into_bands() {
        assert_eq!(Level::from_python(5), Level::Trace);
        assert_eq!(Level::from_python(10), Level::Debug);
        assert_eq!(Level::from_python(25), Level::Info);
        assert_eq!(Level::from_python(30), Level::Warn);
        assert_eq!(Level::from_python(40), Level::Error);
        assert_eq!(Level::from_python(50), Level::Critical);
        assert_eq!(Level::parse("warning"), Some(Level::Warn));
        assert_eq!(Level::parse("loud"), None);
    }

    #[test]
    fn record_keeps_exactly_the_fields_given() {
        let mut r = Record::new(
            Level::Info,
            "t",
            "m",
            [Field::new("a", 1i64), Field::new("b", "x")],
        );
        assert_eq!(r.fields().len(), 2);
        for i in 0..4 {
            assert!(r.push_field(Field::new("c", i as u64)));
        }
        assert!(!r.push_field(Field::new("d", 0u64)));
        assert_eq!(r.fields().len(), MAX_FIELDS);
    }
}
