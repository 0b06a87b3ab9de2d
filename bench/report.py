#!/usr/bin/env python3
"""bench/run's report: reads one run's measurements, prints the figures and the ratios against
the targets, saves bench/results/<run>.json and latest.json, draws bench/results/chart.png and
rewrites BENCHMARKS.md (keeping its hand-written "Notes" section).

  report.py RUN_DIR DURATION "CONCURRENCIES"
"""
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

RUN = Path(sys.argv[1])
DURATION = int(sys.argv[2])
CONCURRENCY = [int(c) for c in sys.argv[3].split()]
BATCH = 1000  # records per batch request (bench/run)


def load(name):
    path = RUN / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def oha(name):
    """Requests per second that got a 2xx, p50 and p99 in ms, and the status counts."""
    result = load(name)
    if result is None:
        return None
    codes = {int(k): v for k, v in result.get("statusCodeDistribution", {}).items()}
    total = sum(codes.values()) or 1
    ok = sum(v for k, v in codes.items() if 200 <= k < 300)
    p = result.get("latencyPercentiles", {})
    return {
        "rps": result["summary"]["requestsPerSec"] * ok / total,
        "p50": 1000 * (p.get("p50") or 0),
        "p99": 1000 * (p.get("p99") or 0),
        "codes": codes,
        "errors": result.get("errorDistribution", {}),
        "ok": ok,
    }


def sh(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001 - a missing tool only leaves a blank in the description
        return ""


raw = {k: load(f"raw-{k}") for k in ["idempotent-100", "idempotent-1024", "plain-100", "latency"]}
startup = load("startup") or {}
idle = load("idle") or {}
loaded = load("loaded") or {}
cpu_before = load("cpu-before-batch") or {}
cpu_after = load("cpu-after-batch") or {}
runs = {name: oha(name) for name in [p.stem for p in RUN.glob("*.json")] if name.split("-c")[0] in {"noop", "sync", "async", "peer"} or name.startswith("batch") or name == "sync-low"}

batch = {k: runs.get(f"batch-{k}") for k in ["idempotent-100", "idempotent-1024", "plain-100"]}
batch_msgs = {k: (v["rps"] * BATCH if v else None) for k, v in batch.items()}
top = max(CONCURRENCY)


def at(kind, c):
    return runs.get(f"{kind}-c{c}")


def ratio(a, b):
    return a / b if a is not None and b else None


service_cpu_per_million = None
if batch["idempotent-100"] and cpu_after and cpu_before:
    records = batch["idempotent-100"]["ok"] * BATCH
    service_cpu_per_million = (cpu_after["cpuSeconds"] - cpu_before["cpuSeconds"]) / records * 1e6
raw_cpu_per_million = None
if raw["idempotent-100"]:
    raw_cpu_per_million = raw["idempotent-100"]["cpuSeconds"] / raw["idempotent-100"]["records"] * 1e6

queue_mib = 2 * 64  # two producers, queue.buffering.max.kbytes=65536 each
targets = [
    ("batch msg/s ÷ raw msg/s (idempotent, 100 B)", ratio(batch_msgs["idempotent-100"], raw["idempotent-100"] and raw["idempotent-100"]["recordsPerSecond"]), ">= 0.85", lambda r: r >= 0.85),
    ("batch msg/s ÷ raw msg/s (idempotent, 1 KB)", ratio(batch_msgs["idempotent-1024"], raw["idempotent-1024"] and raw["idempotent-1024"]["recordsPerSecond"]), ">= 0.85", lambda r: r >= 0.85),
    (f"single async req/s ÷ no-op req/s (c={top})", ratio(at("async", top) and at("async", top)["rps"], at("noop", top) and at("noop", top)["rps"]), ">= 0.60", lambda r: r >= 0.60),
    (f"single sync req/s ÷ peer req/s (Apache Camel route in place of Strimzi Bridge, c={top})", ratio(at("sync", top) and at("sync", top)["rps"], at("peer", top) and at("peer", top)["rps"]), ">= 10", lambda r: r >= 10),
    ("sync p99 at low load − raw produce p99 (ms)", (runs["sync-low"]["p99"] - raw["latency"]["p99Ms"]) if runs.get("sync-low") and raw["latency"] else None, "<= 1 ms", lambda d: d <= 1.0),
    ("idempotent msg/s ÷ plain msg/s (batch, 100 B)", ratio(batch_msgs["idempotent-100"], batch_msgs["plain-100"]), ">= 0.95", lambda r: r >= 0.95),
    ("exec → /health 200 (ms, median)", startup.get("execToHealthMs"), "<= 20 ms", lambda v: v <= 20),
    ("idle RSS (MiB)", idle.get("rssMiB"), "<= 20 MB", lambda v: v <= 20 * 1e6 / 2**20),
    (f"RSS under load, peak (MiB; queues bounded at {queue_mib} MiB)", loaded.get("hwmMiB"), f"<= 64 MB + queue", lambda v: v <= 64 * 1e6 / 2**20 + queue_mib),
]

fmt = lambda v, d=2: "n/a" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else f"{v:,}")

figures = []
for k, label in [("idempotent-100", "idempotent, 100 B"), ("idempotent-1024", "idempotent, 1 KB"), ("plain-100", "plain, 100 B")]:
    r = raw[k]
    figures.append((f"raw rdkafka, {label}", fmt(r and r["recordsPerSecond"], 0) + " msg/s", ""))
    figures.append((f"batch endpoint, {label} (1000 records a request, c=4)", fmt(batch_msgs[k], 0) + " msg/s", f"p99 {fmt(batch[k] and batch[k]['p99'])} ms a request"))
for kind, label in [("noop", "GET /health (no-op)"), ("sync", "single sync"), ("async", "single async"), ("peer", "Apache Camel route (peer), one record")]:
    for c in CONCURRENCY:
        r = at(kind, c)
        figures.append((f"{label}, c={c}", fmt(r and r["rps"], 0) + " req/s", f"p50 {fmt(r and r['p50'])} ms, p99 {fmt(r and r['p99'])} ms"))
figures.append(("single sync at 100 req/s, open-loop", "", f"p50 {fmt(runs.get('sync-low') and runs['sync-low']['p50'])} ms, p99 {fmt(runs.get('sync-low') and runs['sync-low']['p99'])} ms"))
figures.append(("raw produce, one at a time", "", f"p50 {fmt(raw['latency'] and raw['latency']['p50Ms'])} ms, p99 {fmt(raw['latency'] and raw['latency']['p99Ms'])} ms"))
figures.append(("exec → /health 200 (median of 5)", f"{fmt(startup.get('execToHealthMs'))} ms", f"all: {startup.get('execToHealthMsAll')}"))
figures.append(("exec → first acknowledged record (median of 5)", f"{fmt(startup.get('execToFirstAckMs'))} ms", f"all: {startup.get('execToFirstAckMsAll')}"))
figures.append(("RSS idle; peak under load", f"{fmt(idle.get('rssMiB'))} MiB; {fmt(loaded.get('hwmMiB'))} MiB", ""))
figures.append(("CPU seconds per million records (batch, idempotent 100 B)", f"service {fmt(service_cpu_per_million)}; raw {fmt(raw_cpu_per_million)}", ""))

lines = ["| figure | value | detail |", "|---|---|---|"]
lines += [f"| {a} | {b} | {c} |" for a, b, c in figures]
target_lines = ["| ratio | this run | target | met |", "|---|---|---|---|"]
for name, value, target, check in targets:
    met = "n/a" if value is None else ("yes" if check(value) else "**no**")
    target_lines.append(f"| {name} | {fmt(value)} | {target} | {met} |")

print("\n".join(lines))
print()
print("\n".join(target_lines))

machine = {
    "cpu": sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor(),
    "cores": os.cpu_count(),
    "memory": sh("free -h | awk '/^Mem:/ {print $2}'"),
    "kernel": platform.release(),
    "rustc": sh("rustc --version"),
    "kafka": sh("ls -d ${KP_CACHE:-$HOME/.cache/kafka-producer}/kafka-* 2>/dev/null | sed 's/.*kafka-/Apache Kafka /' | tail -n 1"),
    "java": sh("java -version 2>&1 | head -n 1"),
    "oha": sh("oha --version"),
}
result = {
    "run": RUN.name,
    "durationSeconds": DURATION,
    "concurrency": CONCURRENCY,
    "machine": machine,
    "raw": raw,
    "startup": startup,
    "idle": idle,
    "loaded": loaded,
    "cpuSecondsPerMillion": {"service": service_cpu_per_million, "raw": raw_cpu_per_million},
    "batchMsgPerSecond": batch_msgs,
    "runs": runs,
    "targets": [{"name": n, "value": v, "target": t, "met": None if v is None else bool(c(v))} for n, v, t, c in targets],
}
results = Path("bench/results")
(results / f"{RUN.name.removeprefix('run-')}.json").write_text(json.dumps(result, indent=2))
(results / "latest.json").write_text(json.dumps(result, indent=2))

# The chart: throughput and p99 against concurrency.
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
for kind, label in [("noop", "GET /health (no-op)"), ("async", "single async"), ("sync", "single sync"), ("peer", "Apache Camel route (peer)")]:
    xs = [c for c in CONCURRENCY if at(kind, c)]
    left.plot(xs, [at(kind, c)["rps"] for c in xs], marker="o", label=label)
    right.plot(xs, [at(kind, c)["p99"] for c in xs], marker="o", label=label)
for axis, title, unit in [(left, "throughput", "requests/s"), (right, "p99 latency", "ms")]:
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xticks(CONCURRENCY, [str(c) for c in CONCURRENCY])
    axis.set_xlabel("concurrent requests")
    axis.set_ylabel(unit)
    axis.set_title(title)
    axis.grid(True, which="both", alpha=0.3)
left.legend()
fig.suptitle(f"kafka-producer vs an Apache Camel HTTP→Kafka route, one record of 100 B (acks=all, idempotent); {RUN.name}")
fig.tight_layout()
fig.savefig(results / "chart.png", dpi=110)

# BENCHMARKS.md, keeping the hand-written notes.
path = Path("BENCHMARKS.md")
notes = ""
if path.exists():
    match = re.search(r"^## Notes\n.*", path.read_text(), re.S | re.M)
    notes = match.group(0) if match else ""
machine_lines = "\n".join(f"- {k}: {v}" for k, v in machine.items())
path.write_text(f"""# Benchmarks

`bench/run` on one machine, in one run ({RUN.name}): one real Apache Kafka broker (KRaft, 3
partitions, warmed up with two million records), the same records for everyone (a key, 100 B of
payload or 1 KB where said, and the four headers the service adds), the service's producer
settings for everyone (`acks=all`, idempotence on, unless "plain"). The peer is an Apache Camel 4.22 HTTP → Kafka route
(`bench/camel-peer`): Strimzi Kafka Bridge is not served by the Maven mirror this machine
reaches. Load by oha: {DURATION} s per step, closed-loop at
each concurrency; the low-load latency is open-loop at 100 requests/s with latency correction.
Results in `bench/results/latest.json`.

![throughput and p99 against concurrency](bench/results/chart.png)

## The machine

{machine_lines}

The load generator, the broker, the service and the peer share the machine's cores, so every
figure is lower than on separate machines; the ratios are what the run compares.

## Figures

{chr(10).join(lines)}

## Ratios and targets

{chr(10).join(target_lines)}

{notes or "## Notes"}
""")
print(f"\nsaved bench/results/latest.json, bench/results/chart.png and BENCHMARKS.md")
