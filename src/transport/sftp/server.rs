//! The SFTP listener: accept loop, per-connection task, russh configuration and shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::Disconnect;
use russh::keys::PrivateKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::auth::{self, AuthLog};
use super::hostkey::load_or_create_host_key;
use super::killable::Killable;
use super::ssh::SshHandler;
use crate::config::SftpConfig;
use crate::intake::Intake;
use crate::metrics::{LoginProtocol, Refusal};
use crate::transport::defender::party::Limits;
use crate::transport::defender::{Defender, Gate, Strike, Ticket};

/// How long running sessions get to end after shutdown is signalled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a client told to disconnect (auth timeout, shutdown) has before its connection
/// is cut.
const DISCONNECT_GRACE: Duration = Duration::from_secs(2);

/// What every connection of a listener shares.
pub(super) struct Shared {
    pub intake: Intake,
    pub cfg: SftpConfig,
    pub limits: Arc<Limits>,
    /// Each party's recent uploads, for its other sessions.
    pub recent: Arc<super::recent::Recent>,
}

/// What the SSH handler of one connection holds of the defender.
pub(super) type TicketRef = Arc<Ticket>;

/// The russh server configuration (tuning from ENGINEERING.md; the algorithms in `offer`).
fn ssh_config(cfg: &SftpConfig, key: PrivateKey) -> russh::server::Config {
    russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-meldpunt".into()),
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_secs(1),
        // OpenSSH's initial "none" probe is answered at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        max_auth_attempts: cfg.max_auth_attempts.max(1),
        inactivity_timeout: Some(cfg.idle_timeout),
        keepalive_interval: None,
        window_size: 16 * 1024 * 1024,
        maximum_packet_size: 65535,
        channel_buffer_size: 1024,
        nodelay: true,
        preferred: super::offer::preferred(),
        ..Default::default()
    }
}

/// Serves SFTP on `listener` until `shutdown` becomes `true` (or its sender is dropped).
///
/// Loads (or creates) the host key at `cfg.host_key` first. On shutdown it stops
/// accepting, disconnects every session ("meldpunt is shutting down") and waits up to
/// 10 seconds for them to end; uploads not yet committed are discarded (their clients got
/// no OK and upload again). Returns an error only if the host key cannot be loaded.
pub async fn serve(
    intake: Intake,
    cfg: SftpConfig,
    defender: Arc<Defender>,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let key = load_or_create_host_key(&cfg.host_key)?;
    serve_with_key(intake, cfg, key, defender, listener, shutdown).await
}

/// Like [`serve`], with a host key the caller loaded already (so that a bad key stops the
/// daemon before it reports itself ready). Never returns an error.
///
/// Every accepted connection passes the defender's gate first (bans, per-origin and
/// unauthenticated limits); a refused one is closed before the SSH banner.
pub async fn serve_with_key(
    intake: Intake,
    cfg: SftpConfig,
    key: PrivateKey,
    defender: Arc<Defender>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = Arc::new(ssh_config(&cfg, key));
    // Connections still authenticating count too (each for at most auth_timeout).
    let max_connections = cfg.max_sessions.saturating_mul(2).max(8);
    let gate = Gate::new(defender, LoginProtocol::Sftp, max_connections);
    let limits = Limits::new("sessions", cfg.max_sessions, cfg.max_sessions_per_party);
    let shared = Arc::new(Shared { intake, cfg, limits, recent: Arc::default() });
    let mut conns = JoinSet::new();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "SFTP serving");
    }
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done && e.is_panic() {
                    tracing::error!(error = %e, "SFTP connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Refusals are counted and summarised by the defender, not logged here.
                    let Ok(ticket) = gate.admit(peer.ip()) else { continue };
                    let ticket = Arc::new(ticket);
                    conns.spawn(connection(shared.clone(), config.clone(), stream, peer, ticket, shutdown.clone()));
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting an SFTP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(listener);
    tracing::info!(sessions = conns.len(), "SFTP stopping");
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tracing::warn!("SFTP sessions did not end in time; dropping them");
        conns.shutdown().await;
    }
    Ok(())
}

/// Runs one connection from the SSH banner to its end.
async fn connection(
    shared: Arc<Shared>,
    config: Arc<russh::server::Config>,
    stream: TcpStream,
    peer: SocketAddr,
    ticket: TicketRef,
    mut shutdown: watch::Receiver<bool>,
) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "set_nodelay failed");
    }
    let log = Arc::new(Mutex::new(AuthLog::default()));
    // Notified when a reloaded configuration no longer admits the party or its key.
    let closing = Arc::new(tokio::sync::Notify::new());
    let handler = SshHandler::new(shared.clone(), peer, log.clone(), ticket.clone(), closing.clone());
    let auth_timeout = shared.cfg.auth_timeout;
    let (stream, kill) = Killable::new(stream);
    let session =
        match tokio::time::timeout(auth_timeout, russh::server::run_stream(config, stream, handler)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "SSH handshake failed");
                ticket.cut(Refusal::HandshakeFailed);
                return ticket.strike(Strike::ProtocolError).await;
            }
            Err(_) => {
                tracing::debug!(%peer, "no SSH banner in time");
                ticket.cut(Refusal::AuthTimeout);
                return ticket.strike(Strike::AuthTimeout).await;
            }
        };
    let handle = session.handle();
    let deadline = tokio::time::sleep(auth_timeout);
    // Armed when the client was told to go: then its connection is cut.
    let cut = tokio::time::sleep(Duration::MAX);
    tokio::pin!(session, deadline, cut);
    let (mut timed_out, mut stopping, mut deadline_passed, mut cutting) = (false, false, false, false);
    let mut withdrawn = false;
    loop {
        let why = tokio::select! {
            result = &mut session => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "SSH session ended with an error");
                    if !log.lock().unwrap_or_else(|p| p.into_inner()).concluded {
                        ticket.cut(Refusal::HandshakeFailed);
                        ticket.strike(Strike::ProtocolError).await;
                    }
                }
                break;
            }
            () = &mut cut, if cutting => {
                kill.kill();
                cutting = false;
                continue;
            }
            () = &mut deadline, if !deadline_passed => {
                deadline_passed = true;
                let concluded = {
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    log.timed_out = !log.concluded;
                    log.concluded
                };
                if concluded {
                    continue;
                }
                timed_out = true;
                tracing::debug!(%peer, "SSH authentication timed out");
                ticket.cut(Refusal::AuthTimeout);
                ticket.strike(Strike::AuthTimeout).await;
                "authentication timed out"
            }
            () = closing.notified(), if !withdrawn => {
                withdrawn = true;
                tracing::info!(%peer, "SSH session closed: the configuration no longer admits its party or key");
                "access withdrawn: this user or key is no longer registered"
            }
            changed = shutdown.changed(), if !stopping => {
                if changed.is_ok() && !*shutdown.borrow() {
                    continue;
                }
                stopping = true;
                "meldpunt is shutting down; connect again in a minute"
            }
        };
        // Best effort (russh sends it only outside a key exchange); the cut follows anyway.
        let send = handle.disconnect(Disconnect::ByApplication, why.into(), "en".into());
        let _ = tokio::time::timeout(Duration::from_secs(1), send).await;
        if !cutting {
            cutting = true;
            cut.as_mut().reset(tokio::time::Instant::now() + DISCONNECT_GRACE);
        }
    }
    auth::audit_unfinished(&shared.intake, &log, &peer.to_string(), &ticket, timed_out).await;
}
