//! The command line (`cachegraph --help`): subcommands with their options, each option also
//! settable by its environment variable, unknown arguments refused with usage. `main` only
//! sets up the process and calls [`main`].
mod admin;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{
    config::Config,
    telemetry::{self, LogFormat},
};

/// A GraphQL users API whose reads are cached in Redis, consistently and fail-open.
///
/// Settings come from the environment and a `.env` file (see README, "Configuration").
#[derive(Debug, Parser)]
#[command(name = "cachegraph", version, propagate_version = true)]
pub struct Cli {
    /// How log lines are written [env: LOG_FORMAT] [default: text].
    // The variables are read here, not by clap, so that an empty value counts as unset like
    // every other setting.
    #[arg(long, value_enum, global = true)]
    log_format: Option<LogFormat>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server until SIGINT or SIGTERM (migrations are applied at start).
    Serve {
        /// Where to listen [env: LISTEN_ADDR] [default: 127.0.0.1:8000].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Apply pending migrations to DATABASE_URL and exit.
    Migrate,
    /// Write the schema SDL to PATH, or to stdout. Needs no database.
    ExportSchema {
        /// Where to write it.
        path: Option<PathBuf>,
    },
    /// Administer users.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Set a user's password, read from stdin (or prompted for, unechoed, on a terminal);
    /// never from the command line.
    SetPassword {
        /// The user's email.
        email: String,
    },
}

/// Parses the command line (after `.env` is loaded), sets up logging and runs the command.
pub async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    if let Some(Command::ExportSchema { path }) = &cli.command {
        return export_schema(path.as_deref());
    }
    let log_format = match cli.log_format {
        Some(format) => format,
        None => match std::env::var("LOG_FORMAT").ok().filter(|v| !v.is_empty()) {
            None => LogFormat::default(),
            Some(value) => match <LogFormat as clap::ValueEnum>::from_str(&value, true) {
                Ok(format) => format,
                Err(_) => {
                    eprintln!("invalid LOG_FORMAT: `{value}` is not one of text, json");
                    return ExitCode::from(2);
                }
            },
        },
    };
    telemetry::init(log_format);
    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        None => crate::run(config).await.map_err(|e| e.to_string()),
        Some(Command::Serve { listen }) => {
            if let Some(listen) = listen {
                config.listen_addr = listen;
            }
            crate::run(config).await.map_err(|e| e.to_string())
        }
        Some(Command::Migrate) => migrate(&config).await.map_err(|e| e.to_string()),
        Some(Command::Admin(AdminCommand::SetPassword { email })) => {
            admin::set_password(config, &email).await
        }
        Some(Command::ExportSchema { .. }) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn export_schema(path: Option<&std::path::Path>) -> ExitCode {
    let sdl = crate::graphql::sdl();
    match path {
        Some(path) => match std::fs::write(path, sdl) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        },
        None => {
            print!("{sdl}");
            ExitCode::SUCCESS
        }
    }
}

async fn migrate(config: &Config) -> Result<(), crate::StartError> {
    let db = crate::db::connect(config).await?;
    crate::db::migrate(&db).await?;
    tracing::info!(database = %config.database.describe(), "migrations applied");
    Ok(())
}
