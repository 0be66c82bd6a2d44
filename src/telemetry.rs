//! What operators watch: Prometheus metrics (`/metrics`) and request ids.
//!
//! Each `Service` has its own registry (tests run several services in one
//! process). Request counts and latencies are labelled by the route
//! *template* (`/api/v1/alliances/{id}`), never the raw path, so the number
//! of series stays bounded; requests no route took count as `unmatched`.

use std::future::{Ready, ready};
use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use futures_util::future::LocalBoxFuture;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tracing::Instrument;

use crate::db::Db;
use crate::error::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

/// The registry and the series the service keeps itself.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGaugeVec,
    feed_head: IntGauge,
    deliveries: IntGaugeVec,
}

impl Metrics {
    /// Registers the series, and the pool-wait histogram the database keeps.
    pub fn new(pool_wait: &Histogram) -> Metrics {
        let registry =
            Registry::new_custom(Some("alliance".into()), None).expect("a valid metric prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response head",
            ),
            &["method", "route"],
        )
        .expect("valid metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )
        .expect("valid metric");
        let feed_head = IntGauge::new(
            "change_feed_head_sequence",
            "Sequence number of the newest change event",
        )
        .expect("valid metric");
        let deliveries = IntGaugeVec::new(
            Opts::new(
                "webhook_deliveries",
                "Webhook deliveries by status (pending is the queue; failed gave up)",
            ),
            &["status"],
        )
        .expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(feed_head.clone()),
            Box::new(deliveries.clone()),
            Box::new(pool_wait.clone()),
        ] {
            registry.register(c).expect("each series registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            feed_head,
            deliveries,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, status.to_string().as_str()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text exposition, after reading the gauges that live in the
    /// database.
    pub async fn render(&self, db: &Db) -> Result<String, ApiError> {
        let state = db.pool_state();
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(state.idle_connections));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections - state.idle_connections));
        // The head a feed reader would see now.
        let (head, by_status) = db
            .read_positioned(|c| {
                Ok((
                    crate::db::changes::head(c)?,
                    crate::db::webhooks::deliveries_by_status(c)?,
                ))
            })
            .await?;
        self.feed_head.set(head);
        for status in ["pending", "succeeded", "failed"] {
            let n = by_status
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            self.deliveries.with_label_values(&[status]).set(n);
        }
        let mut out = vec![];
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(ApiError::internal)?;
        String::from_utf8(out).map_err(ApiError::internal)
    }
}

/// A request's id: the caller's `Request-Id` when it is a sane token
/// (so a chain of services shares one), else a new UUIDv7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn request_id_of(req: &ServiceRequest) -> RequestId {
    let given = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        });
    RequestId(match given {
        Some(v) => v.to_owned(),
        None => uuid::Uuid::now_v7().to_string(),
    })
}

/// The middleware: gives each request its id (response header, log line,
/// problem body) and counts it by route template and status.
pub struct Observe {
    pub metrics: Metrics,
}

impl<S, B> Transform<S, ServiceRequest> for Observe
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Transform = ObserveService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveService {
            service: std::rc::Rc::new(service),
            metrics: self.metrics.clone(),
        }))
    }
}

pub struct ObserveService<S> {
    service: std::rc::Rc<S>,
    metrics: Metrics,
}

impl<S, B> Service<ServiceRequest> for ObserveService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let id = request_id_of(&req);
        req.extensions_mut().insert(id.clone());
        let method = req.method().to_string();
        let path = req.path().to_owned();
        // Everything logged while the request is handled carries its id.
        let span = tracing::info_span!("request", request_id = %id.0);
        let service = self.service.clone();
        let metrics = self.metrics.clone();
        Box::pin(
            async move {
                let res = service.call(req).await?;
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let status = res.status().as_u16();
                let seconds = started.elapsed().as_secs_f64();
                metrics.observe(&method, &route, status, seconds);
                tracing::info!(
                    method = %method,
                    path = %path,
                    route = %route,
                    status,
                    ms = (seconds * 1000.0 * 10.0).round() / 10.0,
                    "request"
                );
                Ok(with_request_id(res, &id).await)
            }
            .instrument(span),
        )
    }
}

/// Puts the id in the `Request-Id` header and, for a problem response, in
/// its body (`request_id`), so a user can quote it to the operator.
async fn with_request_id<B: MessageBody + 'static>(
    mut res: ServiceResponse<B>,
    id: &RequestId,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !is_problem {
        return res.map_into_left_body();
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes_limited(body, 64 << 20).await {
        Ok(Ok(b)) => b,
        // Problem bodies are small; one that cannot be read is an empty answer.
        _ => {
            return ServiceResponse::new(req, head.set_body(BoxBody::new(())))
                .map_into_right_body();
        }
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".into(), id.0.clone().into());
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut head = head.set_body(BoxBody::new(body));
    head.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(req, head).map_into_right_body()
}
