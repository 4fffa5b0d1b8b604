//! A small zero-allocation JSON scanner for the one hot JSON message: Gate's book push.
//!
//! serde_json into borrowed structs still allocates the level vectors and walks the
//! `result` twice (it must be kept raw until the channel is known); this scanner walks
//! the frame once, borrows every string, and hands the level arrays over as raw spans
//! that are parsed straight into a `Diff`. It accepts standard JSON; strings the hot
//! path must read (keys, prices, quantities, the pair) may not contain escapes: such a
//! frame is reported as an error and the caller falls back to serde_json, so nothing is
//! lost, it is only slower.
//!
//! Nesting is bounded ([`MAX_DEPTH`]): the scanner recurses once per array or object, so
//! an unbounded frame (`[[[[...` 50,000 deep) would overflow the stack and kill the
//! process (a SIGSEGV, not a panic). Deeper input is the error [`TOO_DEEP`].

pub(crate) type ScanResult<T> = Result<T, &'static str>;

/// The deepest nesting of arrays and objects the scanner walks. A Gate book push is 4
/// deep; serde_json (the fallback) stops at 128.
pub(crate) const MAX_DEPTH: u32 = 64;

/// The error for input nested deeper than [`MAX_DEPTH`].
pub(crate) const TOO_DEEP: &str = "nested too deep";

pub(crate) struct Scan<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Self {
            s,
            b: s.as_bytes(),
            i: 0,
            depth: 0,
        }
    }

    /// The byte offset reached (where an error was found).
    pub(crate) fn offset(&self) -> usize {
        self.i
    }

    /// Enters one array or object level; [`TOO_DEEP`] past [`MAX_DEPTH`].
    fn enter(&mut self) -> ScanResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(TOO_DEEP);
        }
        self.depth += 1;
        Ok(())
    }

    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> ScanResult<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err("unexpected character")
        }
    }

    /// A string without escapes, borrowed.
    #[inline]
    pub(crate) fn plain_str(&mut self) -> ScanResult<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'"' => {
                    let out = &self.s[start..self.i];
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => return Err("escaped string where a plain one is needed"),
                _ => self.i += 1,
            }
        }
        Err("unterminated string")
    }

    fn skip_str(&mut self) -> ScanResult<()> {
        self.eat(b'"')?;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => self.i = (self.i + 2).min(self.b.len()),
                _ => self.i += 1,
            }
        }
        Err("unterminated string")
    }

    fn skip_literal(&mut self, lit: &[u8]) -> ScanResult<()> {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err("bad literal")
        }
    }

    fn number_span(&mut self) -> ScanResult<&'a str> {
        self.peek();
        let start = self.i;
        while let Some(&c) = self.b.get(self.i) {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        if self.i == start {
            return Err("expected a number");
        }
        Ok(&self.s[start..self.i])
    }

    /// Skips any value (nesting at most [`MAX_DEPTH`] deep).
    pub(crate) fn skip_value(&mut self) -> ScanResult<()> {
        match self.peek().ok_or("unexpected end")? {
            b'"' => self.skip_str(),
            b'{' => self.object(|sc, _| sc.skip_value()),
            b'[' => self.array(|sc| sc.skip_value()),
            b't' => self.skip_literal(b"true"),
            b'f' => self.skip_literal(b"false"),
            b'n' => self.skip_literal(b"null"),
            _ => self.number_span().map(|_| ()),
        }
    }

    /// The raw text of the next value.
    pub(crate) fn span(&mut self) -> ScanResult<&'a str> {
        self.peek();
        let start = self.i;
        self.skip_value()?;
        Ok(&self.s[start..self.i])
    }

    /// Calls `f(scan, key)` for each member; `f` must consume the value.
    pub(crate) fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, &'a str) -> ScanResult<()>,
    ) -> ScanResult<()> {
        self.eat(b'{')?;
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let key = self.plain_str()?;
            self.eat(b':')?;
            f(self, key)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected , or }"),
            }
        }
    }

    /// Calls `f(scan)` for each element; `f` must consume it.
    pub(crate) fn array(
        &mut self,
        mut f: impl FnMut(&mut Self) -> ScanResult<()>,
    ) -> ScanResult<()> {
        self.eat(b'[')?;
        self.enter()?;
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            f(self)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected , or ]"),
            }
        }
    }

    /// A non-negative integer written as a number or a string of digits.
    pub(crate) fn u64_value(&mut self) -> ScanResult<u64> {
        let t = if self.peek() == Some(b'"') {
            self.plain_str()?
        } else {
            self.number_span()?
        };
        t.parse().map_err(|_| "expected an unsigned integer")
    }

    /// An integer (number or string); `None` for anything else (e.g. a fractional string).
    pub(crate) fn i64_value(&mut self) -> ScanResult<Option<i64>> {
        let t = match self.peek() {
            Some(b'"') => self.plain_str()?,
            Some(b'-' | b'0'..=b'9') => self.number_span()?,
            _ => {
                self.skip_value()?;
                return Ok(None);
            }
        };
        Ok(t.parse().ok())
    }

    pub(crate) fn bool_value(&mut self) -> ScanResult<bool> {
        match self.peek() {
            Some(b't') => self.skip_literal(b"true").map(|_| true),
            Some(b'f') => self.skip_literal(b"false").map(|_| false),
            _ => Err("expected a boolean"),
        }
    }

    /// True if only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_nested_values() {
        let mut keys = Vec::new();
        let mut sc =
            Scan::new(r#" {"a": [1, -2.5e3, "x\"y", {"b": null}], "c": true, "d": {}, "e": []} "#);
        sc.object(|sc, k| {
            keys.push(k);
            sc.skip_value()
        })
        .unwrap();
        assert!(sc.at_end());
        assert_eq!(keys, ["a", "c", "d", "e"]);
        let mut sc =
            Scan::new(r#"{"u": "123", "U": 45, "s": "ob.X.50", "full": true, "t": "1.5"}"#);
        let mut got = (0, 0, "", false, Some(0));
        sc.object(|sc, k| {
            match k {
                "u" => got.0 = sc.u64_value()?,
                "U" => got.1 = sc.u64_value()?,
                "s" => got.2 = sc.plain_str()?,
                "full" => got.3 = sc.bool_value()?,
                "t" => got.4 = sc.i64_value()?,
                _ => sc.skip_value()?,
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(got, (123, 45, "ob.X.50", true, None));
    }

    #[test]
    fn rejects_broken_input() {
        for bad in [
            r#"{"a" 1}"#,
            r#"{"a": [1, 2}"#,
            r#"{"a": "x"#,
            r#"{"a": tru}"#,
            r#"{"a\"": 1}"#,
            "[",
        ] {
            let mut sc = Scan::new(bad);
            assert!(sc.object(|sc, _| sc.skip_value()).is_err(), "{bad}");
        }
    }

    /// 50,000 levels used to recurse 50,000 times and overflow the stack (SIGSEGV).
    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
            let deep = format!("{}1{}", open.repeat(50_000), close.repeat(50_000));
            let mut sc = Scan::new(&deep);
            assert_eq!(sc.skip_value(), Err(TOO_DEEP));
            assert!(sc.offset() < 64 * open.len() + 8, "stopped early");
        }
        // Exactly MAX_DEPTH levels are walked; one more is refused.
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert_eq!(Scan::new(&ok).skip_value(), Ok(()));
        let over = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(Scan::new(&over).skip_value(), Err(TOO_DEEP));
    }
}
