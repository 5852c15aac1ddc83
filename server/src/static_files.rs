//! Static files beside the API: a built web frontend served from a directory on the same port
//! as `/rpc`, so a browser app needs no second server and no CORS.
//!
//! tower-http's `ServeDir` does the file work (content types, `304`s, ranges, no `..` escapes);
//! this module only adapts it to the server's body type and adds the single-page-app fallback:
//! an unknown path that looks like a page (no file extension) gets `index.html`.

use std::path::{Path, PathBuf};

use http::{Request, Response};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::body::Body;

/// A directory served at `/`.
#[derive(Clone, Debug)]
pub(crate) struct StaticFiles {
    dir: PathBuf,
    serve: ServeDir,
}

impl StaticFiles {
    pub(crate) fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self { serve: ServeDir::new(&dir).append_index_html_on_directories(true), dir }
    }

    /// Whether this request is for a file: only `GET` and `HEAD` are.
    pub(crate) fn accepts<B>(request: &Request<B>) -> bool {
        matches!(*request.method(), http::Method::GET | http::Method::HEAD)
    }

    /// Serves the file, `index.html` for an extension-less path that names no file, or a 404.
    pub(crate) async fn serve<B: Send + 'static>(&self, request: Request<B>) -> Response<Body> {
        let page_like = Path::new(request.uri().path()).extension().is_none();
        let index = page_like.then(|| {
            let mut index = http::Request::new(());
            *index.uri_mut() = http::Uri::from_static("/index.html");
            index
        });
        let response = match self.serve.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if response.status() != http::StatusCode::NOT_FOUND {
            return response.map(boxed);
        }
        match index {
            Some(index) => match self.serve.clone().oneshot(index).await {
                Ok(response) => response.map(boxed),
                Err(never) => match never {},
            },
            None => response.map(boxed),
        }
    }

    /// The directory, for logs.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::body::BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}
