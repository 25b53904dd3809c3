//! What every request passes before a route sees it.
//!
//! - DNS rebinding: a page on `evil.example` whose name is made to resolve to
//!   127.0.0.1 reaches this server with `Host: evil.example`. Only the
//!   server's own names are answered; a cross-site `Origin` is refused too.
//! - CSRF: a method other than GET/HEAD must carry the per-process token in
//!   `X-CSRF-Token` or `?csrf=` (only this server's own pages hold it, and
//!   another site cannot read them: no CORS, and a foreign Origin is refused).
//! - Every answer gets a strict Content-Security-Policy (only this server's
//!   script and style; no inline code), `nosniff` and no framing.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Shared, html, pages};

/// The `Host` values a server on `addr` answers to: the address as bound,
/// and `localhost` when it is a loopback one.
pub fn allowed_hosts(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut hosts = vec![match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{port}"),
        IpAddr::V6(ip) => format!("[{ip}]:{port}"),
    }];
    if addr.ip().is_loopback() {
        hosts.push(format!("localhost:{port}"));
        hosts.push(format!("127.0.0.1:{port}"));
        hosts.push(format!("[::1]:{port}"));
    }
    hosts.dedup();
    hosts
}

/// Listening on every address (`0.0.0.0`, `::`), the server cannot know the
/// names it is reached by; an IP address with its port is still safe to
/// answer (DNS rebinding needs a name), so any is allowed.
fn any_ip_of_every_address(hosts: &[String], host: &str) -> bool {
    let Ok(asked) = host.parse::<SocketAddr>() else {
        return false;
    };
    hosts.iter().any(|h| {
        h.parse::<SocketAddr>()
            .is_ok_and(|own| own.ip().is_unspecified() && own.port() == asked.port())
    })
}

/// 16 random bytes as hex, from the kernel; the clock and pid only where
/// `/dev/urandom` cannot be read (the token then still differs per process).
pub(super) fn fresh_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let mixed = nanos ^ (u128::from(std::process::id()) << 64);
        bytes = mixed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a request is refused, or `None` when it may go on.
pub(super) fn refusal(
    hosts: &[String],
    token: &str,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<&'static str> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(host) = text(header::HOST.as_str()) else {
        return Some("a request without Host");
    };
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) && !any_ip_of_every_address(hosts, host)
    {
        return Some("this server answers only to its own address (Host)");
    }
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let own = hosts
            .iter()
            .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")));
        if !own {
            return Some("requests from other sites are refused (Origin)");
        }
    }
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let pairs = super::query::pairs(query.unwrap_or(""));
    let given = text("x-csrf-token").or_else(|| super::query::first(&pairs, "csrf"));
    if !safe && given != Some(token) {
        return Some("a missing or wrong CSRF token");
    }
    None
}

/// The middleware: refuses with 403, else runs the route and adds the
/// security headers.
pub(super) async fn check(
    State(config): State<Shared>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let why = refusal(
        &config.hosts,
        &config.csrf_token,
        request.method(),
        request.headers(),
        request.uri().query(),
    );
    let mut response = match why {
        Some(why) => html(StatusCode::FORBIDDEN, pages::error("Forbidden", why)),
        None => next.run(request).await.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: with it, browsers send `Origin: null` on the pages'
    // own form posts, which the Origin check must refuse.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
