//! The cgroup files read at every poll (each workload's `cpu.stat`), kept open between polls and
//! read again from offset 0, as long-running exporters do: one `pread` per workload and poll
//! instead of two path lookups, an `open`, reads and a `close` (the path lookups were most of the
//! agent's own CPU time with 1,000 workloads).
//!
//! A cgroup (kernfs) file shows its current value at every read from offset 0; a removed cgroup's
//! file fails the read (`ENODEV`), and the file is then opened again by its path (gone: the
//! caller counts the cgroup as vanished). A regular file (a fake tree in tests or a container's
//! copy) can instead be replaced through a rename, which leaves its old inode behind the open
//! handle: so a kept regular file is checked at each read (`fstat`: a link count of 0 means
//! replaced or removed, and it is opened again by its path). A kernel's pseudo-file tells itself
//! apart by a size of 0 with text in it, and needs no check. Files are kept up to
//! [`Kept::max_open`] (the process's open-file limit leaves room for the server's sockets); past
//! it they are opened and closed at each read, as before.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// The most bytes read of one kept file (a cgroup's `cpu.stat` is under 1 kB).
const MAX_READ: usize = 64 << 10;

/// Open files by key (a workload's id), and one buffer for their text.
#[derive(Debug)]
pub(crate) struct Kept {
    /// Each file, and whether it is a kernel's pseudo-file (never replaced through a rename).
    files: HashMap<String, (File, bool)>,
    /// The most files kept open at once.
    pub max_open: usize,
    /// The last text read: `buf[..len]` (the rest is room, not cleared at each read).
    buf: Vec<u8>,
    len: usize,
}

impl Kept {
    /// Keeps at most `max_open` files open.
    pub(crate) fn new(max_open: usize) -> Self {
        Self {
            files: HashMap::new(),
            max_open,
            buf: vec![0; 4096],
            len: 0,
        }
    }

    /// How many files are open.
    pub(crate) fn open_files(&self) -> usize {
        self.files.len()
    }

    /// The text of `path`, kept open under `key`: read again from offset 0 while the open file is
    /// still the one at `path`, else (first read, removed, replaced) opened by its path. Only a
    /// regular file is opened (never a pipe or a device, as [`crate::source::StdFs`]).
    pub(crate) fn read(&mut self, key: &str, path: &Path) -> io::Result<&str> {
        let fresh = match self.files.get(key) {
            Some((f, pseudo)) => {
                let linked = *pseudo || f.metadata().is_ok_and(|m| m.nlink() > 0);
                !linked || read_at_0(f, &mut self.buf, &mut self.len).is_err()
            }
            None => true,
        };
        if fresh {
            self.files.remove(key);
            let meta = std::fs::metadata(path)?;
            if !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file (a pipe or a device is never read)",
                ));
            }
            let f = File::open(path)?;
            read_at_0(&f, &mut self.buf, &mut self.len)?;
            if self.files.len() < self.max_open {
                let pseudo = meta.len() == 0 && self.len > 0;
                self.files.insert(key.to_string(), (f, pseudo));
            }
        }
        std::str::from_utf8(&self.buf[..self.len])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Closes the files whose key `keep` refuses (workloads gone).
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.files.retain(|k, _| keep(k));
    }
}

/// Reads `f` from offset 0 into `buf` (grown up to [`MAX_READ`]); `len` is then the length of
/// the text read.
fn read_at_0(f: &File, buf: &mut Vec<u8>, len: &mut usize) -> io::Result<()> {
    loop {
        let n = f.read_at(buf, 0)?;
        if n < buf.len() || buf.len() >= MAX_READ {
            *len = n;
            return Ok(());
        }
        let cap = (buf.len() * 2).min(MAX_READ);
        buf.resize(cap, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_read_again_and_a_replaced_or_removed_one_is_opened_again() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("cpu.stat");
        std::fs::write(&p, "usage_usec 1\n").expect("w");
        let mut k = Kept::new(10);
        assert_eq!(k.read("a", &p).expect("read"), "usage_usec 1\n");
        assert_eq!(k.open_files(), 1);
        // Written in place (the same inode): the kept handle reads the new text.
        std::fs::write(&p, "usage_usec 22\n").expect("w");
        assert_eq!(k.read("a", &p).expect("read"), "usage_usec 22\n");
        // Replaced through a rename (a new inode): opened again by its path.
        let tmp = d.path().join("new");
        std::fs::write(&tmp, "usage_usec 333\n").expect("w");
        std::fs::rename(&tmp, &p).expect("rename");
        assert_eq!(k.read("a", &p).expect("read"), "usage_usec 333\n");
        // Shorter text than before: nothing of the old one is left.
        std::fs::write(&p, "u 4\n").expect("w");
        assert_eq!(k.read("a", &p).expect("read"), "u 4\n");
        // Removed: an error (the caller counts the cgroup as vanished), and no handle kept.
        std::fs::remove_file(&p).expect("rm");
        assert!(k.read("a", &p).is_err());
        assert_eq!(k.open_files(), 0);
    }

    #[test]
    fn a_kernel_pseudo_file_is_kept_without_a_check_and_read_fresh_each_time() {
        // /proc/uptime: size 0 with text, and a new value every 10 ms.
        let p = Path::new("/proc/uptime");
        if !p.exists() {
            return;
        }
        let mut k = Kept::new(10);
        let first = k.read("up", p).expect("read").to_string();
        assert!(k.files.get("up").is_some_and(|(_, pseudo)| *pseudo));
        std::thread::sleep(std::time::Duration::from_millis(30));
        let again = k.read("up", p).expect("read").to_string();
        assert!(!again.is_empty() && again != first, "{first} -> {again}");
        // A regular file is not a pseudo-file (it is checked at each read).
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(d.path().join("f"), "1").expect("w");
        k.read("f", &d.path().join("f")).expect("read");
        assert!(k.files.get("f").is_some_and(|(_, pseudo)| !*pseudo));
    }

    #[test]
    fn past_the_limit_files_are_read_but_not_kept_and_gone_keys_are_closed() {
        let d = tempfile::tempdir().expect("tmp");
        let mut k = Kept::new(2);
        for i in 0..4 {
            let p = d.path().join(format!("f{i}"));
            // A file larger than the first buffer is read whole.
            let text = format!("{i}{}", "x".repeat(10_000));
            std::fs::write(&p, &text).expect("w");
            assert_eq!(k.read(&format!("f{i}"), &p).expect("read"), text);
        }
        assert_eq!(k.open_files(), 2);
        k.retain(|key| key == "f0");
        assert_eq!(k.open_files(), 1);
        // A folder is not a regular file.
        assert!(k.read("dir", d.path()).is_err());
    }
}
