//! The socket under an order connection, movable between runtimes, and the connection's
//! transport (plain TCP, or TLS over it).
//!
//! A tokio socket is registered with the I/O driver of the runtime that created it. A
//! connection dialled (and, for TLS, handshaken) on the background runtime must be served
//! by the hot thread's: [`Sock::detach`] hands it back to the kernel as a std socket, and
//! the next poll, on whichever runtime, registers it there again. The TLS session over it
//! is untouched: only the file descriptor changes hands.

use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP socket that registers itself with the runtime that polls it.
pub(super) enum Sock {
    Attached(TcpStream),
    Detached(std::net::TcpStream),
    /// Only while switching state, or after a failed re-registration.
    Gone,
}

impl Sock {
    /// Registered with the current runtime (the caller is inside one).
    fn attached(&mut self) -> std::io::Result<&mut TcpStream> {
        if let Sock::Detached(_) = self {
            let Sock::Detached(s) = std::mem::replace(self, Sock::Gone) else {
                unreachable!("matched above")
            };
            *self = Sock::Attached(TcpStream::from_std(s)?);
        }
        match self {
            Sock::Attached(t) => Ok(t),
            _ => Err(std::io::Error::other("order connection lost its socket")),
        }
    }

    fn fd(&self) -> Option<std::os::fd::RawFd> {
        match self {
            Sock::Attached(t) => Some(t.as_raw_fd()),
            Sock::Detached(s) => Some(s.as_raw_fd()),
            Sock::Gone => None,
        }
    }

    /// Deregistered from its runtime, ready to be polled from another one.
    pub fn detach(&mut self) -> std::io::Result<()> {
        if let Sock::Attached(_) = self {
            let Sock::Attached(t) = std::mem::replace(self, Sock::Gone) else {
                unreachable!("matched above")
            };
            *self = Sock::Detached(t.into_std()?);
        }
        Ok(())
    }

    /// The attached socket for a direct `try_write`.
    pub fn tcp(&mut self) -> std::io::Result<&TcpStream> {
        self.attached().map(|t| &*t)
    }

    /// Open, and nothing unread: an idle connection the venue closed reads EOF, and one
    /// with unsolicited bytes (for TLS, a close_notify alert too) is out of step; both
    /// are dropped before a request is written. A peek on the socket itself
    /// (`MSG_PEEK | MSG_DONTWAIT`), not the runtime's cached readiness: a close that
    /// arrived since the runtime last polled its driver is seen too, and nothing is
    /// consumed.
    pub fn usable(&self) -> bool {
        let Some(fd) = self.fd() else {
            return false;
        };
        let mut b = [0u8; 1];
        // SAFETY: `b` is a valid 1-byte buffer for the duration of the call, and the fd
        // is owned by `self`, which outlives it.
        let n = unsafe {
            libc::recv(
                fd,
                b.as_mut_ptr().cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
    }
}

impl AsyncRead for Sock {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut().attached() {
            Ok(t) => Pin::new(t).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for Sock {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut().attached() {
            Ok(t) => Pin::new(t).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().attached() {
            Ok(t) => Pin::new(t).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut().attached() {
            Ok(t) => Pin::new(t).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// Non-blocking reads straight from a socket (`MSG_DONTWAIT`), for the session to take
/// what arrived while a connection was idle.
struct RawRead(std::os::fd::RawFd);

impl std::io::Read for RawRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: `buf` is valid for `buf.len()` bytes; the fd is owned by the `Sock`
        // borrowed for the duration of the read.
        let n = unsafe {
            libc::recv(
                self.0,
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

/// The transport of one order connection.
pub(super) enum Io {
    Plain(Sock),
    Tls(Box<tokio_rustls::client::TlsStream<Sock>>),
}

impl Io {
    pub fn sock(&self) -> &Sock {
        match self {
            Io::Plain(s) => s,
            Io::Tls(t) => t.get_ref().0,
        }
    }

    pub fn detach(&mut self) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.detach(),
            Io::Tls(t) => t.get_mut().0.detach(),
        }
    }

    /// See [`Sock::usable`]. Over TLS, bytes that arrived while idle may be the venue's
    /// post-handshake messages (TLS 1.3 session tickets, sent right after the handshake
    /// of every connection): they are handed to the session without waiting, and the
    /// connection stays usable if they held no data and no close.
    pub fn usable(&mut self) -> bool {
        if self.sock().usable() {
            return true;
        }
        let Io::Tls(t) = self else {
            return false;
        };
        // Straight from the socket (the runtime's cached readiness may not know of the
        // bytes yet), into the session.
        let (sock, session) = t.get_mut();
        let Some(fd) = sock.fd() else {
            return false;
        };
        loop {
            match session.read_tls(&mut RawRead(fd)) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            }
        }
        match session.process_new_packets() {
            // Data nobody asked for, or a close_notify: out of step or closing.
            Ok(st) => st.plaintext_bytes_to_read() == 0 && !st.peer_has_closed(),
            Err(_) => false,
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(t) => Pin::new(t.as_mut()).poll_read(cx, buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Dialled on one runtime, detached, then served from another: the socket works
    /// there, and a closed peer makes it unusable without consuming anything.
    #[test]
    fn a_detached_socket_serves_another_runtime() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let rt = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        let mut sock = rt().block_on(async {
            let mut s = Sock::Attached(TcpStream::connect(addr).await.unwrap());
            s.detach().unwrap();
            s
        });
        let (mut peer, _) = l.accept().unwrap();
        assert!(sock.usable());
        rt().block_on(async {
            std::io::Write::write_all(&mut peer, b"ping").unwrap();
            let mut b = [0u8; 4];
            sock.read_exact(&mut b).await.unwrap();
            assert_eq!(&b, b"ping");
            sock.write_all(b"pong").await.unwrap();
        });
        let mut b = [0u8; 4];
        std::io::Read::read_exact(&mut peer, &mut b).unwrap();
        assert_eq!(&b, b"pong");
        drop(peer);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!sock.usable());
    }
}
