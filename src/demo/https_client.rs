//! A small HTTPS client with a client certificate (rustls), the way a creditor's system
//! pushes files: used by `meldpunt demo` and the integration tests.
//!
//! One request per connection (`Connection: close`); the same `HttpsClient` reuses its TLS
//! session cache, so a second request *offers* resumption — the server must not take it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind, RootCertStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::tls::{load_certs, load_key};

/// A client for one server with one client certificate.
pub struct HttpsClient {
    config: Arc<ClientConfig>,
    addr: SocketAddr,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Whether the TLS session was resumed.
    pub resumed: bool,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("the answer is not JSON")
    }
}

impl HttpsClient {
    /// A client trusting `ca` for the server and presenting `cert`/`key`.
    pub fn new(addr: SocketAddr, ca: &Path, cert: &Path, key: &Path) -> anyhow::Result<HttpsClient> {
        let mut roots = RootCertStore::empty();
        for c in load_certs(ca).map_err(anyhow::Error::msg).context("CA file")? {
            roots.add(c)?;
        }
        let chain = load_certs(cert).map_err(anyhow::Error::msg).context("client certificate")?;
        let key = load_key(key).map_err(anyhow::Error::msg).context("client key")?;
        let config = ClientConfig::builder_with_provider(crate::transport::https::tls::provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)?;
        Ok(HttpsClient { config: Arc::new(config), addr })
    }

    /// Sends one request and reads the whole answer.
    pub async fn request(&self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<Answer> {
        let tcp =
            TcpStream::connect(self.addr).await.with_context(|| format!("connecting to {}", self.addr))?;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let name = ServerName::try_from("localhost").expect("valid name");
        let mut tls = connector.connect(name, tcp).await.context("TLS handshake")?;
        let resumed = tls.get_ref().1.handshake_kind() == Some(HandshakeKind::Resumed);
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await?;
        tls.write_all(body).await?;
        tls.flush().await?;
        let mut raw = Vec::new();
        // A server that closes without close_notify still gave a complete answer.
        if let Err(e) = tls.read_to_end(&mut raw).await
            && raw.is_empty()
        {
            return Err(e).context("reading the answer");
        }
        parse(&raw, resumed)
    }
}

/// Splits a raw HTTP/1.1 answer (Content-Length or chunked body).
fn parse(raw: &[u8], resumed: bool) -> anyhow::Result<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").context("no HTTP header in the answer")?;
    let head = std::str::from_utf8(&raw[..end]).context("header is not text")?;
    let status =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("no status in the answer")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let mut body = raw[end + 4..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(Answer { status, body, resumed })
}

fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").context("bad chunk")?;
        let size_text = std::str::from_utf8(&data[..line_end])?.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).context("bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        anyhow::ensure!(data.len() >= size + 2, "truncated chunk");
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_length_and_chunked_bodies() {
        let a = parse(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}", false).unwrap();
        assert_eq!((a.status, a.body.as_slice()), (201, &b"{}"[..]));
        let a = parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            true,
        )
        .unwrap();
        assert_eq!(a.body, b"abcde");
        assert!(parse(b"garbage", false).is_err());
    }
}
