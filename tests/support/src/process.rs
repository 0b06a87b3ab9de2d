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

/// Sends `signal` (a name: `STOP`, `CONT`, `TERM`...) to process `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// A process stopped with SIGSTOP, thawed with SIGCONT when this is dropped (also when the
/// test fails before it thaws it on purpose).
pub struct Frozen(pub u32);

impl Frozen {
    pub fn freeze(pid: u32) -> Self {
        signal(pid, "STOP");
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// A child process killed and reaped when this is dropped, so that a failing test leaves no
/// service running behind it.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The states of the TCP connections of process `pid` to `remote_port` on this machine, from
/// its sockets' inodes and `/proc/net/tcp` and `tcp6`: ("ESTABLISHED", n), ("CLOSE_WAIT", n)...
pub fn tcp_states(pid: u32, remote_port: u16) -> std::collections::BTreeMap<&'static str, usize> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|target| {
                    let target = target.to_string_lossy().into_owned();
                    Some(
                        target
                            .strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut states = std::collections::BTreeMap::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || !inodes.contains(fields[9]) {
                continue;
            }
            let port = fields[2]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if port != Some(remote_port) {
                continue;
            }
            let state = match fields[3] {
                "01" => "ESTABLISHED",
                "02" => "SYN_SENT",
                "04" => "FIN_WAIT1",
                "05" => "FIN_WAIT2",
                "06" => "TIME_WAIT",
                "07" => "CLOSE",
                "08" => "CLOSE_WAIT",
                "09" => "LAST_ACK",
                _ => "OTHER",
            };
            *states.entry(state).or_default() += 1;
        }
    }
    states
}
