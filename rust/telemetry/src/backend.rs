//! The writer thread's outputs: the console (human lines, colour only on a terminal),
//! JSON-lines files with size-based rotation, an in-memory capture, and a discard
//! backend for benchmarks. Backends run on the writer thread only, so they need no locks
//! of their own and may block on I/O without slowing any producer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::format;
use crate::record::Record;

/// One output of the writer thread.
pub trait Backend: Send {
    /// Writes one record; `secrets` are scrubbed from whatever text it produces.
    fn write(&mut self, rec: &Record, secrets: &[String]) -> io::Result<()>;
    /// Pushes buffered bytes to the OS (called when the ring runs dry and on shutdown).
    fn flush(&mut self) -> io::Result<()>;
}

/// Which stream the console backend writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleStream {
    Stdout,
    Stderr,
}

/// Human-readable lines on stdout or stderr; ANSI colour only when that stream is a
/// terminal, so redirected output and captured test output stay plain text.
pub struct Console {
    stream: ConsoleStream,
    colour: bool,
    line: String,
    buf: Vec<u8>,
}

impl Console {
    pub fn new(stream: ConsoleStream) -> Console {
        let colour = match stream {
            ConsoleStream::Stdout => io::stdout().is_terminal(),
            ConsoleStream::Stderr => io::stderr().is_terminal(),
        };
        Console {
            stream,
            colour,
            line: String::with_capacity(256),
            buf: Vec::with_capacity(64 * 1024),
        }
    }
}

impl Backend for Console {
    fn write(&mut self, rec: &Record, secrets: &[String]) -> io::Result<()> {
        self.line.clear();
        format::human_line(&mut self.line, rec, self.colour);
        format::scrub(&mut self.line, secrets);
        self.buf.extend_from_slice(self.line.as_bytes());
        if self.buf.len() >= 60 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // Locked handles, one write per batch: the std streams' own line buffering
        // would otherwise cost a system call per line.
        let r = match self.stream {
            ConsoleStream::Stdout => {
                let mut o = io::stdout().lock();
                o.write_all(&self.buf).and_then(|_| o.flush())
            }
            ConsoleStream::Stderr => {
                let mut o = io::stderr().lock();
                o.write_all(&self.buf).and_then(|_| o.flush())
            }
        };
        self.buf.clear();
        r
    }
}

/// JSON lines appended to `path`; when the next line would take the file past
/// `rotate_bytes` it becomes `path.1`, `path.1` becomes `path.2`, ... and `path.<backups>`
/// is deleted, so at most `backups` old files are kept beside the live one.
pub struct RotatingFile {
    path: PathBuf,
    rotate_bytes: u64,
    backups: u32,
    out: BufWriter<File>,
    size: u64,
    line: String,
}

impl RotatingFile {
    /// Opens (appending) or creates `path` and its parent directory.
    ///
    /// # Errors
    /// The directory or file cannot be created or opened.
    pub fn open(path: &Path, rotate_bytes: u64, backups: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            rotate_bytes: rotate_bytes.max(1),
            backups,
            out: BufWriter::with_capacity(64 * 1024, file),
            size,
            line: String::with_capacity(512),
        })
    }

    /// `path.n` for backup number `n`.
    pub fn backup_path(path: &Path, n: u32) -> PathBuf {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if self.backups == 0 {
            fs::remove_file(&self.path)?;
        } else {
            // Shift from the oldest down; rename overwrites `path.<backups>`.
            for n in (1..self.backups).rev() {
                let from = Self::backup_path(&self.path, n);
                if from.exists() {
                    fs::rename(&from, Self::backup_path(&self.path, n + 1))?;
                }
            }
            fs::rename(&self.path, Self::backup_path(&self.path, 1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.out = BufWriter::with_capacity(64 * 1024, file);
        self.size = 0;
        Ok(())
    }
}

impl Backend for RotatingFile {
    fn write(&mut self, rec: &Record, secrets: &[String]) -> io::Result<()> {
        self.line.clear();
        format::json_line(&mut self.line, rec);
        format::scrub(&mut self.line, secrets);
        let n = self.line.len() as u64;
        if self.size > 0 && self.size + n > self.rotate_bytes {
            self.rotate()?;
        }
        self.out.write_all(self.line.as_bytes())?;
        self.size += n;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Keeps formatted JSON lines in memory (for tests and for a "last N lines" view).
#[derive(Clone, Default)]
pub struct Memory {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.lines.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Backend for Memory {
    fn write(&mut self, rec: &Record, secrets: &[String]) -> io::Result<()> {
        let mut line = String::with_capacity(256);
        format::json_line(&mut line, rec);
        format::scrub(&mut line, secrets);
        self.lines.lock().push(line);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Formats nothing and writes nothing: measures the ring and the writer alone.
pub struct Discard;

impl Backend for Discard {
    fn write(&mut self, _rec: &Record, _secrets: &[String]) -> io::Result<()> {
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, Level, Text};

    fn rec(i: u64) -> Record {
        Record::with_text(
            Level::Info,
            "t",
            Text::Static("rotation test line"),
            [Field::new("i", i)],
            1,
        )
    }

    #[test]
    fn rotation_keeps_exactly_n_backups_and_every_line_until_then() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/app.jsonl");
        let mut f = RotatingFile::open(&path, 1_000, 3).unwrap();
        for i in 0..200 {
            f.write(&rec(i), &[]).unwrap();
        }
        f.flush().unwrap();
        let mut files: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(
            files,
            vec!["app.jsonl", "app.jsonl.1", "app.jsonl.2", "app.jsonl.3"]
        );
        // Every file is within the limit, and the newest lines are in order across
        // .3 -> .2 -> .1 -> live.
        let mut seen = Vec::new();
        for name in ["app.jsonl.3", "app.jsonl.2", "app.jsonl.1", "app.jsonl"] {
            let text = fs::read_to_string(path.parent().unwrap().join(name)).unwrap();
            assert!(text.len() <= 1_000, "{name} is {} bytes", text.len());
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                seen.push(v["fields"]["i"].as_u64().unwrap());
            }
        }
        let last = *seen.last().unwrap();
        assert_eq!(last, 199);
        let first = seen[0];
        assert_eq!(seen, (first..=199).collect::<Vec<_>>());
    }

    #[test]
    fn zero_backups_truncates_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut f = RotatingFile::open(&path, 300, 0).unwrap();
        for i in 0..50 {
            f.write(&rec(i), &[]).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(fs::metadata(&path).unwrap().len() <= 300);
    }
}
