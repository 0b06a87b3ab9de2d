//! The deployable package and the sample events in `events/`.
//!
//! - every sample event is one that `lambda_http` (with this crate's features) accepts, as the
//!   event source it claims to be, and becomes a `POST /api/v1/send`;
//! - `cargo lambda build --output-format zip` makes a zip holding one `bootstrap`; that
//!   `bootstrap`, run by hand with nothing but the Lambda environment (as Lambda runs it), serves
//!   the emulator's runtime API (`cargo lambda watch --only-lambda-apis`); each sample event, sent
//!   with `cargo lambda invoke`, and a function-URL request land on the real broker.
//!
//! The zip is built in the dev profile into `target/lambda-package` (its own target directory:
//! it never waits for, nor invalidates, the `target/debug` that the other tests use). The first
//! build costs about as much as a debug build of the dependencies; later ones only relink. A
//! whole `scripts/test` run builds that same zip, with the same command as [`package_zip`],
//! before the tests start, and hands it over in `LAMBDA_PACKAGE_ZIP`: a change to one command
//! belongs in the other. To test another zip instead (the release one: `cargo lambda build
//! --release --output-format zip`), set `LAMBDA_PACKAGE_ZIP=target/lambda/kafka-producer/bootstrap.zip`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lambda_http::request::LambdaRequest;
use serde_json::{json, Value};

use support::*;

const FUNCTION: &str = "kafka-producer";

/// A sample event: its file, the event source, the record's key, and how it is sent.
struct Sample {
    file: &'static str,
    source: &'static str,
    key: &'static str,
    mode: &'static str,
    send: &'static str,
    status: u16,
}

const SAMPLES: [Sample; 4] = [
    Sample {
        file: "apigw-http-api-v2.json",
        source: "apigw-http",
        key: "http-api-1",
        mode: "idempotent",
        send: "sync",
        status: 200,
    },
    Sample {
        file: "apigw-rest-api-v1.json",
        source: "apigw-rest",
        key: "rest-api-1",
        mode: "plain",
        send: "sync",
        status: 200,
    },
    Sample {
        file: "function-url.json",
        source: "apigw-http",
        key: "function-url-1",
        mode: "idempotent",
        send: "async",
        status: 202,
    },
    Sample {
        file: "alb.json",
        source: "alb",
        key: "alb-1",
        mode: "plain",
        send: "async",
        status: 202,
    },
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_event(file: &str) -> Value {
    let path = repo().join("events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn sample_events_are_what_lambda_http_accepts() {
    let mut keys = std::collections::HashSet::new();
    for sample in &SAMPLES {
        let event = read_event(sample.file);
        let request: LambdaRequest = serde_json::from_value(event)
            .unwrap_or_else(|e| panic!("{}: lambda_http rejects it: {e}", sample.file));
        let source = match &request {
            LambdaRequest::ApiGatewayV1(_) => "apigw-rest",
            LambdaRequest::ApiGatewayV2(_) => "apigw-http",
            LambdaRequest::Alb(_) => "alb",
            #[allow(unreachable_patterns)]
            _ => "other",
        };
        assert_eq!(source, sample.source, "{}", sample.file);

        let request = lambda_http::http::Request::from(request);
        assert_eq!(request.method(), "POST", "{}", sample.file);
        // lambda_http puts a REST API's stage in front of the path unless
        // AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH is set, as template.yaml does.
        let path = if sample.source == "apigw-rest"
            && std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_none()
        {
            "/prod/api/v1/send"
        } else {
            "/api/v1/send"
        };
        assert_eq!(request.uri().path(), path, "{}", sample.file);
        let body: Value = serde_json::from_slice(request.body().as_ref())
            .unwrap_or_else(|e| panic!("{}: the body is not JSON: {e}", sample.file));
        assert_eq!(body["topic"], "lambda-events", "{}", sample.file);
        assert_eq!(body["key"], sample.key, "{}", sample.file);
        assert_eq!(
            body["isIdempotent"].as_bool().unwrap_or(true),
            sample.mode == "idempotent",
            "{}",
            sample.file
        );
        assert_eq!(
            body["isAsync"].as_bool().unwrap_or(false),
            sample.send == "async",
            "{}",
            sample.file
        );
        assert!(keys.insert(sample.key), "{}: key reused", sample.file);
    }
}

/// The zip to test: `LAMBDA_PACKAGE_ZIP`, or a dev-profile `cargo lambda build` of this crate.
fn package_zip() -> PathBuf {
    if let Some(zip) = std::env::var_os("LAMBDA_PACKAGE_ZIP") {
        let zip = repo().join(zip);
        assert!(
            zip.is_file(),
            "LAMBDA_PACKAGE_ZIP={} is no file",
            zip.display()
        );
        return zip;
    }
    let target_dir = repo().join("target").join("lambda-package");
    let lambda_dir = target_dir.join("lambda");
    let started = Instant::now();
    let status = Command::new("cargo")
        .current_dir(repo())
        .args([
            "lambda",
            "build",
            "--compiler",
            "cargo",
            "--output-format",
            "zip",
        ])
        .args(["--bin", FUNCTION])
        // Not --target-dir: cargo-lambda 1.9 passes that on to `cargo metadata`, which rejects it.
        .env("CARGO_TARGET_DIR", &target_dir)
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .stdin(Stdio::null())
        .status()
        .expect("cargo lambda is installed (scripts/test installs it)");
    assert!(status.success(), "cargo lambda build failed: {status}");
    eprintln!(
        "lambda_package: cargo lambda build (dev, zip) took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    lambda_dir.join(FUNCTION).join("bootstrap.zip")
}

/// A process of ours, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cargo lambda invoke` of `event` on the emulator; the function's answer.
fn invoke(port: u16, event: &Path) -> Value {
    let output = Command::new("cargo")
        .args(["lambda", "invoke", FUNCTION, "-A", "127.0.0.1", "-P"])
        .arg(port.to_string())
        .arg("--data-file")
        .arg(event)
        .stdin(Stdio::null())
        .output()
        .expect("cargo lambda invoke");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "cargo lambda invoke {}: {}\n{stdout}\n{}",
        event.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("invoke answer is not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn the_zip_bootstrap_serves_the_sample_events_under_the_emulator() {
    let zip = tokio::task::spawn_blocking(package_zip).await.unwrap();

    // The zip holds exactly one file, `bootstrap`, executable: what provided.al2023 runs.
    let listing = Command::new("unzip")
        .arg("-Z1")
        .arg(&zip)
        .output()
        .expect("unzip");
    assert!(listing.status.success(), "unzip -Z1 {}", zip.display());
    assert_eq!(String::from_utf8_lossy(&listing.stdout).trim(), "bootstrap");
    let task = std::env::temp_dir().join(format!("kp-lambda-task-{}", uuid::Uuid::new_v4()));
    let unzipped = Command::new("unzip")
        .args(["-q", "-o"])
        .arg(&zip)
        .arg("-d")
        .arg(&task)
        .status()
        .expect("unzip");
    assert!(unzipped.success());
    let bootstrap_bin = task.join("bootstrap");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&bootstrap_bin)
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "bootstrap is not executable: {mode:o}");
    }

    // The emulator without a function of its own: it serves the runtime API and the invoke
    // and function-URL endpoints; the function is the bootstrap started below.
    let port = free_port();
    let log = std::env::temp_dir().join(format!("kp-lambda-package-{}.log", std::process::id()));
    let emulator = Command::new("cargo")
        .current_dir(repo())
        .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .expect("cargo lambda is installed (scripts/test installs it)");
    let _emulator = Emulator(emulator);
    // In Lambda the runtime API is up before bootstrap starts (the runtime panics otherwise).
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the emulator never listened; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // As Lambda runs it: a clean environment, the task directory as working directory, and the
    // runtime API for this function's name (the emulator routes /.rt/<name>/… to <name>).
    let function_log = log.with_extension("function.log");
    let function = Command::new(&bootstrap_bin)
        .current_dir(&task)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/{FUNCTION}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{FUNCTION}"),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]test")
        .env("AWS_REGION", "eu-west-1")
        .env("LAMBDA_TASK_ROOT", &task)
        // template.yaml's environment.
        .env("KAFKA_BOOTSTRAP_SERVERS", bootstrap())
        .env("APP_ENV", "production")
        .env("LOG_FORMAT", "json")
        .env("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&function_log).unwrap())
        .stderr(Stdio::from(
            std::fs::File::options()
                .append(true)
                .open(&function_log)
                .unwrap(),
        ))
        .spawn()
        .expect("bootstrap starts");
    let _function = Running(function);

    let base = format!("http://127.0.0.1:{port}/lambda-url/{FUNCTION}");
    let client = reqwest::Client::new();
    let what = format!(
        "the function; see {} and {}",
        log.display(),
        function_log.display()
    );
    wait_healthy(&client, &base, Duration::from_secs(60), &what).await;
    let status = get_json(&client, &format!("{base}/api/v1/status")).await;
    assert_eq!(status["runtime"], "lambda", "{status}");
    assert_eq!(status["environment"], "production", "{status}");
    assert_eq!(status["kafka"]["embedded"], false, "{status}");

    // Each sample event, its topic made unique, through `cargo lambda invoke`.
    let topic = unique_topic("lambda-package");
    let mut answers = Vec::new();
    for sample in &SAMPLES {
        let mut event = read_event(sample.file);
        let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        body["topic"] = json!(topic);
        event["body"] = json!(body.to_string());
        let copy = task.join(sample.file);
        std::fs::write(&copy, event.to_string()).unwrap();
        let answer = tokio::task::spawn_blocking(move || invoke(port, &copy))
            .await
            .unwrap();
        assert_eq!(
            answer["statusCode"], sample.status,
            "{}: {answer}",
            sample.file
        );
        if sample.source == "alb" {
            // An ALB answer carries the status line's text too.
            assert!(answer["statusDescription"].is_string(), "{answer}");
        }
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {answer}", sample.file));
        assert_eq!(body["key"], sample.key, "{body}");
        assert_eq!(body["status"], "acknowledged", "{body}");
        answers.push((sample.key, sample.mode, sample.send, body));
    }

    // And a plain HTTP request to the function URL, as curl would send it.
    let started = Instant::now();
    let url_answer = answer_of(
        client
            .post(format!("{base}/api/v1/send"))
            .header("content-type", "application/json")
            .body(
                json!({"topic": topic, "key": "function-url-http", "message": "curl"}).to_string(),
            )
            .send()
            .await
            .unwrap(),
        started,
    )
    .await;
    assert_eq!(url_answer.status, 200, "{:?}", url_answer.body);
    answers.push(("function-url-http", "idempotent", "sync", url_answer.body));

    let records = read_topic(&bootstrap(), &topic, answers.len(), Duration::from_secs(30)).await;
    assert_eq!(records.len(), answers.len(), "{records:?}");
    assert_no_duplicate_keys(&records);
    for (key, mode, send, body) in &answers {
        let record = records
            .iter()
            .find(|r| r.key.as_deref() == Some(*key))
            .unwrap_or_else(|| panic!("no record for {key}: {records:?}"));
        assert_service_headers(record, mode, send);
        assert_eq!(body["partition"], record.partition, "{key}");
        assert_eq!(body["offset"], record.offset, "{key}");
        let expected_value = match *key {
            "function-url-http" => "curl".to_owned(),
            _ => {
                let sample = SAMPLES.iter().find(|s| s.key == *key).unwrap();
                let event = read_event(sample.file);
                let original: Value =
                    serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
                original["message"].as_str().unwrap().to_owned()
            }
        };
        assert_eq!(record.value, expected_value, "{key}");
    }
    let _ = std::fs::remove_dir_all(&task);
}
