//! The HTTP/1.1 wire format of the order connections, without I/O: a request encoded
//! into a reused buffer, an answer parsed from the bytes read so far (`Content-Length`,
//! chunked, or delimited by the close).

use std::io::Write as _;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::Answer;
use crate::venue_api::HttpRequest;

/// The request as bytes: the head (request line, `Host`, the venue's headers,
/// `Content-Length`) and the body, into `out` (cleared, capacity kept).
pub(super) fn encode(out: &mut Vec<u8>, host: &str, req: &HttpRequest) -> Result<(), String> {
    let clean = |s: &str| s.bytes().all(|b| (0x21..0x7f).contains(&b));
    if !clean(&req.target) {
        // Not the target itself: a MEXC target carries the signature.
        return Err("request target is not plain ASCII".into());
    }
    out.clear();
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in &req.headers {
        if v.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(format!("header {k} holds a line break"));
        }
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let body = req.body.as_deref().unwrap_or("");
    if !body.is_empty() || !matches!(req.method.as_str(), "GET" | "HEAD") {
        // Written into the reused buffer: no string for the number.
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    Ok(())
}

/// How the body of an answer is delimited.
enum Framing {
    Length(usize),
    Chunked,
    /// Until the connection closes (no length, no chunking).
    Close,
}

struct Head {
    status: u16,
    headers: HeaderMap,
    len: usize,
    framing: Framing,
    keep_alive: bool,
}

fn head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hs);
    let len = match r.parse(buf).map_err(|e| format!("answer head: {e}"))? {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) => n,
    };
    let status = r.code.unwrap_or(0);
    let mut headers = HeaderMap::with_capacity(r.headers.len());
    let mut framing = Framing::Close;
    let mut keep_alive = r.version == Some(1);
    for h in r.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) else {
            return Err(format!("answer header {:?} is malformed", h.name));
        };
        if name == reqwest::header::CONTENT_LENGTH && !matches!(framing, Framing::Chunked) {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("answer Content-Length {:?}", value))?;
            framing = Framing::Length(n);
        } else if name == reqwest::header::TRANSFER_ENCODING {
            if h.value.eq_ignore_ascii_case(b"chunked") {
                framing = Framing::Chunked;
            } else {
                return Err(format!(
                    "answer Transfer-Encoding {value:?} is not supported"
                ));
            }
        } else if name == reqwest::header::CONNECTION {
            if h.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if h.value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
        headers.append(name, value);
    }
    // A 1xx answer is followed by the real one; the venues send none to these requests.
    if (100..200).contains(&status) {
        return Err(format!("answer status {status} is not supported"));
    }
    if matches!(framing, Framing::Close) {
        keep_alive = false;
    }
    Ok(Some(Head {
        status,
        headers,
        len,
        framing,
        keep_alive,
    }))
}

/// A complete answer in `buf` (and whether the connection stays usable), or `None` if
/// more bytes are needed.
pub(super) fn parse(buf: &[u8]) -> Result<Option<(Answer, bool)>, String> {
    let Some(h) = head(buf)? else {
        return Ok(None);
    };
    let rest = &buf[h.len..];
    let (body, used) = match h.framing {
        Framing::Length(n) => {
            if rest.len() < n {
                return Ok(None);
            }
            (Bytes::copy_from_slice(&rest[..n]), n)
        }
        Framing::Chunked => match dechunk(rest)? {
            None => return Ok(None),
            Some((b, used)) => (Bytes::from(b), used),
        },
        Framing::Close => return Ok(None),
    };
    // Bytes beyond the answer were never asked for: the connection is out of step.
    let keep = h.keep_alive && used == rest.len();
    Ok(Some((
        Answer {
            status: h.status,
            headers: h.headers,
            body,
        },
        keep,
    )))
}

/// At EOF: an answer delimited by the close is complete; any other is cut short.
pub(super) fn parse_at_eof(buf: &[u8]) -> Result<Option<Answer>, String> {
    match head(buf)? {
        Some(h) if matches!(h.framing, Framing::Close) => Ok(Some(Answer {
            status: h.status,
            headers: h.headers,
            body: Bytes::copy_from_slice(&buf[h.len..]),
        })),
        Some(_) => Ok(parse(buf)?.map(|(a, _)| a)),
        None => Ok(None),
    }
}

/// A chunked body: the decoded bytes and how many input bytes it took, or `None` if it
/// is not complete yet.
fn dechunk(mut buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let total = buf.len();
    let mut out = Vec::new();
    loop {
        let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[..eol]).map_err(|_| "chunk size line".to_string())?;
        let size_txt = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size_txt, 16).map_err(|_| format!("chunk size {size_txt:?}"))?;
        buf = &buf[eol + 2..];
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                buf = &buf[eol + 2..];
                if eol == 0 {
                    return Ok(Some((out, total - buf.len())));
                }
            }
        }
        if buf.len() < size + 2 {
            return Ok(None);
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        out.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::req;
    use super::*;
    use reqwest::Method;

    #[test]
    fn encodes_head_and_body() {
        let mut out = Vec::new();
        encode(
            &mut out,
            "127.0.0.1:9",
            &req(Method::POST, "/api/v3/order?symbol=BTCUSDT", Some("{}")),
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "POST /api/v3/order?symbol=BTCUSDT HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\
             X-MEXC-APIKEY: k\r\nContent-Length: 2\r\n\r\n{}"
        );
        // A body-less POST still says its length (some servers wait for it otherwise).
        encode(&mut out, "h", &req(Method::POST, "/a", None)).unwrap();
        assert!(std::str::from_utf8(&out)
            .unwrap()
            .ends_with("Content-Length: 0\r\n\r\n"));
        encode(&mut out, "h", &req(Method::GET, "/a", None)).unwrap();
        assert!(!std::str::from_utf8(&out)
            .unwrap()
            .contains("Content-Length"));
    }

    #[test]
    fn refuses_what_would_break_the_framing() {
        let mut out = Vec::new();
        assert!(encode(&mut out, "h", &req(Method::GET, "/a b", None)).is_err());
        let mut r = req(Method::GET, "/a", None);
        r.headers.push(("X", "a\r\nInjected: 1".into()));
        assert!(encode(&mut out, "h", &r)
            .unwrap_err()
            .contains("line break"));
    }

    #[test]
    fn parses_length_chunked_and_partial_answers() {
        let a = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        for cut in 0..a.len() {
            assert!(parse(&a[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        let (ans, keep) = parse(a).unwrap().unwrap();
        assert_eq!(
            (ans.status, &ans.body[..], keep),
            (200, &b"hello"[..], true)
        );

        let c = b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\nRetry-After: 2\r\n\r\n4;x=1\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
        for cut in 0..c.len() {
            assert!(parse(&c[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        let (ans, keep) = parse(c).unwrap().unwrap();
        assert_eq!(ans.status, 429);
        assert_eq!(&ans.body[..], b"Wikipedia");
        assert_eq!(ans.headers.get("retry-after").unwrap(), "2");
        assert!(keep);

        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\n{}";
        assert!(!parse(close).unwrap().unwrap().1);
        // Delimited by the close: complete only at EOF.
        let eof = b"HTTP/1.0 200 OK\r\n\r\n{\"a\":1}";
        assert!(parse(eof).unwrap().is_none());
        assert_eq!(&parse_at_eof(eof).unwrap().unwrap().body[..], b"{\"a\":1}");
        // Cut short: no answer, even at EOF.
        assert!(parse_at_eof(&a[..a.len() - 1]).unwrap().is_none());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n\r\n5\r\n").is_ok());
        assert!(dechunk(b"zz\r\n").is_err());
    }
}
