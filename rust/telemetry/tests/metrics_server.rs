//! `/metrics` over a real loopback socket.

use std::io::{Read, Write};
use std::net::TcpStream;

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
    let m = VenueMetrics::new(&r, arb_core::Venue::Mexc);
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
        .find_map(|l| l.strip_prefix("Content-Length: "))
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
