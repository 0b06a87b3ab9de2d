//! The service in-process on a free port, with its own producers and metrics, and its answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_producer::kafka::Producers;
use kafka_producer::observability::Metrics;
use kafka_producer::runtime;
use kafka_producer::settings::Settings;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::brokers::bootstrap;

/// The service on a free port, with its own producers.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub producers: Producers,
    pub metrics: Arc<Metrics>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<i64>>>,
}

/// An answer, its body parsed as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    /// Asserts an `application/problem+json` answer of this status and problem type.
    pub fn assert_problem(&self, status: u16, kind: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(
            self.headers[reqwest::header::CONTENT_TYPE],
            "application/problem+json",
            "{:?}",
            self.body
        );
        assert_eq!(self.body["status"], status, "{:?}", self.body);
        assert_eq!(
            self.body["type"],
            format!("urn:kafka-producer:problem:{kind}"),
            "{:?}",
            self.body
        );
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(self.body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        if status == 503 {
            assert!(self.headers.contains_key(reqwest::header::RETRY_AFTER));
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&bootstrap(), &[]).await
    }

    /// `vars` are environment-style settings (`KAFKA_LINGER_MS`, `MAX_BODY_BYTES`…).
    pub async fn spawn_with(bootstrap: &str, vars: &[(&str, &str)]) -> Self {
        let mut map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("KAFKA_BOOTSTRAP_SERVERS".into(), bootstrap.into());
        let settings = Settings::from_vars(&map, None).expect("test settings");
        let service = runtime::build(&settings, bootstrap, false).expect("service");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let producers = service.producers.clone();
        let metrics = service.metrics.clone();
        let server = tokio::spawn(runtime::serve(
            listener,
            service,
            async {
                let _ = rx.await;
            },
            Duration::from_secs(15),
        ));
        TestApp {
            base,
            client: reqwest::Client::new(),
            producers,
            metrics,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.request(
            reqwest::Method::POST,
            path,
            Some(body.to_string()),
            Some("application/json"),
        )
        .await
    }

    /// POSTs `body` as JSON with extra request headers.
    pub async fn post_with_headers(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        let started = Instant::now();
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer_of(request.send().await.expect("request sent"), started).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None, None).await
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        content_type: Option<&str>,
    ) -> Answer {
        let started = Instant::now();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(ct) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request sent");
        answer_of(response, started).await
    }

    /// Stops the server as SIGTERM would, and returns how many records were left unflushed.
    pub async fn stop(mut self) -> i64 {
        let _ = self.shutdown.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap().unwrap()
    }
}

pub async fn answer_of(response: reqwest::Response, started: Instant) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
    }
}
