//! `traceline serve`: check the database and the address, migrate, then serve until SIGTERM or SIGINT.

use std::net::{SocketAddr, TcpListener};

use traceline_api::background::Background;
use traceline_api::{commands, AppState};

use crate::allocator;
use crate::args::ServeArgs;
use crate::database;
use crate::failure;

/// Everything an operator can get wrong is found before the server announces itself, each with its own message:
/// the database (unreachable, refused, missing, not writable), a restore in progress, the address (taken, not
/// permitted). Only then are migrations applied and requests served.
pub(crate) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    allocator::limit_malloc_arenas();
    let settings = args.settings();
    let _in_use = database::claim(&settings.database_url)?;
    let listener =
        TcpListener::bind(&args.bind).map_err(|error| failure::bind(&args.bind, &error))?;
    let state = AppState::new(settings);
    let applied = commands::migrate(&state.database)?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let address = listener.local_addr()?;
    log::info!("serving {} on http://{address}", state.settings.database_url);
    if !state.settings.trusted_proxies.is_empty() {
        log::info!(
            "client addresses from the forwarding headers of {}",
            state.settings.trusted_proxies
        );
    }
    let background = Background::start(&state);
    let served = actix_web::rt::System::new().block_on(async move {
        let server = traceline_api::run(listener, state)?;
        // Only now: the stop signals are handled from here on.
        announce(address);
        server.await
    });
    background.stop();
    served?;
    log::info!("stopped");
    Ok(())
}

/// One line on stdout once the port is bound, so scripts and tests that ask for port 0 learn the real one.
#[expect(clippy::print_stdout, reason = "the listening address is part of the command's output")]
fn announce(address: SocketAddr) {
    println!("traceline listening on http://{address}");
}
