//! The loopback floor: a TCP ping-pong between two processes, the least any client can
//! take to answer a venue's push (one write each way), to set the engine's tick-to-trade
//! against.
//!
//! `pingpong serve --mode M --size S` listens on 127.0.0.1 (the OS picks the port),
//! prints the port on one line, accepts one connection and echoes every message until
//! the peer closes. `pingpong client --port P --mode M --size S --round-trips N
//! [--warmup W]` sends `S` bytes and waits for them back `W + N` times and prints one
//! JSON line: the round trip and the one way (round trip / 2), nearest-rank percentiles
//! in nanoseconds, of the last `N`.
//!
//! Modes: `blocking` (blocking reads: the reader sleeps in the kernel and is woken by
//! the write, as a tokio task parked on epoll is) and `busy` (non-blocking socket,
//! spinning on `read`: no wake-up, the lowest the two cores allow). Both ends use the
//! same mode. Pinning is the caller's (`taskset -c`, or the bench harness
//! `benches/python/out_of_process.py`, which pins each process to its own core).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Blocking,
    Busy,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Blocking => "blocking",
            Mode::Busy => "busy",
        }
    }
}

struct Args {
    command: String,
    mode: Mode,
    size: usize,
    port: u16,
    round_trips: usize,
    warmup: usize,
}

const USAGE: &str = "usage: pingpong serve [--mode blocking|busy] [--size BYTES]\n       \
    pingpong client --port PORT [--mode blocking|busy] [--size BYTES] [--round-trips N] [--warmup N]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("missing command")?;
    if command != "serve" && command != "client" {
        return Err(format!("unknown command {command:?}"));
    }
    let mut args = Args {
        command,
        mode: Mode::Blocking,
        size: 64,
        port: 0,
        round_trips: 10_000,
        warmup: 1_000,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{flag}: {value:?} is not a whole number"))
        };
        match flag.as_str() {
            "--mode" => {
                args.mode = match value.as_str() {
                    "blocking" => Mode::Blocking,
                    "busy" => Mode::Busy,
                    _ => return Err(format!("--mode: {value:?} is not blocking or busy")),
                }
            }
            "--size" => args.size = number()?.max(1),
            "--port" => {
                args.port = u16::try_from(number()?).map_err(|_| format!("--port: {value}"))?
            }
            "--round-trips" => args.round_trips = number()?.max(1),
            "--warmup" => args.warmup = number()?,
            _ => return Err(format!("unknown flag {flag:?}")),
        }
    }
    if args.command == "client" && args.port == 0 {
        return Err("client needs --port".into());
    }
    Ok(args)
}

/// Fills `buf` from `s`: `Ok(false)` when the peer closed before the first byte.
fn read_full(s: &mut TcpStream, buf: &mut [u8], mode: Mode) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock && mode == Mode::Busy => {
                std::hint::spin_loop()
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn write_full(s: &mut TcpStream, buf: &[u8], mode: Mode) -> std::io::Result<()> {
    let mut sent = 0;
    while sent < buf.len() {
        match s.write(&buf[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock && mode == Mode::Busy => {
                std::hint::spin_loop()
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn prepare(s: &TcpStream, mode: Mode) -> std::io::Result<()> {
    // One small write each way, sent at once: Nagle would hold the second one.
    s.set_nodelay(true)?;
    s.set_nonblocking(mode == Mode::Busy)
}

fn serve(a: &Args) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let (mut s, _) = listener.accept()?;
    prepare(&s, a.mode)?;
    let mut buf = vec![0u8; a.size];
    while read_full(&mut s, &mut buf, a.mode)? {
        write_full(&mut s, &buf, a.mode)?;
    }
    Ok(())
}

fn client(a: &Args) -> std::io::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", a.port))?;
    prepare(&s, a.mode)?;
    let out = vec![0x5au8; a.size];
    let mut back = vec![0u8; a.size];
    let mut rtt: Vec<u64> = Vec::with_capacity(a.round_trips);
    for i in 0..a.warmup + a.round_trips {
        let t0 = Instant::now();
        write_full(&mut s, &out, a.mode)?;
        if !read_full(&mut s, &mut back, a.mode)? {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        let ns = t0.elapsed().as_nanos() as u64;
        if i >= a.warmup {
            rtt.push(ns);
        }
    }
    let mut one_way: Vec<u64> = rtt.iter().map(|ns| ns / 2).collect();
    let report = serde_json::json!({
        "mode": a.mode.name(),
        "size_bytes": a.size,
        "round_trips": a.round_trips,
        "warmup": a.warmup,
        "rtt_ns": arb_sim::referee::stats(&mut rtt),
        "one_way_ns": arb_sim::referee::stats(&mut one_way),
    });
    println!("{report}");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pingpong: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let run = if args.command == "serve" {
        serve(&args)
    } else {
        client(&args)
    };
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pingpong {}: {e}", args.command);
            ExitCode::FAILURE
        }
    }
}
