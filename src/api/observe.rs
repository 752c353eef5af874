//! Every request, observed at the edge: it gets a request id (the client's `X-Request-Id` when
//! it sent a sensible one, else a new one), echoed in the response and carried by every log
//! line of the request; it is counted by route template, method and status; the bytes of its
//! response body are counted as they leave; and one log line says how it ended. An HTTP/1.1
//! request with a body that fails says `Connection: close` (its body may be left unread).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::metrics::Metrics;
use crate::service::Kino;

pub(super) const REQUEST_ID: &str = "x-request-id";

/// The route template a request matched, handed from the inner layer to the outer one.
#[derive(Debug, Clone)]
struct Route(String);

/// Outer layer: request id, span, counting and the access log line.
pub(super) async fn observe(
    State(kino): State<Kino>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sensible(v))
        .map_or_else(new_id, str::to_string);
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let method = request.method().to_string();
    let http1_with_body = request.version() == axum::http::Version::HTTP_11
        && matches!(request.method().as_str(), "POST" | "PUT" | "PATCH");
    let path = request.uri().path().to_string();
    let span = tracing::info_span!("request", id = %id, method = %method, path = %path);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_string();
    let status = response.status().as_u16();
    kino.metrics.count_request(&route, &method, status);
    span.in_scope(|| {
        tracing::info!(
            status,
            route = %route,
            millis = started.elapsed().as_millis() as u64,
            "request answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    // A refused upload may leave its body unread, and then the connection cannot be reused:
    // say so, or a keep-alive client sends its next request into a closing socket (EPIPE).
    if http1_with_body && status >= 400 {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    counted(response, kino.metrics.clone())
}

/// Inner layer (on matched routes only): notes the route template for the outer layer.
pub(super) async fn note_route(matched: MatchedPath, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .extensions_mut()
        .insert(Route(matched.as_str().to_string()));
    response
}

/// The response with its body's bytes counted as they are sent.
fn counted(response: Response, metrics: Arc<Metrics>) -> Response {
    let (parts, body) = response.into_parts();
    let body = body.map_frame(move |frame| {
        if let Some(data) = frame.data_ref() {
            metrics.add_bytes_sent(data.len() as u64);
        }
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

/// A client's request id is kept when it is short and plain.
fn sensible(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn new_id() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(sensible("5f2c1b9e-req.1:a_b"));
        assert!(!sensible(""));
        assert!(!sensible("has space"));
        assert!(!sensible("bad\"quote"));
        assert!(!sensible(&"x".repeat(129)));
        assert_eq!(new_id().len(), 32);
    }
}
