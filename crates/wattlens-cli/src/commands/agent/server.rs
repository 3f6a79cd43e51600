//! The HTTP side of the agent (hyper's HTTP/1 server on a one-thread tokio runtime):
//! `/metrics` (OpenMetrics when the scraper's `Accept` asks for it, else the classic text
//! format; gzip-compressed when `Accept-Encoding` allows, as Prometheus' does), `/healthz` (200
//! and what was lost, as text; 503 once the sampler missed 5 publications in a row) and `/` (a small
//! page that refreshes
//! itself, no external assets). With a token, `/metrics` and `/` require `Authorization: Bearer
//! TOKEN`; `/healthz` stays open (it says nothing about workloads). Only GET and HEAD are
//! answered (405 otherwise). A connection that has not sent a whole request head within
//! [`HEADER_TIMEOUT`] is closed, and the open connections are bounded ([`super::conns`]), so
//! idle or slow clients cannot take the file descriptors the sampler needs.

use super::{Body, Published};
use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE,
};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The listen backlog: 200 scrapers connecting at once must not overflow it (a dropped SYN
/// costs its scraper a 1 s retransmission).
const BACKLOG: u32 = 1024;

/// How long a connection may take to send a whole request head, from its opening or its last
/// response: a scraper sends one at once; a client that holds a connection idle is dropped.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds `addr` (the error names `--listen`); it listens once the server runs.
pub fn bind(addr: SocketAddr) -> Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .context("cannot open a socket")?;
    // A restarted agent takes its port back at once (TIME_WAIT connections of the last one).
    socket
        .set_reuseaddr(true)
        .context("cannot set SO_REUSEADDR")?;
    socket.bind(addr).with_context(|| {
        format!("cannot listen on {addr} (--listen): is another agent or program using the port?")
    })?;
    Ok(socket)
}

/// Serves until the process ends.
pub fn serve(
    socket: tokio::net::TcpSocket,
    published: Arc<Mutex<Published>>,
    token: Option<String>,
    max_connections: usize,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the HTTP server's runtime")?;
    let token: Option<Arc<str>> = token.map(Into::into);
    rt.block_on(async move {
        let listener = socket.listen(BACKLOG).context("cannot listen (--listen)")?;
        let open = super::conns::Open::new(max_connections);
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                // Out of descriptors (EMFILE, ENFILE) or an aborted connection: wait a little
                // rather than spin on an error that repeats at once.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (ticket, closed) = open.admit();
            let published = Arc::clone(&published);
            let token = token.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let r = respond(&req, &published, token.as_deref());
                    async move { Ok::<_, std::convert::Infallible>(r) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                ticket.serve(conn).await;
            });
            if closed {
                // Let the closed connection's task drop its socket before the next accept.
                tokio::task::yield_now().await;
            }
        }
    })
}

fn reply(status: StatusCode, ctype: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    r
}

fn respond(
    req: &Request<Incoming>,
    published: &Mutex<Published>,
    token: Option<&str>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"only GET and HEAD are answered\n"),
        );
        r.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Ok(mut p) = published.lock() else {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"the agent's figures are unavailable\n"),
        );
    };
    if path == "/healthz" && p.stale() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"stale: 5 publications in a row missed; the sampler is stuck\n"),
        );
    }
    if path == "/healthz" {
        return reply(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            p.health.clone(),
        );
    }
    if !matches!(path, "/metrics" | "/") {
        return reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"not found: try /metrics, /healthz or /\n"),
        );
    }
    if let Some(t) = token {
        let ok = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 section 11.1): `bearer TOKEN` too.
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token)
            })
            .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), t.as_bytes()));
        if !ok {
            let mut r = reply(
                StatusCode::UNAUTHORIZED,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"a bearer token is required (Authorization: Bearer TOKEN)\n"),
            );
            r.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    if path == "/" {
        return reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            p.body(Body::Page),
        );
    }
    // A header given more than once is one list (RFC 9110 section 5.3): `Accept: a` and
    // `Accept: b` mean `Accept: a, b` (hostile round 6: only the first was read).
    let header = |name| {
        let all: Vec<&str> = req
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!all.is_empty()).then(|| all.join(","))
    };
    let wants_om = super::accept::wants_openmetrics(header(ACCEPT).as_deref());
    let gzip = super::accept::wants_gzip(header(ACCEPT_ENCODING).as_deref());
    let (ctype, body) = match (wants_om, gzip) {
        (true, false) => (OPENMETRICS, p.body(Body::OpenMetrics)),
        (true, true) => (OPENMETRICS, p.body(Body::OpenMetricsGz)),
        (false, false) => (TEXT, p.body(Body::Text)),
        (false, true) => (TEXT, p.body(Body::TextGz)),
    };
    let mut r = reply(StatusCode::OK, ctype, body);
    if gzip {
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// Compares two secrets in time that depends on their lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
