//! Local space for the sources jobs read. Each worker process has its own folder under
//! `<data_dir>/tmp`, locked while the process lives, so that a process starting up removes
//! what dead ones left behind (a worker killed mid-job cannot clean up after itself). Each
//! job slot rewrites one file from job to job and empties it when the job ends: creating a
//! file costs a tenth of a millisecond or more of kernel time on some filesystems (ext4
//! without a journal looks for an inode not freed recently), more than a small job's
//! bookkeeping.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = "worker-";
const LOCK: &str = ".lock";

pub struct Scratch {
    dir: PathBuf,
    /// Locked for the life of the process.
    _lock: File,
}

impl Scratch {
    pub fn open(data_dir: &Path) -> io::Result<Scratch> {
        let root = data_dir.join("tmp");
        fs::create_dir_all(&root)?;
        sweep(&root);
        loop {
            let (lock, path) = tempfile::Builder::new()
                .prefix(PREFIX)
                .suffix(LOCK)
                .tempfile_in(&root)?
                .keep()
                .map_err(|e| e.error)?;
            match lock.try_lock() {
                // A sweep that ran meanwhile may have taken the lock or removed the file: it
                // thought the folder a dead process's. Take another name.
                Ok(()) if path.exists() => {
                    let dir = path.with_extension("");
                    fs::create_dir_all(&dir)?;
                    return Ok(Scratch { dir, _lock: lock });
                }
                Ok(()) | Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
    }

    /// The file job slot `slot` downloads its sources to.
    pub fn source(&self, slot: usize) -> PathBuf {
        self.dir.join(format!("source-{slot}"))
    }
}

/// Remove the folders of worker processes that are gone: their lock is free.
fn sweep(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let lock_path = entry.path();
        let is_lock = entry.file_type().is_ok_and(|t| t.is_file())
            && lock_path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(LOCK));
        if !is_lock {
            continue;
        }
        let Ok(lock) = File::open(&lock_path) else {
            continue;
        };
        if lock.try_lock().is_ok() {
            let dir = lock_path.with_extension("");
            let removed = fs::remove_dir_all(&dir).or_else(|e| match e.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            });
            match removed.and_then(|()| fs::remove_file(&lock_path)) {
                Ok(()) => {
                    tracing::info!(folder = %dir.display(), "removed a stopped worker's sources")
                }
                Err(e) => {
                    tracing::warn!(folder = %dir.display(), error = %e, "cannot remove a stopped worker's sources")
                }
            }
        }
    }
}

/// A slot's source file. Once complete, it is emptied when the job is done with it (large
/// sources must not hold disk space between jobs) and stays for the next job. A download
/// that failed or was cancelled removes it instead: a write still on its way from it must not
/// land in the next job's source.
pub struct SlotFile {
    path: PathBuf,
    complete: bool,
}

impl SlotFile {
    pub fn new(path: &Path) -> SlotFile {
        SlotFile {
            path: path.to_path_buf(),
            complete: false,
        }
    }

    pub fn complete(mut self) -> SlotFile {
        self.complete = true;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SlotFile {
    fn drop(&mut self) {
        let _ = if self.complete {
            fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)
                .map(drop)
        } else {
            fs::remove_file(&self.path)
        };
    }
}
