//! A throwaway PostgreSQL server for one test: `initdb` into a temporary folder, `pg_ctl start`
//! on a free loopback port, stopped and removed on drop. Runs the server as the `postgres` user
//! when the tests run as root (PostgreSQL refuses to run as root).

use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    opts: String,
    pub url: String,
}

fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .pop()
        .filter(|d| d.join("initdb").is_file())
        .expect("PostgreSQL server binaries (scripts/setup.sh installs Debian's postgresql)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run_as_owner(bin: &std::path::Path, args: &[&str]) {
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin)
            .args(args)
            .status()
    } else {
        Command::new(bin).args(args).status()
    }
    .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert!(status.success(), "{} {args:?} failed", bin.display());
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("airscope-pg")
            .tempdir()
            .unwrap();
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success());
        }
        let data = dir.path().join("data");
        let data_s = data.to_str().unwrap();
        run_as_owner(
            &bin.join("initdb"),
            &[
                "-D",
                data_s,
                "-U",
                "airscope",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let pg = Postgres {
            url: format!("postgres://airscope@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            opts,
        };
        pg.pg_ctl(&["-w", "start"]);
        pg
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("log");
        let mut all = vec![
            "-D",
            data.to_str().unwrap(),
            "-o",
            &self.opts,
            "-l",
            log.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        run_as_owner(&self.bin.join("pg_ctl"), &all);
    }

    /// Crash the server (immediate shutdown: no checkpoint, every connection dropped), keep it
    /// down for `down`, and start it again on the same port and data.
    pub fn crash_and_restart(&self, down: std::time::Duration) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
        std::thread::sleep(down);
        self.pg_ctl(&["-w", "start"]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}
