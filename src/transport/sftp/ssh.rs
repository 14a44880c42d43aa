//! The russh handler of one connection: authentication, session admission and channels.
//!
//! After a key is verified the session takes a slot (see [`super::limits`]); if none is free
//! the client is told why in an SSH disconnect message and `session_limit` is audited.
//! Only `session` channels and in them only the `sftp` subsystem are served; exec, shell,
//! pty, env, X11, agent and port forwarding are refused. Any error ends the connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use russh::keys::PublicKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelOpenFailure, Disconnect, MethodKind, MethodSet};
use serde_json::json;

use super::auth::{self, AuthLog, Denial};
use super::channel_slot::{ChannelSlot, ChannelSlots};
use super::fs::Fs;
use super::packet_limit::{Limited, OnOversize};
use super::server::{Shared, TicketRef};
use super::session::SessionCtx;
use crate::app::SessionKey;
use crate::audit::Outcome;
use crate::metrics::{LoginOutcome, LoginProtocol};

/// The handler of one SSH connection.
pub(super) struct SshHandler {
    shared: Arc<Shared>,
    origin: String,
    log: Arc<Mutex<AuthLog>>,
    /// Set once the session is admitted.
    ctx: Option<Arc<SessionCtx>>,
    /// Set when the key was good but no session slot was free: the disconnect message.
    refused: Option<String>,
    /// Session channels opened but not (yet) running SFTP, each with its place.
    channels: HashMap<ChannelId, (Channel<Msg>, ChannelSlot)>,
    /// The places for this connection's channels (at most `MAX_CHANNELS`).
    slots: ChannelSlots,
    /// The connection's place at the defender's gate.
    ticket: TicketRef,
    /// Notified when a new configuration no longer admits the session (`server.rs` ends it).
    closing: Arc<tokio::sync::Notify>,
    /// The session's entry among the open sessions, once admitted.
    registered: Option<crate::app::SessionGuard>,
}

fn publickey_only() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
        partial_success: false,
    }
}

impl SshHandler {
    pub fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        log: Arc<Mutex<AuthLog>>,
        ticket: TicketRef,
        closing: Arc<tokio::sync::Notify>,
    ) -> SshHandler {
        SshHandler {
            shared,
            origin: peer.to_string(),
            log,
            ctx: None,
            refused: None,
            channels: HashMap::new(),
            slots: ChannelSlots::default(),
            ticket,
            closing,
            registered: None,
        }
    }

    fn max_audited(&self) -> usize {
        self.shared.cfg.max_auth_attempts + 2
    }

    async fn deny(&self, d: Denial<'_>) -> Auth {
        let max = self.max_audited();
        auth::audit_denial(&self.shared.intake, &self.log, &self.origin, &self.ticket, max, d).await;
        publickey_only()
    }

    async fn deny_method(&mut self, user: &str, method: &'static str) -> Auth {
        auth::note_attempt(&self.log, &self.shared.intake.app().config(), user, method);
        let d = Denial { user, method, reason: "method_not_allowed", key: None };
        self.deny(d).await
    }

    /// Admits a verified party: takes a session slot and audits the login. A refusal for a
    /// session limit counts as a failed login.
    async fn admit(&mut self, party: crate::domain::party::PartyId, user: &str, key: &PublicKey) -> Auth {
        {
            // The login and the login timeout decide under one lock: a key verified just
            // after the deadline is refused, and one claimed first is never cut as timed out.
            let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            if log.timed_out {
                return Auth::reject();
            }
            log.concluded = true;
        }
        let fp = auth::fingerprint(key);
        let intake = &self.shared.intake;
        match self.shared.limits.acquire(party.as_str()) {
            Err(hit) => {
                intake.app().metrics().login(LoginProtocol::Sftp, LoginOutcome::Failed);
                tracing::warn!(party = %party, limit = hit.reason(), "SSH session refused: limit reached");
                let ev = crate::audit::Event::new(party.actor(), "session_limit", Outcome::Denied)
                    .auth(fp)
                    .origin(self.origin.clone())
                    .object(json!({ "limit": hit.reason(), "max": hit.limit() }));
                intake.app().audit().record(ev).await;
                self.refused = Some(hit.message(party.as_str()));
                self.log.lock().unwrap_or_else(|p| p.into_inner()).concluded = true;
                // Accepted only so the client can be told why in a disconnect message; no
                // channel is ever opened (see `auth_succeeded` and `channel_open_session`).
                Auth::Accept
            }
            Ok(slot) => {
                let sessions = intake.app().sessions();
                let key = SessionKey::Ssh { user: user.to_owned(), key: key.clone() };
                self.registered = Some(sessions.open(party.clone(), key, self.closing.clone()));
                let ctx =
                    SessionCtx::new(&self.shared, party, fp, self.origin.clone(), slot, self.ticket.clone());
                let ev = ctx.event("login", Outcome::Ok).object(json!({ "method": "publickey" }));
                if let Err(e) = intake.app().audit().emit(ev).await {
                    // Fail closed: a login that cannot be audited does not happen.
                    tracing::error!(error = %e, "could not audit a login; refusing it");
                    self.log.lock().unwrap_or_else(|p| p.into_inner()).concluded = false;
                    intake.app().metrics().login(LoginProtocol::Sftp, LoginOutcome::Failed);
                    return Auth::reject();
                }
                intake.app().metrics().login(LoginProtocol::Sftp, LoginOutcome::Ok);
                self.ticket.authenticated();
                tracing::info!(party = %ctx.party, origin = %self.origin, "SSH login");
                self.log.lock().unwrap_or_else(|p| p.into_inner()).concluded = true;
                self.ctx = Some(ctx);
                Auth::Accept
            }
        }
    }
}

impl russh::server::Handler for SshHandler {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        // Every OpenSSH client starts with "none" to learn the methods: not audited by itself;
        // a client that keeps sending it is probing and is scored.
        if auth::note_none(&self.log, &self.shared.intake.app().config(), user) {
            self.ticket.strike(crate::transport::defender::Strike::ProtocolError).await;
        }
        Ok(publickey_only())
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        Ok(self.deny_method(user, "password").await)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.deny_method(user, "keyboard-interactive").await)
    }

    async fn auth_openssh_certificate(
        &mut self,
        user: &str,
        _certificate: &russh::keys::Certificate,
    ) -> Result<Auth, Self::Error> {
        Ok(self.deny_method(user, "publickey-certificate").await)
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let config = self.shared.intake.app().config();
        auth::note_attempt(&self.log, &config, user, "publickey");
        let key = Some((offer.public_key, offer.algorithm));
        let reason = if !auth::algorithm_allowed(offer.algorithm) {
            "algorithm_refused"
        } else if config.party_for_ssh_key(user, offer.public_key).is_some() {
            return Ok(Auth::Accept);
        } else if config.is_party(user) {
            "key_not_registered"
        } else {
            "unknown_user"
        };
        Ok(self.deny(Denial { user, method: "publickey", reason, key }).await)
    }

    async fn auth_publickey(&mut self, user: &str, key: VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        // Checked again after the signature: never rely on the offer alone.
        let config = self.shared.intake.app().config();
        auth::note_attempt(&self.log, &config, user, "publickey");
        let party = config.party_for_ssh_key(user, key.public_key);
        let (Some(party), true) = (party, auth::algorithm_allowed(key.algorithm)) else {
            let d = Denial {
                user,
                method: "publickey",
                reason: "key_not_registered",
                key: Some((key.public_key, key.algorithm)),
            };
            return Ok(self.deny(d).await);
        };
        if self.ctx.is_some() || self.refused.is_some() {
            return Ok(Auth::reject()); // already decided on this connection
        }
        Ok(self.admit(party, user, key.public_key).await)
    }

    async fn auth_succeeded(&mut self, session: &mut Session) -> Result<(), Self::Error> {
        match (&self.ctx, &self.refused) {
            (Some(_), None) => Ok(()),
            (_, Some(msg)) => session.disconnect(Disconnect::TooManyConnections, msg, "en"),
            (None, None) => session.disconnect(Disconnect::ByApplication, "not admitted", "en"),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.ctx.is_none() || self.refused.is_some() {
            reply.reject(ChannelOpenFailure::AdministrativelyProhibited).await;
        } else if let Some(slot) = self.slots.take() {
            self.channels.insert(channel.id(), (channel, slot));
            reply.accept().await;
        } else {
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
        }
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let ctx = self.ctx.clone().filter(|_| name == "sftp");
        match (ctx, self.channels.remove(&channel)) {
            (Some(ctx), Some((ch, slot))) => {
                session.channel_success(channel)?;
                tracing::debug!(party = %ctx.party, "SFTP subsystem started");
                let cfg = russh_sftp::server::Config { max_client_packet_len: super::MAX_CLIENT_PACKET };
                let stderr = ch.make_writer_ext(Some(1));
                let refused = ctx.clone();
                let on_oversize: OnOversize = Box::new(move |len| {
                    Box::pin(async move {
                        tracing::warn!(party = %refused.party, len, "SFTP packet over the limit; channel closed");
                        refused.denied("packet", None, "packet_too_large").await;
                    })
                });
                let stream = Limited::new(ch.into_stream(), stderr, super::MAX_CLIENT_PACKET, on_oversize);
                // The SFTP handler holds the channel's place until its stream ends.
                russh_sftp::server::run_with_config(stream, Fs::new(ctx).holding(slot), cfg).await;
            }
            (_, ch) => {
                if let Some(entry) = ch {
                    self.channels.insert(channel, entry);
                }
                if let Some(ctx) = &self.ctx {
                    ctx.denied("subsystem", None, "only_sftp").await;
                }
                session.channel_failure(channel)?;
            }
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(ctx) = &self.ctx {
            ctx.denied("exec", None, "only_sftp").await;
        }
        session.channel_failure(channel)?;
        self.channels.remove(&channel);
        session.close(channel)
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        if let Some(ctx) = &self.ctx {
            ctx.denied("shell", None, "only_sftp").await;
        }
        session.channel_failure(channel)?;
        self.channels.remove(&channel);
        session.close(channel)
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        // The client will send nothing more: close our side too (some clients wait for it).
        // A channel running SFTP is closed when its handler has answered every request it
        // read and drops the stream (russh's `ChannelCloseOnDrop`), so no answer is cut off.
        if self.channels.remove(&channel).is_some() {
            session.close(channel)?;
        }
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        // Its place goes back with it; a channel running SFTP gives it back when its stream ends.
        self.channels.remove(&channel);
        Ok(())
    }
}
