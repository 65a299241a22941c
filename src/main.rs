//! `groupwork serve | migrate | create-user | demo | openapi`

use std::net::TcpListener;
use std::process::ExitCode;

use actix_web::web;
use clap::{Parser, Subcommand};

use groupwork::config::{ProcessEnv, Settings};
use groupwork::state::AppState;

#[derive(Parser)]
#[command(
    name = "groupwork",
    version,
    about = "Backend for closed interpersonal process groups"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the API.
    Serve,
    /// Run pending migrations only.
    Migrate,
    /// Create a staff user; the password is read from standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
    },
    /// Load the demo practice into an empty database and print the logins; with --scale N,
    /// add N large generated groups instead (for reports and benchmarks).
    Demo {
        #[arg(long)]
        scale: Option<u32>,
    },
    /// Re-encrypt every note under GROUPWORK_NOTES_KEY (the old key in GROUPWORK_NOTES_KEY_PREVIOUS).
    RotateNotesKey,
    /// Print the OpenAPI document (as committed in openapi/openapi.json).
    Openapi,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(true)
        .init();
}

fn main() -> ExitCode {
    groupwork::db::init_tls();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Openapi => {
            print!("{}", groupwork::openapi::document_json());
            Ok(())
        }
        Command::Migrate => groupwork::config::migration_database_url(&ProcessEnv)
            .map_err(anyhow::Error::from)
            .and_then(|url| groupwork::db::migrate(&url))
            .map(|n| println!("{n} migration(s) applied")),
        // The account's creation is an audit event, appended unsealed: `serve` chains it.
        Command::CreateUser { email, name, role } => Settings::database_url(&ProcessEnv)
            .map_err(anyhow::Error::from)
            .and_then(|url| {
                groupwork::db::migrate(&url)?;
                groupwork::cli::create_user(&url, &email, &name, &role)
            }),
        Command::Demo { scale: Some(n) } => Settings::database_url(&ProcessEnv)
            .map_err(anyhow::Error::from)
            .and_then(|url| {
                groupwork::db::migrate(&url)?;
                let hash = groupwork::auth::password::hash_password_blocking(
                    groupwork::demo::DEMO_PASSWORD,
                )?;
                groupwork::demo::scale::load(&url, n, &hash)
            }),
        Command::Demo { scale: None } => demo(),
        Command::RotateNotesKey => groupwork::notes::rotate::run(&ProcessEnv),
        Command::Serve => serve(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("groupwork: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo() -> anyhow::Result<()> {
    let url = Settings::database_url(&ProcessEnv)?;
    let (key, _) = groupwork::notes::crypto::keys_from_env(&ProcessEnv)?;
    groupwork::db::migrate(&url)?;
    groupwork::demo::run(
        &url,
        &groupwork::notes::crypto::NotesCipher::new(&key, None),
    )
}

/// Clinical texts stored before they were encrypted (an upgrade) are sealed now, once: the
/// database then holds none in clear (src/notes/fields.rs).
fn seal_legacy_texts(settings: &Settings) -> anyhow::Result<()> {
    use diesel::Connection;
    let cipher = groupwork::notes::crypto::NotesCipher::new(
        &settings.notes_key,
        settings.notes_key_previous.as_ref(),
    );
    let mut conn = diesel::PgConnection::establish(&settings.database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    let sealed = conn.transaction::<_, anyhow::Error, _>(|conn| {
        groupwork::notes::fields::seal_legacy(conn, &cipher)
    })?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "clinical texts stored in clear before encryption are sealed"
        );
    }
    Ok(())
}

fn serve() -> anyhow::Result<()> {
    let settings = Settings::from_env(&ProcessEnv)?;
    let migration_url = groupwork::config::migration_database_url(&ProcessEnv)?;
    init_logging();
    let applied = groupwork::db::migrate(&migration_url)?;
    tracing::info!(applied, "migrations up to date");
    seal_legacy_texts(&settings)?;
    let listener = TcpListener::bind(settings.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (GROUPWORK_BIND): {e}", settings.bind))?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let state = web::Data::new(AppState::new(settings.clone()));
    println!("groupwork listening on http://{}", settings.bind);
    actix_web::rt::System::new().block_on(async move {
        // Sessions kept GROUPWORK_SCHEDULE_WEEKS ahead (SPEC §2 v2): a sweep now, then hourly.
        groupwork::sessions::horizon::spawn(
            state.clone(),
            groupwork::sessions::horizon::SWEEP_EVERY,
        );
        // Old login attempts and expired tokens go; safe with several instances.
        groupwork::housekeeping::spawn(state.clone(), groupwork::housekeeping::EVERY);
        // Audit events are appended without a lock and linked into the chain here (issue 18);
        // safe with several instances.
        groupwork::audit::spawn_sealer(state.clone(), groupwork::audit::SEAL_EVERY);
        groupwork::app::run(state, listener, workers)?.await?;
        Ok(())
    })
}
