//! `/metrics` over a real loopback socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use arb_telemetry::metrics_server::MetricsServer;
use arb_telemetry::{Registry, VenueMetrics};

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_the_registry_in_prometheus_text_format() {
    let r = Registry::new();
    let m = VenueMetrics::new(&r, arb_core::Venue::MEXC);
    m.book_updates.add(42);
    m.http_request(std::time::Duration::from_micros(1_500), true, true);
    let mut server = MetricsServer::start(0, r).unwrap();
    let port = server.local_addr().port();
    assert!(server.local_addr().ip().is_loopback());

    let resp = get(port, "/metrics");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"));
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, body.len());
    assert!(body.contains("# TYPE book_updates_total counter\n"));
    assert!(body.contains("book_updates_total{venue=\"mexc\"} 42\n"));
    assert!(body.contains("http_request_seconds_bucket{venue=\"mexc\",le=\"0.002\"} 1\n"));
    assert!(body.contains("http_request_seconds_bucket{venue=\"mexc\",le=\"0.001\"} 0\n"));
    assert!(body.contains("http_request_seconds_count{venue=\"mexc\"} 1\n"));
    assert!(body.contains("process_resident_memory_bytes "));

    assert!(get(port, "/other").starts_with("HTTP/1.1 404"));
    server.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// A client that sends 64 MB without a newline used to be read into one growing line
/// (the engine grew by 64 MB). Now the request head is capped: the server answers 431 or
/// drops the connection after a few kB, and memory does not follow the client.
#[test]
#[cfg(target_os = "linux")]
fn an_oversized_request_is_cut_off_without_being_buffered() {
    let server = MetricsServer::start(0, Registry::new()).unwrap();
    let port = server.local_addr().port();
    let before = arb_telemetry::process::rss_bytes().unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nX-Junk: ").unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    while sent < 64 * 1024 * 1024 {
        if s.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let after = arb_telemetry::process::rss_bytes().unwrap();
    assert!(sent < 64 * 1024 * 1024, "the server read all 64 MB");
    assert!(
        after < before + 16 * 1024 * 1024,
        "RSS grew from {before} to {after}"
    );
    // And it still serves others.
    assert!(get(port, "/metrics").starts_with("HTTP/1.1 200"));
}

/// Sends `GET /metrics HTTP/1.1\r\nX-Slow: aaaa...` one byte at a time, never ending the
/// head. Says on `started` when the first byte is out; `done` is set when it stops,
/// because it sent `n` bytes or because the server closed the connection (`Err`).
fn slow_client(port: u16, n: usize, started: mpsc::Sender<()>, done: Arc<AtomicBool>) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = b"GET /metrics HTTP/1.1\r\nX-Slow: ";
    let mut cut = false;
    for i in 0..n {
        let b = head.get(i).copied().unwrap_or(b'a');
        if s.write_all(&[b]).is_err() {
            cut = true;
            break;
        }
        if i == 0 {
            let _ = started.send(());
        }
        thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::Release);
    cut
}

/// One byte every 50 ms used to hold the one-connection-at-a-time server (each read was
/// within its 2 s timeout), so every scrape waited for the slow client. Now the scrape is
/// answered while the slow client is still sending.
#[test]
fn a_slow_client_does_not_block_a_scrape() {
    let server = MetricsServer::start(0, Registry::new()).unwrap();
    let port = server.local_addr().port();
    let (tx, rx) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let slow = thread::spawn(move || slow_client(port, 60, tx, d));
    rx.recv().unwrap();
    let resp = get(port, "/metrics");
    assert!(
        !done.load(Ordering::Acquire),
        "the scrape waited for the slow client"
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    slow.join().unwrap();
}

/// A client that never finishes its request head is disconnected (the head has a time
/// limit as a whole, not per read).
#[test]
fn a_slow_client_is_cut_off() {
    let server = MetricsServer::start(0, Registry::new()).unwrap();
    let port = server.local_addr().port();
    let (tx, _rx) = mpsc::channel();
    // 1,000 bytes at 50 ms: 50 s, far longer than the head's time limit.
    let cut = slow_client(port, 1_000, tx, Arc::new(AtomicBool::new(false)));
    assert!(cut, "the slow client was never disconnected");
}
