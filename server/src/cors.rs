//! CORS: letting a frontend served from another origin (a Vite dev server on `:5173`, an app
//! on its own domain) call the API from a browser.
//!
//! [`Cors`] holds safe defaults and builds tower-http's `CorsLayer` from them: explicit origins
//! only (no `*`), `GET` and `POST`, the request headers Accord's clients send (`content-type`,
//! `authorization`, `x-request-id`, the deadline header `x-accord-timeout-ms`, and the W3C
//! trace headers), `x-request-id` exposed to scripts, preflights cached for ten minutes, and no
//! credentials (cookies) unless asked for.
//!
//! Browsers apply no CORS to WebSockets, so the server checks an upgrade's `Origin` itself: with
//! CORS configured, a browser may open a WebSocket only from an allowed origin or the server's
//! own; clients that send no `Origin` (servers, CLIs) are not affected.

use std::str::FromStr;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{REQUEST_ID_HEADER, TIMEOUT_HEADER};

/// How long a browser may cache a preflight answer (Chromium caps it at two hours).
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// Request headers a cross-origin page may send by default.
const DEFAULT_HEADERS: &[&str] =
    &["content-type", "authorization", REQUEST_ID_HEADER, TIMEOUT_HEADER, "traceparent", "tracestate"];

/// Which other origins may call the server from a browser. Build one with
/// [`Cors::allow_origins`] or parse a comma-separated list (`"http://localhost:5173,https://app.example.com"`).
///
/// ```
/// use accord_server::Cors;
///
/// let cors = Cors::allow_origins(["http://localhost:5173"])?.allow_credentials();
/// let from_env: Cors = "http://localhost:5173, https://app.example.com".parse()?;
/// # Ok::<(), accord_server::CorsError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Cors {
    origins: Vec<HeaderValue>,
    credentials: bool,
    max_age: Duration,
    headers: Vec<HeaderName>,
}

/// Why a CORS setting was refused.
#[derive(Debug, thiserror::Error)]
pub enum CorsError {
    /// Not `scheme://host[:port]` with an `http` or `https` scheme.
    #[error("`{0}` is not an origin: write scheme://host[:port], e.g. http://localhost:5173")]
    NotAnOrigin(String),
    /// `*` was given: every site could call the API with the user's credentials in hand.
    #[error("`*` would let any site call this API: list the origins that may")]
    Wildcard,
    /// The list is empty.
    #[error("no origin given: list the origins that may call this API, separated by commas")]
    Empty,
    /// A header name that HTTP does not allow.
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
}

impl Cors {
    /// Allows these origins (`scheme://host[:port]`; a default port and a trailing `/` are
    /// dropped, as browsers send them).
    pub fn allow_origins<I, S>(origins: I) -> Result<Self, CorsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for origin in origins {
            let origin = normalize(origin.as_ref())?;
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
        if list.is_empty() {
            return Err(CorsError::Empty);
        }
        let headers = DEFAULT_HEADERS.iter().map(|name| HeaderName::from_static(name)).collect();
        Ok(Self { origins: list, credentials: false, max_age: DEFAULT_MAX_AGE, headers })
    }

    /// Lets pages send credentials (cookies, TLS client certificates) with their calls.
    pub fn allow_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// How long a browser may cache a preflight answer (default 10 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Allows one more request header (e.g. `x-api-key`).
    pub fn allow_header(mut self, name: &str) -> Result<Self, CorsError> {
        let name = HeaderName::from_str(name).map_err(|_| CorsError::HeaderName(name.to_owned()))?;
        if !self.headers.contains(&name) {
            self.headers.push(name);
        }
        Ok(self)
    }

    /// The allowed origins, as browsers send them.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().filter_map(|origin| origin.to_str().ok())
    }

    /// tower-http's layer with these settings, for use in another stack (an axum router, say);
    /// [`ServerBuilder::cors`](crate::ServerBuilder::cors) applies it for you.
    pub fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(self.headers.clone())
            .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
            .max_age(self.max_age)
            .allow_credentials(self.credentials)
    }

    /// Whether a WebSocket upgrade with these headers may proceed: no `Origin` (not a
    /// browser), an allowed origin, or the server's own (`Origin` names the `Host`).
    pub(crate) fn allows_websocket(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else { return true };
        if self.origins.contains(origin) {
            return true;
        }
        let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
        let authority = origin.to_str().ok().and_then(|o| o.parse::<Uri>().ok()).and_then(|uri| {
            let authority = uri.authority()?;
            Some(authority.as_str().to_owned())
        });
        matches!((host, authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(&authority))
    }
}

impl FromStr for Cors {
    type Err = CorsError;

    /// Comma-separated origins, as in a `CORS_ORIGINS` environment variable.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Cors::allow_origins(list.split(',').map(str::trim).filter(|origin| !origin.is_empty()))
    }
}

/// `origin` as a browser sends it in `Origin`: lower-case scheme and host, no default port, no
/// path.
fn normalize(origin: &str) -> Result<HeaderValue, CorsError> {
    let trimmed = origin.trim();
    if trimmed == "*" {
        return Err(CorsError::Wildcard);
    }
    let not_an_origin = || CorsError::NotAnOrigin(trimmed.to_owned());
    let uri: Uri = trimmed.parse().map_err(|_| not_an_origin())?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase).ok_or_else(not_an_origin)?;
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(not_an_origin()),
    };
    let authority = uri.authority().ok_or_else(not_an_origin)?;
    let path_is_empty = matches!(uri.path(), "" | "/") && uri.query().is_none();
    if !path_is_empty || authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(not_an_origin());
    }
    let host = authority.host().to_ascii_lowercase();
    let origin = match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    };
    HeaderValue::from_str(&origin).map_err(|_| not_an_origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        let cors: Cors = "HTTP://LocalHost:5173/, https://app.example.com:443 ,,http://a.test:80".parse().unwrap();
        assert_eq!(
            cors.origins().collect::<Vec<_>>(),
            ["http://localhost:5173", "https://app.example.com", "http://a.test"]
        );
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for bad in ["localhost:5173", "ftp://x.test", "http://x.test/app", "http://x.test?q", "http://u@x.test", "null"]
        {
            assert!(matches!(Cors::allow_origins([bad]), Err(CorsError::NotAnOrigin(_))), "{bad}");
        }
        assert!(matches!("*".parse::<Cors>(), Err(CorsError::Wildcard)));
        assert!(matches!(" , ".parse::<Cors>(), Err(CorsError::Empty)));
        assert!(matches!(
            Cors::allow_origins(["http://x.test"]).unwrap().allow_header("bad header"),
            Err(CorsError::HeaderName(_))
        ));
    }

    #[test]
    fn websockets_come_from_allowed_origins_or_the_server_itself() {
        let cors = Cors::allow_origins(["http://localhost:5173"]).unwrap();
        let headers = |origin: Option<&str>| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("api.test:3000"));
            if let Some(origin) = origin {
                headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            }
            headers
        };
        assert!(cors.allows_websocket(&headers(None)), "not a browser");
        assert!(cors.allows_websocket(&headers(Some("http://localhost:5173"))));
        assert!(cors.allows_websocket(&headers(Some("http://api.test:3000"))), "same origin");
        assert!(!cors.allows_websocket(&headers(Some("https://evil.test"))));
        assert!(!cors.allows_websocket(&headers(Some("null"))));
    }
}
