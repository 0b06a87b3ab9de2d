//! Child processes: the service's binary, the Lambda emulator, signals, and polling for health.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `cargo lambda watch` process (the Lambda runtime emulator), ended with everything it
/// started when dropped.
pub struct Emulator(pub Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        // The emulator starts the function in a session of its own: find it among the
        // emulator's descendants before stopping the emulator, then end them all.
        let mut pids = descendants(self.0.id());
        pids.push(self.0.id());
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.wait();
    }
}

/// Every process below `root`, from `ps`.
pub fn descendants(root: u32) -> Vec<u32> {
    let output = Command::new("ps").args(["-e", "-o", "pid=,ppid="]).output();
    let table: Vec<(u32, u32)> = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse::<u32>());
            Some((fields.next()?.ok()?, fields.next()?.ok()?))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            table
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// GETs `url` and parses its JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls `{base}/health` until it answers 200. Each probe has its own timeout: an emulator may
/// hold a request while it builds the function. Panics with `what` after `limit`.
pub async fn wait_healthy(client: &reqwest::Client, base: &str, limit: Duration, what: &str) {
    let deadline = Instant::now() + limit;
    loop {
        let probe = client
            .get(format!("{base}/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if probe.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "no answer from /health: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port for a child process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary with only `vars` (and PATH) in its environment, and waits for `/health`.
pub async fn start_binary(vars: &[(&str, String)], log: &std::path::Path) -> (Child, String) {
    let port = free_port();
    let mut command = Command::new(crate::target_dir().join("kafka-producer"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, v) in vars {
        command.env(k, v);
    }
    let child = command.spawn().expect("binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_healthy(&client, &base, Duration::from_secs(20), "the binary").await;
    (child, base)
}

/// Sends SIGTERM, as Kubernetes does before stopping a pod.
pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit; kills it and panics after `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
