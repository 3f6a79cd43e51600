//! The cgroup files read at every poll (each workload's `cpu.stat`), kept open between polls and
//! read again from offset 0, as long-running exporters do: one `pread` and one `fstat` per
//! workload and poll instead of a path lookup, an `open`, reads and a `close` (the path lookups
//! were most of the agent's own CPU time with 1,000 workloads).
//!
//! A cgroup (kernfs) file shows its current value at every read from offset 0; a removed cgroup's
//! file fails the read (`ENODEV`), and the file is then opened again by its path (gone: the
//! caller counts the cgroup as vanished). A regular file (a fake tree in tests or a container's
//! copy) replaced through a rename keeps its old inode behind the open handle: its link count
//! (`fstat`) is then 0, and it is opened again by its path too. Files are kept up to
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
    files: HashMap<String, File>,
    /// The most files kept open at once.
    pub max_open: usize,
    buf: Vec<u8>,
}

impl Kept {
    /// Keeps at most `max_open` files open.
    pub(crate) fn new(max_open: usize) -> Self {
        Self {
            files: HashMap::new(),
            max_open,
            buf: vec![0; 4096],
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
            Some(f) => match f.metadata() {
                Ok(m) if m.nlink() > 0 => read_at_0(f, &mut self.buf).is_err(),
                _ => true,
            },
            None => true,
        };
        if fresh {
            self.files.remove(key);
            if !std::fs::metadata(path)?.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file (a pipe or a device is never read)",
                ));
            }
            let f = File::open(path)?;
            read_at_0(&f, &mut self.buf)?;
            if self.files.len() < self.max_open {
                self.files.insert(key.to_string(), f);
            }
        }
        std::str::from_utf8(&self.buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Closes the files whose key `keep` refuses (workloads gone).
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.files.retain(|k, _| keep(k));
    }
}

/// Reads `f` from offset 0 into `buf` (grown up to [`MAX_READ`]), which then holds exactly the
/// text read.
fn read_at_0(f: &File, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut cap = buf.capacity().max(4096);
    loop {
        buf.resize(cap, 0);
        let n = f.read_at(buf, 0)?;
        if n < cap || cap >= MAX_READ {
            buf.truncate(n);
            return Ok(());
        }
        cap = (cap * 2).min(MAX_READ);
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
