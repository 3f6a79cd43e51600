//! Output files written whole or not at all, so that a full disk, a quota or a file-size limit
//! never costs the user the previous file: every file the CLI replaces (`run --json`,
//! `report -o`) is written to a temporary file in the same folder, flushed to the disk, and
//! renamed over the old one; a row appended to a CSV (`run --csv`) is one write that is taken
//! back when it fails part-way. A pipe or a device (`/dev/stdout`) is written in place: it
//! holds no previous content to lose.

use anyhow::{anyhow, bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Replaces the file at `path` with `bytes`, whole or not at all.
///
/// # Errors
/// As [`replace_with`].
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(path, |w| w.write_all(bytes).map_err(Into::into))
}

/// Replaces the file at `path` with what `write` writes, whole or not at all: into a temporary
/// file beside it (`.NAME.wattlens-PID-N.tmp`), flushed to the disk, then renamed over it, so
/// that the old file stays byte for byte when any step fails (the temporary file is removed).
/// A symbolic link is followed (the link keeps pointing at the new file); an existing file's
/// permissions are kept; a hard link elsewhere keeps the old content. A pipe or a device is
/// written in place.
///
/// # Errors
/// An existing file that may not be written (permissions), a folder where no file can be made,
/// or any error of `write` or of the disk; each says that the old file was left as it was.
pub fn replace_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let target = link_target(path);
    let old = match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => bail!("is a folder; give a file name in it"),
        Ok(m) if !m.is_file() => {
            // A pipe or a device: nothing to keep, and no rename can replace it.
            let mut f = OpenOptions::new().write(true).open(&target)?;
            write(&mut f)?;
            return f.flush().map_err(Into::into);
        }
        Ok(m) => {
            if rustix::fs::access(&target, rustix::fs::Access::WRITE_OK).is_err() {
                bail!("the file may not be written (permissions)");
            }
            Some(m.permissions())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let kept = if old.is_some() {
        "the previous file is left as it was"
    } else {
        "no file was made"
    };
    let (tmp, file) = temporary(&target).with_context(|| {
        format!(
            "cannot make a temporary file in {} to write it; {kept}",
            folder(&target).display()
        )
    })?;
    let written = (|| -> Result<()> {
        let mut w = BufWriter::new(&file);
        write(&mut w)?;
        w.flush()?;
        drop(w);
        if let Some(p) = old {
            file.set_permissions(p)?;
        }
        // A disk that reports a full quota only when the data goes out (NFS, a thin volume)
        // fails here, before the old file is touched.
        file.sync_data()?;
        std::fs::rename(&tmp, &target)?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(kept));
    }
    Ok(())
}

/// Appends `bytes` (one CSV row, or a header and a row) to the regular file at `path`,
/// creating it, in one write; a newline goes first when the file's last byte is not one. A
/// write that fails part-way is taken back (the file cut to its length before), so the file
/// never ends in a partial row; a file this call made is removed again.
///
/// # Errors
/// The file cannot be opened or written; the message says whether it was left as it was.
pub fn append(path: &Path, bytes: &[u8]) -> Result<()> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let mut row = Vec::with_capacity(bytes.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        f.read_exact_at(&mut last, len - 1)?;
        if last[0] != b'\n' {
            row.push(b'\n');
        }
    }
    row.extend_from_slice(bytes);
    let mut done = 0usize;
    let failed = loop {
        if done == row.len() {
            match f.sync_data() {
                Ok(()) => return Ok(()),
                Err(e) => break e,
            }
        }
        match (&f).write(&row[done..]) {
            Ok(0) => break ErrorKind::WriteZero.into(),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break e,
        }
    };
    // Taken back only when the file is still this write's alone: another process appending
    // at the same moment keeps its row.
    let now = f.metadata().map(|m| m.len()).ok();
    let expected = len + u64::try_from(done).unwrap_or(u64::MAX);
    let undone = done == 0 || (now == Some(expected) && f.set_len(len).is_ok());
    if undone && !existed && len == 0 {
        // Made by this write alone: removed, as a failed --json leaves no file.
        let _ = std::fs::remove_file(path);
        return Err(anyhow!(failed).context("no file was made"));
    }
    if done == 0 {
        return Err(anyhow!(failed).context("the file is left as it was"));
    }
    if undone {
        return Err(
            anyhow!(failed).context("the partial row was taken back; the file is left as it was")
        );
    }
    Err(anyhow!(failed).context(format!(
        "a partial row of {done} bytes may remain after byte {len}"
    )))
}

/// A new temporary file beside `target`, made by this process alone.
fn temporary(target: &Path) -> std::io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let dir = folder(target);
    // A name left by a killed process with the same PID is skipped.
    for tries in 1.. {
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.wattlens-{}-{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Err(e) if e.kind() == ErrorKind::AlreadyExists && tries < 100 => {}
            r => return r.map(|f| (tmp, f)),
        }
    }
    unreachable!("the loop returns by its 100th try")
}

/// The folder a file at `path` is made in.
pub fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Where `path` leads once every symbolic link in its last part is followed, even to a file
/// that does not exist yet (a dangling link is where a new file would be made).
pub fn link_target(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    // As the kernel, give up after 40 links (a loop).
    for _ in 0..40 {
        let is_link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
        let Some(t) = is_link.then(|| std::fs::read_link(&p).ok()).flatten() else {
            break;
        };
        p = if t.is_absolute() {
            t
        } else {
            folder(&p).join(t)
        };
    }
    p
}

/// What makes two paths the same file.
#[derive(Debug, PartialEq, Eq)]
pub enum Identity {
    /// An existing regular file: its device and inode (hard links and symlinks alike).
    Inode(u64, u64),
    /// A file not made yet: the canonical folder and name it would be made as.
    New(PathBuf),
}

/// The identity of `path`; `None` for pipes and devices (writing one twice is harmless and
/// `/dev/stdout` has no path of its own), or a path whose folder cannot be resolved.
pub fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Some(Identity::Inode(m.dev(), m.ino())),
        Ok(_) => None,
        Err(_) => {
            let target = link_target(path);
            let dir = std::fs::canonicalize(folder(&target)).ok()?;
            Some(Identity::New(dir.join(target.file_name()?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{append, replace, replace_with};
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt;

    /// The names in `dir`, sorted.
    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_write_that_fails_part_way_leaves_the_old_file_byte_for_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keep.json");
        std::fs::write(&path, b"{\"previous\":\"run, keep me\"}\n").expect("write");
        let e = replace_with(&path, |w| {
            // 8 KiB written (past BufWriter's buffer, so bytes reached the temporary file),
            // then the disk is full.
            w.write_all(&[b'x'; 8192])?;
            Err(std::io::Error::from_raw_os_error(28).into())
        })
        .expect_err("fails");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            b"{\"previous\":\"run, keep me\"}\n"
        );
        let msg = format!("{e:#}");
        assert!(
            msg.contains("left as it was") && msg.contains("os error 28"),
            "{msg}"
        );
        // No temporary file stays behind.
        assert_eq!(names(dir.path()), ["keep.json"]);
    }

    #[test]
    fn a_failed_new_file_is_not_made_and_a_good_one_replaces_the_old() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.json");
        let e = replace_with(&path, |_| Err(anyhow::anyhow!("boom"))).expect_err("fails");
        assert!(format!("{e:#}").contains("no file was made"), "{e:#}");
        assert!(names(dir.path()).is_empty());
        replace(&path, b"one").expect("write");
        replace(&path, b"two").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(names(dir.path()), ["new.json"]);
    }

    #[test]
    fn permissions_and_symbolic_links_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"old").expect("write");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).expect("symlink");
        replace(&link, b"new").expect("replace");
        assert!(std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).expect("read"), b"new");
        let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn a_device_is_written_in_place() {
        replace(std::path::Path::new("/dev/null"), b"anything").expect("/dev/null");
        let e = replace(std::path::Path::new("/dev/full"), b"anything").expect_err("full");
        assert!(format!("{e:#}").contains("os error 28"), "{e:#}");
    }

    #[test]
    fn a_row_is_appended_after_a_newline_the_file_lacked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("e.csv");
        append(&path, b"a,b\n1,2\n").expect("new file");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"3,4"))
            .expect("a row without its newline");
        append(&path, b"5,6\n").expect("append");
        assert_eq!(std::fs::read(&path).expect("read"), b"a,b\n1,2\n3,4\n5,6\n");
    }
}
