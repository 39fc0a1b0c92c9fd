//! The outermost middleware: gives every request an id, a tracing span, a log line and metrics.
//!
//! `x-request-id` is taken from the request when it is a sane token and generated otherwise; it
//! is echoed on every response, recorded on the span and put into error bodies. Spans and
//! metrics name the route pattern, never the concrete path, so ids stay out of labels. It also
//! serves HEAD as GET without the body.

use std::{
    future::{Ready, ready},
    rc::Rc,
};

use actix_web::{
    Error, HttpMessage,
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::{
        Method,
        header::{HeaderName, HeaderValue},
    },
    web,
};
use futures_util::future::LocalBoxFuture;
use tracing::Instrument;

use crate::metrics::Metrics;

/// The header name.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The request id of the request being served, or `"-"` outside one.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// The id a request arrives with, if it is a token we are willing to log and echo.
fn inbound(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(HEADER)?.to_str().ok()?;
    let sane = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    sane.then(|| value.to_owned())
}

/// Runs `f` (on a blocking thread) with the request id of the request it serves, so errors it
/// renders there carry the right id.
pub fn with_request_id<T>(id: String, f: impl FnOnce() -> T) -> T {
    REQUEST_ID.sync_scope(id, f)
}

/// Request id for the extensions, so handlers can read it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Middleware factory.
pub struct Observe;

impl<S, B> Transform<S, ServiceRequest> for Observe
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = ObserveService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveService {
            service: Rc::new(service),
        }))
    }
}

/// The middleware service.
pub struct ObserveService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for ObserveService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        crate::body_deadline::apply(&mut req);
        let id = inbound(&req).unwrap_or_else(|| {
            // From the thread's CSPRNG: `Uuid::new_v4` asks the kernel for every id.
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .simple()
                .to_string()
        });
        req.extensions_mut().insert(RequestId(id.clone()));
        let metrics = req.app_data::<web::Data<Metrics>>().cloned();
        let method = req.method().to_string();
        // HEAD is GET without the body (RFC 9110 §9.3.2): it is routed, authorized and answered
        // as GET, and actix-http leaves the body out because the request on the wire said HEAD.
        if req.method() == Method::HEAD {
            req.head_mut().method = Method::GET;
        }
        // The route is known once the router has run: `match_pattern` then follows the path
        // the router took instead of matching every route's pattern again.
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %method,
            route = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let service = Rc::clone(&self.service);
        let header_value = HeaderValue::from_str(&id).ok();
        Box::pin(
            REQUEST_ID
                .scope(id, async move {
                    let started = std::time::Instant::now();
                    let mut res = service.call(req).await?;
                    if let Some(value) = header_value {
                        res.headers_mut()
                            .insert(HeaderName::from_static(HEADER), value);
                    }
                    let status = res.status().as_u16();
                    let elapsed = started.elapsed().as_secs_f64();
                    let route = res
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".to_owned());
                    let span = tracing::Span::current();
                    span.record("route", route.as_str());
                    span.record("status", status);
                    tracing::info!(elapsed_ms = elapsed * 1e3, "served");
                    if let Some(metrics) = metrics {
                        metrics.observe_request(&method, &route, status, elapsed);
                    }
                    Ok(res)
                })
                .instrument(span),
        )
    }
}
