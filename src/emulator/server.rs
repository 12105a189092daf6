//! The HTTP side: awsJson1_1 for Rekognition and awsQuery for STS and IAM,
//! over HTTP/1.1 on a loopback socket.
//!
//! A Rekognition request is `POST /` with `X-Amz-Target: RekognitionService.<Operation>`
//! and a JSON body. Responses carry `Content-Type: application/x-amz-json-1.1`
//! and `x-amzn-RequestId`. Errors carry the code in `x-amzn-ErrorType` and in
//! the body as `{"__type": CODE, "message": TEXT}`, which is what the AWS SDKs
//! read for this protocol. A request without `X-Amz-Target` and with a
//! form-encoded body is an STS or IAM call; see [`super::query`].
//! Injected faults apply only to Rekognition operations.

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Call;
use super::faults::FaultPlan;
use super::identity::{self, Identity, Params};
use super::query::{self, QueryError};
use super::operations::{self, ApiError};
use super::state::{State, epoch_seconds};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
const XML_CONTENT_TYPE: &str = "text/xml";
const TARGET_PREFIX: &str = "RekognitionService.";
/// The largest request body accepted. UpdateDatasetEntries allows 5 MiB of
/// manifest, which base64 turns into about 7 MiB.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// State shared by the request handlers and [`super::EmulatorHandle`].
pub struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<FaultPlan>,
    pub calls: Mutex<Vec<Call>>,
    pub latency: Duration,
    pub call_log: Option<Mutex<std::fs::File>>,
    /// The source of the STS and IAM reads.
    pub identity: Identity,
    request_counter: AtomicU64,
}

impl Shared {
    pub fn new(state: State, identity: Identity, faults: FaultPlan, latency: Duration, call_log: Option<std::fs::File>) -> Shared {
        Shared {
            state: Mutex::new(state),
            identity,
            faults: Mutex::new(faults),
            calls: Mutex::new(Vec::new()),
            latency,
            call_log: call_log.map(Mutex::new),
            request_counter: AtomicU64::new(0),
        }
    }

    /// Locks the state. A handler that panicked cannot leave it half
    /// changed in a way later requests trip over, so poisoning is ignored.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, call: Call) {
        if let Some(log) = &self.call_log {
            let mut file = log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let written = serde_json::to_string(&call).map_err(std::io::Error::from).and_then(|line| writeln!(file, "{line}")).and_then(|()| file.flush());
            if let Err(error) = written {
                tracing::warn!(%error, "could not write the call log");
            }
        }
        self.calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(call);
    }

    /// Returns a request id in the UUID layout that AWS uses.
    fn next_request_id(&self) -> String {
        let counter = self.request_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
        format!("{nanos:08x}-{:04x}-4{:03x}-8{:03x}-{counter:012x}", (counter >> 16) & 0xffff, counter & 0xfff, (nanos >> 4) & 0xfff)
    }
}

/// Accepts connections until `shutdown` turns true or its sender is dropped.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                        if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    tracing::info!("emulator stopped");
}

/// Returns when the stop flag turns true or its sender is gone.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let has_target = request.headers().contains_key("x-amz-target");
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    if !has_target && content_type.starts_with(FORM_CONTENT_TYPE) {
        return Ok(handle_query(&shared, request).await);
    }

    let target = request.headers().get("x-amz-target").and_then(|value| value.to_str().ok()).map(str::to_string);
    let operation = target.as_deref().and_then(|target| target.strip_prefix(TARGET_PREFIX)).unwrap_or_default().to_string();
    let is_post = request.method() == hyper::Method::POST;
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await.map(|collected| collected.to_bytes());

    let (request_json, parse_error) = match &body {
        Ok(bytes) if bytes.is_empty() => (json!({}), None),
        Ok(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(value @ Value::Object(_)) => (value, None),
            Ok(_) => (Value::Null, Some(ApiError::client("SerializationException", "The request body must be a JSON object"))),
            Err(error) => (Value::Null, Some(ApiError::client("SerializationException", format!("The request body is not valid JSON: {error}")))),
        },
        Err(error) => (Value::Null, Some(ApiError::client("SerializationException", format!("The request body could not be read: {error}")))),
    };

    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }

    let result = if let Some(error) = parse_error {
        Err(error)
    } else if !is_post || !operations::OPERATIONS.contains(&operation.as_str()) {
        let shown = target.as_deref().unwrap_or("(no X-Amz-Target header)");
        Err(ApiError::client("UnknownOperationException", format!("Unknown operation {shown}")))
    } else {
        respond(&shared, &operation, &request_json)
    };

    let request_id = shared.next_request_id();
    let (status, error_type, body) = match result {
        Ok(body) => (200, None, body),
        Err(error) => {
            tracing::info!(operation, error_type = error.error_type, message = error.message, "responding with an error");
            let body = json!({ "__type": error.error_type, "message": error.message });
            (error.status, Some(error.error_type), body)
        }
    };
    shared.record(Call {
        operation: if operation.is_empty() { target.unwrap_or_default() } else { operation },
        request: request_json,
        status,
        error_type: error_type.clone(),
        timestamp: epoch_seconds(SystemTime::now()),
        request_id: request_id.clone(),
    });

    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header("x-amzn-RequestId", request_id);
    if let Some(error_type) = error_type {
        response = response.header("x-amzn-ErrorType", error_type);
    }
    let response = response.body(Full::new(Bytes::from(body.to_string()))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::from_static(b"{\"__type\":\"InternalServerError\",\"message\":\"response could not be built\"}")));
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    });
    Ok(response)
}

/// Serves an awsQuery (STS or IAM) request from the world's identity.
async fn handle_query(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let is_post = request.method() == hyper::Method::POST;
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await.map(|collected| collected.to_bytes());
    let pairs = body.as_ref().map(|bytes| query::parse_form(bytes)).unwrap_or_default();
    let params = Params(&pairs);
    let action = params.get("Action").unwrap_or_default().to_string();
    let version = params.get("Version").unwrap_or_default().to_string();

    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }

    let result = match &body {
        Err(error) => Err(QueryError::invalid("MalformedQueryString", format!("The request body could not be read: {error}"))),
        Ok(_) if !is_post => Err(QueryError::invalid("InvalidAction", "The emulator accepts awsQuery requests only as POST")),
        Ok(_) => identity::dispatch(&shared.identity, &action, &params),
    };

    let request_id = shared.next_request_id();
    let (status, error_type, body) = match result {
        Ok(result) => (200, None, query::response_body(&action, &version, &result, &request_id)),
        Err(error) => {
            tracing::info!(action, code = error.code, message = error.message, "responding with an error");
            (error.status, Some(error.code.to_string()), query::error_body(&error, &version, &request_id))
        }
    };
    let request_json: serde_json::Map<String, Value> = pairs.iter().filter(|(key, _)| key != "Action").map(|(key, value)| (key.clone(), Value::String(value.clone()))).collect();
    shared.record(Call {
        operation: action,
        request: Value::Object(request_json),
        status,
        error_type,
        timestamp: epoch_seconds(SystemTime::now()),
        request_id: request_id.clone(),
    });

    let response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, XML_CONTENT_TYPE)
        .header("x-amzn-RequestId", request_id)
        .body(Full::new(Bytes::from(body)));
    response.unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::new()));
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// Returns an injected fault's error or runs the operation.
fn respond(shared: &Shared, operation: &str, request: &Value) -> Result<Value, ApiError> {
    let fault = shared.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next(operation);
    if let Some(fault) = fault {
        let (error_type, status, message) = fault.error();
        return Err(ApiError { error_type: error_type.into(), message: message.into(), status });
    }
    operations::dispatch(&mut shared.state(), operation, request, Instant::now())
}
