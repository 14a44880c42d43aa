//! A small SFTP client (russh + russh-sftp) that pushes and fetches files the way a creditor's
//! or a municipality's system does.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use tokio::io::AsyncWriteExt;

/// Accepts any host key: the demo talks to the daemon it started itself.
struct TrustOwnDaemon;

impl russh::client::Handler for TrustOwnDaemon {
    type Error = russh::Error;

    async fn check_server_key(&mut self, _key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A logged-in SFTP session.
pub struct Client {
    sftp: SftpSession,
    _session: russh::client::Handle<TrustOwnDaemon>,
}

impl Client {
    /// Connects to `addr` as `user` with the OpenSSH private key at `key_path`.
    pub async fn connect(addr: SocketAddr, user: &str, key_path: &Path) -> anyhow::Result<Client> {
        let key = PrivateKey::read_openssh_file(key_path)
            .with_context(|| format!("reading SSH key {}", key_path.display()))?;
        let config = Arc::new(russh::client::Config::default());
        let mut session = russh::client::connect(config, addr, TrustOwnDaemon)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        let auth =
            session.authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), None)).await?;
        anyhow::ensure!(auth.success(), "the server refused the key of {user}");
        let channel = session.channel_open_session().await?;
        channel.request_subsystem(true, "sftp").await?;
        let sftp = SftpSession::new(channel.into_stream()).await?;
        Ok(Client { sftp, _session: session })
    }

    /// Uploads `data` as `remote` (written in 256 KiB pieces, closed at the end).
    pub async fn put(&self, data: &[u8], remote: &str) -> anyhow::Result<()> {
        let mut f = self.sftp.create(remote).await.with_context(|| format!("creating {remote}"))?;
        for chunk in data.chunks(256 * 1024) {
            f.write_all(chunk).await.with_context(|| format!("writing {remote}"))?;
        }
        f.shutdown().await.with_context(|| format!("closing {remote}"))?;
        Ok(())
    }

    /// Renames a file (an unfinished upload to its final name).
    pub async fn rename(&self, from: &str, to: &str) -> anyhow::Result<()> {
        self.sftp.rename(from, to).await.with_context(|| format!("renaming {from} to {to}"))?;
        Ok(())
    }

    /// Names in a folder, sorted.
    pub async fn list(&self, dir: &str) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<String> = self
            .sftp
            .read_dir(dir)
            .await
            .with_context(|| format!("listing {dir}"))?
            .map(|e| e.file_name())
            .filter(|n| n != "." && n != "..")
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads a whole file.
    pub async fn read(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        self.sftp.read(path).await.with_context(|| format!("reading {path}"))
    }

    /// Removes a file (in `/pickup`: acknowledges the pickup).
    pub async fn remove(&self, path: &str) -> anyhow::Result<()> {
        self.sftp.remove_file(path).await.with_context(|| format!("removing {path}"))
    }

    /// Ends the session.
    pub async fn close(self) -> anyhow::Result<()> {
        self.sftp.close().await?;
        Ok(())
    }
}
