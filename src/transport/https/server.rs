//! The HTTPS listener: accept → TLS handshake (with timeout) → client certificate → party →
//! HTTP/1.1 or HTTP/2 on that connection.
//!
//! Every accepted connection passes the defender's gate first (bans, per-origin and
//! unauthenticated limits: `transport/defender`); a refused one is closed before any TLS byte
//! is read. A party over `max_connections_per_party` gets `503 too_many_connections`.
//! Nothing of a request is parsed before the handshake has verified a client certificate.
//! A verified certificate that maps to no party gets `403 unknown_certificate` on every
//! request; a certificate revoked after the handshake is refused on its next request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::CertificateDer;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::error::ApiError;
use super::identity::PeerCert;
use super::routes::{self, Api};
use super::taken::Taken;
use super::tls::Reloading;
use super::wire::{Tap, Wire};
use crate::app::SessionKey;
use crate::audit::{Event, Outcome};
use crate::config::{HttpsConfig, TlsIdentity};
use crate::domain::party::{Credential, PartyId};
use crate::intake::Intake;
use crate::metrics::{LoginOutcome, LoginProtocol, Refusal};
use crate::transport::defender::party::{Limits, Slot};
use crate::transport::defender::{Defender, Gate, Strike, Ticket};

/// Most headers in one request (hyper answers 431 beyond).
const MAX_HEADERS: usize = 64;

/// Largest request head, start line and headers, in bytes (hyper answers 431 beyond).
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long open connections get to finish after shutdown is signalled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Most refused handshakes audited per minute (the rest are counted in the log), so a
/// scanner cannot flood the audit log.
const MAX_HANDSHAKE_AUDITS_PER_MINUTE: u64 = 60;

/// The authenticated party of a request (set by the guard for the handlers).
pub struct Peer {
    /// The party.
    pub party: PartyId,
    /// Its certificate.
    pub cert: PeerCert,
    /// Where it connects from.
    pub origin: SocketAddr,
}

/// What one connection knows after its handshake.
struct Conn {
    cert: PeerCert,
    chain: Vec<CertificateDer<'static>>,
    origin: SocketAddr,
    party: Option<PartyId>,
    /// The TLS generation this chain was last verified under.
    verified_under: AtomicU64,
    /// Whether a refusal was already audited for this connection.
    refused_audited: AtomicBool,
    /// The party's connection slot; `Err` with the message when the party has its maximum.
    slot: Result<Option<Slot>, String>,
}

/// Shared by the accept loop and its connections.
pub(super) struct Shared {
    pub(super) intake: Intake,
    pub(super) cfg: HttpsConfig,
    pub(super) tls: Arc<Reloading>,
    router: Router,
    handshake_audits: AtomicU64,
    parties: Arc<Limits>,
    /// Byte ranges of pickup files taken, across connections.
    taken: Arc<Taken>,
}

/// Serves HTTPS on `listener` until `shutdown` becomes `true`.
///
/// Loads the certificates, key, CAs and CRLs first (an error here stops start-up), then
/// watches those files (every `crl_check_secs`, and at once when `files_changed` is
/// notified) and swaps in a new TLS configuration when one changes.
pub async fn serve(
    intake: Intake,
    cfg: HttpsConfig,
    defender: Arc<Defender>,
    listener: TcpListener,
    files_changed: Arc<tokio::sync::Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let tls = Arc::new(Reloading::new(cfg.clone())?);
    let pace = routes::BodyPace { idle: cfg.idle_timeout, min_bytes_per_sec: cfg.min_body_bytes_per_sec };
    let api = Api { intake: intake.clone(), pace };
    let guard_state = GuardState { tls: tls.clone(), intake: intake.clone() };
    let router = routes::router(api).layer(axum::middleware::from_fn_with_state(guard_state, guard));
    let gate = Gate::new(defender, LoginProtocol::Https, cfg.max_connections);
    let parties = Limits::new("connections", cfg.max_connections, cfg.max_connections_per_party);
    let shared = Arc::new(Shared {
        intake,
        cfg,
        tls,
        router,
        handshake_audits: AtomicU64::new(0),
        parties,
        taken: Arc::new(Taken::default()),
    });
    tokio::spawn(super::crl_watch::watch_files(shared.clone(), files_changed, shutdown.clone()));
    tokio::spawn(reset_audit_budget(shared.clone(), shutdown.clone()));
    let mut conns = tokio::task::JoinSet::new();
    tracing::info!(addr = %listener.local_addr()?, "HTTPS serving");
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let (tcp, origin) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "HTTPS accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // Refusals are counted and summarised by the defender, not logged here.
                let Ok(ticket) = gate.admit(origin.ip()) else { continue };
                let (shared, stop) = (shared.clone(), shutdown.clone());
                conns.spawn(connection(shared, tcp, origin, ticket, stop));
            }
        }
        while conns.try_join_next().is_some() {}
    }
    tracing::info!(connections = conns.len(), "HTTPS stopping");
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while conns.join_next().await.is_some() {} }).await;
    conns.abort_all();
    Ok(())
}

/// One connection from handshake to close.
async fn connection(
    shared: Arc<Shared>,
    tcp: TcpStream,
    origin: SocketAddr,
    ticket: Ticket,
    mut stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().unwrap_or(origin);
    let loaded = shared.tls.current();
    let acceptor = tokio_rustls::TlsAcceptor::from(loaded.server.clone());
    // What the kernel says of this connection's bytes, for pickups (`taken.rs`).
    let wire = Arc::new(Wire::new(local, origin));
    let tcp = Tap::under_tls(tcp, wire.clone());
    let tls = match tokio::time::timeout(shared.cfg.handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return handshake_refused(&shared, origin, &ticket, &e).await,
        Err(_) => {
            tracing::debug!(%origin, "TLS handshake timed out");
            ticket.cut(Refusal::AuthTimeout);
            return ticket.strike(Strike::AuthTimeout).await;
        }
    };
    ticket.authenticated();
    let chain: Vec<CertificateDer<'static>> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let Some(end) = chain.first() else {
        // The verifier requires a certificate, so this does not happen; fail closed anyway.
        return;
    };
    let cert = PeerCert::read(end);
    let party = shared.intake.app().config().party_for_certificate(&cert.fingerprint, cert.oin.as_deref());
    audit_login(&shared, &cert, party.as_ref(), origin).await;
    let slot = match &party {
        None => Ok(None),
        Some(p) => shared.parties.acquire(p.as_str()).map(Some).map_err(|hit| {
            ticket.cut(Refusal::PartyConnections);
            hit.message(p.as_str())
        }),
    };
    // Notified when a reloaded configuration no longer admits this certificate for the party.
    let closing = Arc::new(tokio::sync::Notify::new());
    let _registered = party.as_ref().map(|p| {
        let key = SessionKey::Certificate { fingerprint: cert.fingerprint, oin: cert.oin.clone() };
        shared.intake.app().sessions().open(p.clone(), key, closing.clone())
    });
    let conn = Arc::new(Conn {
        cert,
        chain,
        origin,
        party,
        verified_under: AtomicU64::new(loaded.generation),
        refused_audited: AtomicBool::new(false),
        slot,
    });
    let router = shared.router.clone();
    let link = (wire.clone(), shared.taken.clone());
    let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(conn.clone());
        req.extensions_mut().insert(link.clone());
        router.clone().oneshot(req.map(Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The header timeout is a deadline for the whole head (hyper does not restart it per byte).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.cfg.idle_timeout)
        .max_buf_size(256 * 1024)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEADER_BYTES);
    let conn = builder.serve_connection(TokioIo::new(Tap::over_tls(tls, wire)), service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%origin, error = %e, "HTTPS connection ended with an error");
                }
                break;
            }
            () = closing.notified() => {
                tracing::info!(%origin, "HTTPS connection closed: the configuration no longer admits its certificate");
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// What the guard needs.
#[derive(Clone)]
struct GuardState {
    tls: Arc<Reloading>,
    intake: Intake,
}

/// Checks every request: a known party, and a certificate still valid under the current
/// CRLs (re-verified when they changed since the handshake).
async fn guard(
    State(GuardState { tls, intake }): State<GuardState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(conn) = req.extensions().get::<Arc<Conn>>().cloned() else {
        return ApiError::new(StatusCode::FORBIDDEN, "no_certificate", "a client certificate is required")
            .into_response();
    };
    let Some(party) = conn.party.clone() else {
        let msg = format!(
            "this certificate (SHA-256 {}) is not configured for any party; give its fingerprint or OIN to the operator",
            conn.cert.fingerprint_hex()
        );
        return ApiError::new(StatusCode::FORBIDDEN, "unknown_certificate", msg).into_response();
    };
    if let Err(msg) = &conn.slot {
        let mut resp = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_connections", msg.clone())
            .into_response();
        resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    let current = tls.current();
    if conn.verified_under.load(Ordering::SeqCst) != current.generation {
        match current.verify(&conn.chain) {
            Ok(()) => conn.verified_under.store(current.generation, Ordering::SeqCst),
            Err(e) => {
                let reason = reason_of(&e);
                tracing::info!(party = %party, reason, "HTTPS request refused: certificate no longer valid");
                intake.app().metrics().login(LoginProtocol::Https, LoginOutcome::Failed);
                if !conn.refused_audited.swap(true, Ordering::SeqCst) {
                    let ev = Event::new(party.actor(), "login", Outcome::Denied)
                        .auth(Credential::Certificate(conn.cert.fingerprint_hex()).audit_text())
                        .origin(conn.origin.to_string())
                        .object(json!({ "protocol": "https", "method": "mtls", "reason": reason, "after_handshake": true }));
                    intake.app().audit().record(ev).await;
                }
                let mut resp = ApiError::new(
                    StatusCode::FORBIDDEN,
                    "certificate_refused",
                    format!(
                        "the client certificate is no longer accepted ({reason}); use a valid certificate"
                    ),
                )
                .into_response();
                resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return resp;
            }
        }
    }
    req.extensions_mut().insert(Arc::new(Peer { party, cert: conn.cert.clone(), origin: conn.origin }));
    next.run(req).await
}

/// A short, stable reason for a certificate or handshake error.
fn reason_of(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Revoked => "revoked",
            C::Expired | C::ExpiredContext { .. } => "expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "not_yet_valid",
            C::UnknownIssuer => "unknown_ca",
            C::BadSignature => "bad_signature",
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => "not_a_client_certificate",
            C::UnknownRevocationStatus => "unknown_revocation_status",
            C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => "crl_stale",
            _ => "certificate_invalid",
        },
        rustls::Error::NoCertificatesPresented => "no_client_certificate",
        rustls::Error::PeerIncompatible(_) => "protocol_incompatible",
        rustls::Error::PeerMisbehaved(_) => "protocol_error",
        rustls::Error::InappropriateHandshakeMessage { .. } | rustls::Error::InappropriateMessage { .. } => {
            "protocol_error"
        }
        _ => "tls_error",
    }
}

/// A failed handshake: counted and scored (a summary line per 10 s, not a line each), and
/// audited within the per-minute budget.
async fn handshake_refused(shared: &Shared, origin: SocketAddr, ticket: &Ticket, e: &std::io::Error) {
    let reason = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map_or("connection_closed", reason_of);
    tracing::debug!(%origin, reason, "TLS handshake refused");
    if reason == "connection_closed" {
        return;
    }
    ticket.cut(Refusal::HandshakeFailed);
    // A stale CRL is ours to fix, not the client's fault: no strike.
    if reason != "crl_stale" {
        ticket.strike(Strike::HandshakeFailed).await;
    }
    shared.intake.app().metrics().login(LoginProtocol::Https, LoginOutcome::Failed);
    if shared.handshake_audits.fetch_add(1, Ordering::SeqCst) >= MAX_HANDSHAKE_AUDITS_PER_MINUTE {
        return;
    }
    let ev = Event::new("unknown", "login", Outcome::Denied)
        .origin(origin.to_string())
        .object(json!({ "protocol": "https", "method": "mtls", "reason": reason }));
    shared.intake.app().audit().record(ev).await;
}

async fn audit_login(shared: &Shared, cert: &PeerCert, party: Option<&PartyId>, origin: SocketAddr) {
    let outcome = if party.is_some() { LoginOutcome::Ok } else { LoginOutcome::Failed };
    shared.intake.app().metrics().login(LoginProtocol::Https, outcome);
    let auth = Credential::Certificate(cert.fingerprint_hex()).audit_text();
    let ev = match party {
        Some(p) => {
            tracing::info!(party = %p, %origin, "HTTPS login");
            let by_oin = cert.oin.as_ref().is_some_and(|o| {
                let config = shared.intake.app().config();
                let oin = TlsIdentity::Oin(o.clone());
                config.parties().any(|(_, _, tls)| *tls == oin)
            });
            Event::new(p.actor(), "login", Outcome::Ok).object(json!({
                "protocol": "https",
                "method": "mtls",
                "by": if by_oin { "oin" } else { "fingerprint" },
            }))
        }
        None => {
            tracing::info!(%origin, "HTTPS login refused: certificate not configured for any party");
            Event::new("unknown", "login", Outcome::Denied).object(json!({
                "protocol": "https",
                "method": "mtls",
                "reason": "unknown_certificate",
                "oin_present": cert.oin.is_some(),
            }))
        }
    };
    shared.intake.app().audit().record(ev.auth(auth).origin(origin.to_string())).await;
}

/// Refills the handshake audit budget every minute.
async fn reset_audit_budget(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        let over =
            shared.handshake_audits.swap(0, Ordering::SeqCst).saturating_sub(MAX_HANDSHAKE_AUDITS_PER_MINUTE);
        if over > 0 {
            tracing::warn!(not_audited = over, "many refused TLS handshakes in the last minute");
        }
    }
}
