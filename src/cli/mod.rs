//! The `airscope` command line.

mod analyze;
mod decode;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::storage::keys::KeyStore;

#[derive(Parser)]
#[command(
    name = "airscope",
    version,
    about = "Self-hosted media intelligence with an AiR-compatible jobs API"
)]
struct Cli {
    /// TOML configuration file (environment variables AIRSCOPE_* override it).
    #[arg(long, global = true, env = "AIRSCOPE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API, the workers and the embedded storage.
    Serve {
        /// API only: run no workers in this process.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run workers only (no API, no embedded storage), joining the configured store and
    /// default storage (`storage.endpoint`).
    Worker,
    /// Analyse one local file without a server and write its metadata JSON.
    Analyze {
        file: PathBuf,
        /// Comma-separated services (default: every service this build offers).
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
        /// Folder for the metadata file.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Face gallery for the `face` service: one sub-folder of photos per person, named
        /// after them (each photo showing that person alone).
        #[arg(long)]
        faces: Option<PathBuf>,
        /// Logo gallery for the `logo` service: one sub-folder of reference images per logo,
        /// named after it.
        #[arg(long)]
        logos: Option<PathBuf>,
    },
    /// Decode a file the way jobs do and print, as JSON, the sampled frames, shots, audio
    /// and the time and memory it took (a diagnostic and benchmark tool).
    Decode(decode::Args),
    /// Manage the key pairs of the embedded storage and the API.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Fetch, list and verify model files.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key pair and print it (the secret is shown only here).
    Create {
        #[arg(long)]
        user: String,
        /// The key can read (GET) but not submit or cancel.
        #[arg(long)]
        view_only: bool,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download (pip), verify and unpack every model file that is missing or corrupt.
    Fetch,
    /// Show the manifest and what is present.
    List,
    /// Hash every model file against the manifest.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init_logging();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(async move {
        match cli.command {
            Command::Serve { no_workers } => serve::run(config, no_workers).await,
            Command::Worker => serve::run_workers(config).await,
            Command::Analyze {
                file,
                services,
                out,
                faces,
                logos,
            } => {
                let galleries = analyze::Galleries { faces, logos };
                analyze::run(config, file, services, out, galleries).await
            }
            Command::Decode(args) => decode::run(args),
            Command::Keys {
                command: KeysCommand::Create { user, view_only },
            } => create_key(config, &user, view_only).await,
            Command::Models { command } => models(config, command),
        }
    });
    // Do not wait for blocking tasks (a cancelled decode) longer than needed.
    rt.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The store and the key store of this configuration.
async fn open_keys(
    config: &Config,
) -> anyhow::Result<(Arc<dyn crate::store::Store>, MasterKey, Arc<KeyStore>)> {
    let master = MasterKey::load_or_create(&config.data_dir)?;
    let store = crate::store::open(&config.store_url(), config.busy_timeout()).await?;
    let keys = Arc::new(KeyStore::new(
        store.clone(),
        master.clone(),
        Duration::from_secs(config.api.key_cache_ttl_secs),
    ));
    Ok((store, master, keys))
}

async fn create_key(config: Config, user: &str, view_only: bool) -> anyhow::Result<()> {
    if user.is_empty()
        || user.len() > 64
        || !user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        anyhow::bail!("--user must be 1..64 letters, digits, `-`, `_`, `.` or `@`");
    }
    let (_, _, keys) = open_keys(&config).await?;
    let k = keys.create(user, view_only).await?;
    println!("user: {}", k.user_id);
    println!("access_key: {}", k.access_key);
    println!("secret_key: {}", k.secret_key);
    println!("view_only: {}", k.view_only);
    Ok(())
}

fn models(config: Config, command: ModelsCommand) -> anyhow::Result<()> {
    use crate::models::{fetch_all, remove_retired, verify, MANIFEST};
    let dir = config.models_dir();
    match command {
        ModelsCommand::Fetch => {
            let fetched = fetch_all(&dir)?;
            if fetched.is_empty() {
                println!("all models present and verified in {}", dir.display());
            } else {
                println!("fetched {} into {}", fetched.join(", "), dir.display());
            }
            for f in remove_retired(&dir) {
                println!("removed {f}, which this version no longer uses");
            }
        }
        ModelsCommand::List => {
            for m in MANIFEST {
                let state = if dir.join(m.dest).is_file() {
                    "present"
                } else {
                    "missing"
                };
                let from: Vec<String> = m
                    .parts
                    .iter()
                    .map(|p| format!("{}=={} {}", p.package, p.version, p.member))
                    .collect();
                println!(
                    "{:<14} {:<8} {} ({})",
                    m.name,
                    state,
                    from.join(" + "),
                    m.purpose
                );
            }
        }
        ModelsCommand::Verify => {
            let mut bad = 0;
            for m in MANIFEST {
                match verify(&dir, m) {
                    Ok(()) => println!("{:<14} ok", m.name),
                    Err(e) => {
                        bad += 1;
                        println!("{:<14} {e}", m.name);
                    }
                }
            }
            if bad > 0 {
                anyhow::bail!("{bad} model file(s) missing or corrupt");
            }
        }
    }
    Ok(())
}
