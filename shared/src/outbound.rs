//! Outbound HTTP(S) toward OAuth2 providers (token, userinfo, discovery). The requests
//! themselves are built by [`crate::oauth2`]; this module only sends them, with a timeout
//! and a cap on the answer's size, over the hyper/rustls stack the AWS SDK already links
//! (system trust roots, HTTP/1.1).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::oauth2::HttpRequest;

/// Largest provider answer read (discovery documents and ID tokens are a few KB).
pub const MAX_ANSWER: usize = 256 * 1024;
/// A provider that has not answered by then is treated as failing (the sessions function's
/// Lambda timeout in template.yaml leaves room for three such calls).
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A provider's answer: status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends one request. Errors are transport failures (no answer); HTTP error statuses are
/// answers.
#[async_trait]
pub trait Fetcher: Send + Sync {
    async fn send(&self, req: &HttpRequest) -> Result<Answer, String>;
}

pub type DynFetcher = Arc<dyn Fetcher>;

/// The production client.
pub struct HyperFetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HyperFetcher {
    /// A client trusting the system's roots (none readable: HTTPS providers fail, plain-HTTP
    /// loopback providers still work).
    pub fn new() -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::warn!("no system trust roots: HTTPS providers will fail");
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        // Idle connections are dropped after 30 s (without a timer they would never be).
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(HyperFetcher { client })
    }
}

#[async_trait]
impl Fetcher for HyperFetcher {
    async fn send(&self, req: &HttpRequest) -> Result<Answer, String> {
        let mut b = http::Request::builder()
            .method(req.method.as_str())
            .uri(req.url.as_str());
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        if !req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        {
            b = b.header("user-agent", "appwrite-account-rs");
        }
        let request = b
            .body(Full::new(Bytes::from(req.body.clone())))
            .map_err(|e| format!("request: {e}"))?;
        // One deadline for the whole exchange: connect, headers and body.
        let exchange = async {
            let res = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("transport: {e}"))?;
            let status = res.status().as_u16();
            let body = Limited::new(res.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| format!("answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| "timed out".to_string())??;
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The process-wide [`HyperFetcher`], built on first use (reading the trust roots once per
/// container, not per request or per state).
pub struct SharedFetcher;

#[async_trait]
impl Fetcher for SharedFetcher {
    async fn send(&self, req: &HttpRequest) -> Result<Answer, String> {
        static CLIENT: std::sync::OnceLock<Result<HyperFetcher, String>> =
            std::sync::OnceLock::new();
        match CLIENT.get_or_init(HyperFetcher::new) {
            Ok(c) => c.send(req).await,
            Err(e) => Err(e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A one-shot HTTP/1.1 server on loopback answering `body` with `status`.
    async fn serve_once(status: u16, body: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            }
        });
        format!("http://{addr}/x")
    }

    fn get(url: String) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url,
            headers: vec![],
            body: String::new(),
        }
    }

    #[tokio::test]
    async fn answers_are_read_and_oversized_ones_refused() {
        let f = HyperFetcher::new().expect("client");
        let ok = f
            .send(&get(serve_once(401, b"{\"error\":\"x\"}".to_vec()).await))
            .await;
        assert_eq!(
            ok,
            Ok(Answer {
                status: 401,
                body: "{\"error\":\"x\"}".into()
            })
        );
        let big = f
            .send(&get(serve_once(200, vec![b'a'; MAX_ANSWER + 1]).await))
            .await;
        assert!(big.is_err(), "{big:?}");
        let nobody = f.send(&get("http://127.0.0.1:9/".into())).await;
        assert!(nobody.is_err());
    }
}
