//! A socket that remembers when it last delivered bytes, so a frame's receive time is
//! the moment its bytes were read from the kernel, not the later moment the WebSocket
//! layer finished decoding it and the feed got to it.

use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner`, with the time (`arb_core::time::now_ns`) of its last read that returned data
/// in [`Stamped::last_read`].
pub struct Stamped<S> {
    inner: S,
    last_read: Arc<AtomicI64>,
}

impl<S> Stamped<S> {
    pub fn new(inner: S) -> Self {
        Stamped {
            inner,
            last_read: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Shared with whoever reads frames off this socket (0 before the first read).
    pub fn last_read(&self) -> Arc<AtomicI64> {
        self.last_read.clone()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stamped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.last_read
                .store(arb_core::time::now_ns(), Ordering::Relaxed);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Stamped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn stamps_reads_that_return_data_only() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut s = Stamped::new(a);
        let stamp = s.last_read();
        assert_eq!(stamp.load(Ordering::Relaxed), 0);
        let before = arb_core::time::now_ns();
        b.write_all(b"frame").await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        let t = stamp.load(Ordering::Relaxed);
        assert!(t >= before && t <= arb_core::time::now_ns());
        drop(b);
        // EOF returns no data: the stamp stays.
        assert_eq!(s.read(&mut buf).await.unwrap(), 0);
        assert_eq!(stamp.load(Ordering::Relaxed), t);
    }
}
