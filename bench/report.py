#!/usr/bin/env python3
"""bench/run's report: reads one run folder, prints every figure (for the repeated ones the median
and the spread, min-max over the runs), every ratio per run with its median and spread against
its target (met only when the whole spread is on the target's side), and the CPU seconds per
million records of each path; saves bench/results/<stamp>.json and latest.json, draws
bench/results/chart.png, linger.png and sync.png, and rewrites the part of BENCHMARKS.md between
its markers (the hand-written text around them is kept).

  report.py RUN_DIR DURATION RUNS "CONCURRENCIES"

RUN_DIR (bench/run):
  once/    linger-latency-{0,1,5}.json, linger-throughput-{0,1,5}.json (raw_produce), startup.json
           (measure.py startup), idle.json and loaded.json (measure.py proc), v3-single-c64.json
           (oha) and its .cpu-before/.cpu-after.json, peer-c{1,16,64}.json (oha)
  sweep/   noop-cC.json, async-cC.json, sync-cC.json (oha) for C in CONCURRENCIES
  rN/      raw-idempotent-100, raw-idempotent-1024, raw-plain-100, raw-latency, raw-inflight-64
           (raw_produce); batch-idempotent-100, batch-idempotent-1024, batch-plain-100, sync-c1,
           sync-c64, noop-c64, async-c64, v2-100, batch-100 (oha); json, avro (batch_load);
           v3-stream (stream_load); each service load with NAME.cpu-before/.cpu-after.json
"""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

RUN = Path(sys.argv[1])
DURATION = int(sys.argv[2])
RUNS = int(sys.argv[3])
CONCURRENCY = [int(c) for c in sys.argv[4].split()]
LINGERS = [0, 1, 5]
PEER_CONCURRENCY = [1, 16, 64]
BATCH = 1000  # records per batch request (bench/run)
PER_100 = 100  # records per request of the v2 / batch comparison
QUEUE_MIB = 4 * 64  # four producers (each mode's, and its async one), queue.buffering.max.kbytes=65536 each
RESULTS = Path("bench/results")
MARK_BEGIN, MARK_END = "<!-- bench/run: begin -->", "<!-- bench/run: end -->"


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def oha(path, only_200=False):
    """Requests a second that were answered 2xx (only 200 where a 207 or a 200 with failures
    inside would hide failed records), p50 and p99 in ms, and the status counts."""
    result = load(path)
    if result is None:
        return None
    codes = {int(k): v for k, v in result.get("statusCodeDistribution", {}).items()}
    ok = sum(v for k, v in codes.items() if (k == 200 if only_200 else 200 <= k < 300))
    summary = result["summary"]
    if summary.get("total"):
        rate = ok / summary["total"]
    else:
        rate = summary["requestsPerSec"] * ok / (sum(codes.values()) or 1)
    p = result.get("latencyPercentiles", {})
    return {
        "rate": rate,
        "ok": ok,
        "p50": 1000 * (p.get("p50") or 0),
        "p99": 1000 * (p.get("p99") or 0),
        "codes": codes,
        "errors": result.get("errorDistribution", {}),
    }


def cpu(folder, name):
    """The service's CPU seconds over one of its loads."""
    before, after = load(folder / f"{name}.cpu-before.json"), load(folder / f"{name}.cpu-after.json")
    if before is None or after is None:
        return None
    return after["cpuSeconds"] - before["cpuSeconds"]


def per_million(seconds, records):
    return seconds / records * 1e6 if seconds is not None and records else None


def sub(a, b):
    return a - b if a is not None and b is not None else None


def div(a, b):
    return a / b if a is not None and b else None


def get(d, *keys):
    for k in keys:
        if d is None:
            return None
        d = d.get(k)
    return d


def spread(values):
    """Median and min-max of the values that are there; `complete` when every run has one."""
    present = [v for v in values if v is not None]
    if not present:
        return {"values": values, "median": None, "min": None, "max": None, "complete": False}
    return {
        "values": values,
        "median": statistics.median(present),
        "min": min(present),
        "max": max(present),
        "complete": len(present) == len(values),
    }


def sh(command):
    try:
        return subprocess.run(command, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001 - a missing tool only leaves a blank in the description
        return ""


# ---------------------------------------------------------------------------------------------
# One run's figures: numbers by name, and the records and CPU of each service path.
# ---------------------------------------------------------------------------------------------
def one_run(folder):
    v, records, service_cpu, raw_cpu = {}, {}, {}, {}
    raw = {k: load(folder / f"raw-{k}.json") for k in ["idempotent-100", "idempotent-1024", "plain-100", "latency", "inflight-64"]}
    for k in ["idempotent-100", "idempotent-1024", "plain-100"]:
        v[f"raw-{k}"] = get(raw[k], "recordsPerSecond")
        raw_cpu[f"raw-{k}"] = per_million(get(raw[k], "cpuSeconds"), get(raw[k], "records"))
        batch = oha(folder / f"batch-{k}.json", only_200=True)
        v[f"batch-{k}"] = batch and batch["rate"] * BATCH
        v[f"batch-{k}-p99"] = batch and batch["p99"]
        records[f"batch-{k}"] = batch and batch["ok"] * BATCH
    v["raw-latency-p50"] = get(raw["latency"], "p50Ms")
    v["raw-latency-p99"] = get(raw["latency"], "p99Ms")
    v["raw-inflight-64"] = get(raw["inflight-64"], "recordsPerSecond")
    v["raw-inflight-64-p50"] = get(raw["inflight-64"], "p50Ms")
    v["raw-inflight-64-p99"] = get(raw["inflight-64"], "p99Ms")
    raw_cpu["raw-inflight-64"] = per_million(get(raw["inflight-64"], "cpuSeconds"), get(raw["inflight-64"], "records"))
    for name in ["sync-c1", "sync-c64", "noop-c64", "async-c64"]:
        r = oha(folder / f"{name}.json")
        v[name] = r and r["rate"]
        v[f"{name}-p50"] = r and r["p50"]
        v[f"{name}-p99"] = r and r["p99"]
        records[name] = r and r["ok"]
    for name in ["v2-100", "batch-100"]:
        r = oha(folder / f"{name}.json", only_200=True)
        v[name] = r and r["rate"] * PER_100
        v[f"{name}-p99"] = r and r["p99"]
        records[name] = r and r["ok"] * PER_100
    stream = load(folder / "v3-stream.json")
    v["v3-stream"] = get(stream, "records_per_s")
    v["v3-stream-failed"] = get(stream, "failed")
    records["v3-stream"] = get(stream, "records")
    for name in ["json", "avro"]:
        r = load(folder / f"{name}.json")
        v[name] = get(r, "records_per_s")
        records[name] = r and r["requests"] * BATCH
    for name, n in records.items():
        service_cpu[name] = per_million(cpu(folder, name), n)
    return v, service_cpu, raw_cpu


per_run = [one_run(RUN / f"r{r}") for r in range(1, RUNS + 1)]
values = [p[0] for p in per_run]
service_cpu = [p[1] for p in per_run]
raw_cpu = [p[2] for p in per_run]


def series(name):
    return spread([v.get(name) for v in values])


# Figures repeated in every run: (name, label, unit, decimals).
FIGURES = [
    ("raw-idempotent-100", "raw rdkafka, idempotent, 100 B", "msg/s", 0),
    ("batch-idempotent-100", "batch endpoint, idempotent, 100 B (1000 records a request, c=4)", "msg/s", 0),
    ("batch-idempotent-100-p99", "… its p99 a request", "ms", 2),
    ("raw-idempotent-1024", "raw rdkafka, idempotent, 1 KB", "msg/s", 0),
    ("batch-idempotent-1024", "batch endpoint, idempotent, 1 KB", "msg/s", 0),
    ("batch-idempotent-1024-p99", "… its p99 a request", "ms", 2),
    ("raw-plain-100", "raw rdkafka, plain, 100 B", "msg/s", 0),
    ("batch-plain-100", "batch endpoint, plain, 100 B", "msg/s", 0),
    ("batch-plain-100-p99", "… its p99 a request", "ms", 2),
    ("raw-latency-p50", "raw, one at a time (linger 0), p50", "ms", 2),
    ("raw-latency-p99", "raw, one at a time (linger 0), p99", "ms", 2),
    ("sync-c1-p50", "single sync, c=1, p50", "ms", 2),
    ("sync-c1-p99", "single sync, c=1, p99", "ms", 2),
    ("sync-c1", "single sync, c=1", "req/s", 0),
    ("raw-inflight-64", "raw, 64 one-at-a-time loops", "msg/s", 0),
    ("raw-inflight-64-p99", "raw, 64 one-at-a-time loops, p99", "ms", 2),
    ("sync-c64", "single sync, c=64", "req/s", 0),
    ("sync-c64-p99", "single sync, c=64, p99", "ms", 2),
    ("noop-c64", "GET /health (no Kafka), c=64", "req/s", 0),
    ("async-c64", "single async, c=64", "req/s", 0),
    ("async-c64-p99", "single async, c=64, p99", "ms", 2),
    ("v2-100", "v2 (json.v2), 100 records a request, c=4", "msg/s", 0),
    ("batch-100", "batch endpoint, the same 100 records a request, c=4", "msg/s", 0),
    ("v3-stream", "v3, one stream on one connection", "records/s", 0),
    ("v3-stream-failed", "v3 stream, records answered with an error", "records", 0),
    ("json", "batch endpoint, 1000 Order records as JSON text, c=4", "records/s", 0),
    ("avro", "batch endpoint, the same as Avro by schema id, c=4", "records/s", 0),
]


def ratio_values(fn):
    out = []
    for v, s, r in per_run:
        try:
            out.append(fn(v, s, r))
        except (KeyError, TypeError):
            out.append(None)
    return out


# Ratios taken within each run: (label, per-run function, comparison, target, unit).
RATIOS = [
    ("single sync p50 at c=1 − raw one-at-a-time p50 (linger 0)", lambda v, s, r: sub(v["sync-c1-p50"], v["raw-latency-p50"]), "<=", 0.5, "ms"),
    ("single sync req/s at c=64 ÷ raw records/s with 64 in flight", lambda v, s, r: div(v["sync-c64"], v["raw-inflight-64"]), ">=", 0.8, ""),
    ("single async req/s ÷ GET /health req/s (c=64)", lambda v, s, r: div(v["async-c64"], v["noop-c64"]), ">=", 0.75, ""),
    ("batch ÷ raw msg/s, idempotent 100 B", lambda v, s, r: div(v["batch-idempotent-100"], v["raw-idempotent-100"]), ">=", 0.9, ""),
    ("batch ÷ raw msg/s, idempotent 1 KB", lambda v, s, r: div(v["batch-idempotent-1024"], v["raw-idempotent-1024"]), ">=", 0.9, ""),
    ("batch ÷ raw msg/s, plain 100 B", lambda v, s, r: div(v["batch-plain-100"], v["raw-plain-100"]), ">=", 0.9, ""),
    ("service ÷ raw CPU seconds per million records (batch, idempotent 100 B)", lambda v, s, r: div(s["batch-idempotent-100"], r["raw-idempotent-100"]), "<=", 1.2, ""),
    ("v2 msg/s (100 records a request) ÷ batch endpoint msg/s (the same 100)", lambda v, s, r: div(v["v2-100"], v["batch-100"]), ">=", 0.9, ""),
    ("v3 stream records/s (one connection) ÷ raw msg/s (idempotent 100 B)", lambda v, s, r: div(v["v3-stream"], v["raw-idempotent-100"]), ">=", 0.8, ""),
    ("Avro records/s ÷ JSON records/s (the same 1000 records a request)", lambda v, s, r: div(v["avro"], v["json"]), ">=", 0.8, ""),
]


def met(stats, op, target):
    """Met only when every run has a value and the whole spread is on the target's side."""
    if not stats["complete"]:
        return None
    return stats["max"] <= target if op == "<=" else stats["min"] >= target


ratios = []
for label, fn, op, target, unit in RATIOS:
    stats = spread(ratio_values(fn))
    ratios.append({"name": label, "op": op, "target": target, "unit": unit, **stats, "met": met(stats, op, target)})

# ---------------------------------------------------------------------------------------------
# Once.
# ---------------------------------------------------------------------------------------------
once = RUN / "once"
startup = load(once / "startup.json") or {}
idle = load(once / "idle.json") or {}
warm = load(once / "warm.json") or {}
loaded = load(once / "loaded.json") or {}
linger = []
for ms in LINGERS:
    lat = load(once / f"linger-latency-{ms}.json")
    rounds = [load(f) for f in sorted(once.glob(f"linger-throughput-{ms}-*.json"))] or [load(once / f"linger-throughput-{ms}.json")]
    rates = [get(tp, "recordsPerSecond") for tp in rounds if get(tp, "recordsPerSecond") is not None]
    cpus = [per_million(get(tp, "cpuSeconds"), get(tp, "records")) for tp in rounds]
    cpus = [c for c in cpus if c is not None]
    linger.append({
        "lingerMs": ms,
        "p50Ms": get(lat, "p50Ms"),
        "p99Ms": get(lat, "p99Ms"),
        "recordsPerSecond": statistics.median(rates) if rates else None,
        "recordsPerSecondRuns": rates,
        "cpuSecondsPerMillion": statistics.median(cpus) if cpus else None,
    })
sweep = {kind: {c: oha(RUN / "sweep" / f"{kind}-c{c}.json") for c in CONCURRENCY} for kind in ["noop", "async", "sync"]}
sweep["peer"] = {c: oha(once / f"peer-c{c}.json") for c in PEER_CONCURRENCY}
v3_single = oha(once / "v3-single-c64.json")
v3_single_cpu = per_million(cpu(once, "v3-single-c64"), v3_single and v3_single["ok"])
first_acks = startup.get("execToFirstAckMsAll") or []
first_ack_max = max(first_acks) if first_acks else None

once_targets = [
    {"name": f"exec → first acknowledged record, every run of {len(first_acks) or 5} (the largest)", "value": first_ack_max,
     "op": "<=", "target": 100, "unit": "ms", "detail": ", ".join(f"{x:,.2f}" for x in first_acks)},
    {"name": "RSS idle (started, one sync record through each producer)", "value": idle.get("rssMiB"), "op": "<=", "target": 16, "unit": "MiB", "detail": ""},
    {"name": f"RSS peak (VmHWM) after every service load (the producers' queues may add up to {QUEUE_MIB} MiB)",
     "value": loaded.get("hwmMiB"), "op": "<=", "target": 64, "unit": "MiB", "detail": ""},
]
for t in once_targets:
    t["met"] = None if t["value"] is None else (t["value"] <= t["target"] if t["op"] == "<=" else t["value"] >= t["target"])

# CPU seconds per million records, per path: the service's, and raw's where raw has the same work.
CPU_PATHS = [
    ("batch-idempotent-100", "batch endpoint, idempotent 100 B", "raw-idempotent-100"),
    ("batch-idempotent-1024", "batch endpoint, idempotent 1 KB", "raw-idempotent-1024"),
    ("batch-plain-100", "batch endpoint, plain 100 B", "raw-plain-100"),
    ("sync-c64", "single sync, c=64", "raw-inflight-64"),
    ("async-c64", "single async, c=64", None),
    ("v2-100", "v2, 100 records a request", None),
    ("batch-100", "batch endpoint, 100 records a request", None),
    ("v3-stream", "v3 stream, one connection", "raw-idempotent-100"),
    ("json", "batch endpoint, Order records as JSON text", None),
    ("avro", "batch endpoint, Order records as Avro", None),
]
cpu_table = []
for name, label, raw_name in CPU_PATHS:
    cpu_table.append({
        "path": name,
        "label": label,
        "service": spread([s.get(name) for s in service_cpu]),
        "rawPath": raw_name,
        "raw": spread([r.get(raw_name) for r in raw_cpu]) if raw_name else None,
    })

# ---------------------------------------------------------------------------------------------
# Tables.
# ---------------------------------------------------------------------------------------------
def fmt(v, d=2):
    return "n/a" if v is None else f"{v:,.{d}f}"


def fmt_spread(stats, d):
    if stats["median"] is None:
        return "n/a", "n/a", "n/a"
    runs = ", ".join(fmt(x, d) for x in stats["values"])
    return fmt(stats["median"], d), f"{fmt(stats['min'], d)} – {fmt(stats['max'], d)}", runs


def verdict(m):
    return "n/a" if m is None else ("yes" if m else "**no**")


figure_lines = ["| figure | median | spread (min – max) | runs | unit |", "|---|---|---|---|---|"]
figures_out = {}
for name, label, unit, d in FIGURES:
    stats = series(name)
    figures_out[name] = {"label": label, "unit": unit, **stats}
    median, rng, runs = fmt_spread(stats, d)
    figure_lines.append(f"| {label} | {median} | {rng} | {runs} | {unit} |")

target_lines = ["| ratio | median | spread (min – max) | runs | target | met |", "|---|---|---|---|---|---|"]
for r in ratios:
    median, rng, runs = fmt_spread(r, 2)
    unit = f" {r['unit']}" if r["unit"] else ""
    target_lines.append(f"| {r['name']} | {median}{unit} | {rng} | {runs} | {r['op'].replace('<=', '≤').replace('>=', '≥')} {r['target']}{unit} | {verdict(r['met'])} |")
for t in once_targets:
    target_lines.append(f"| {t['name']} | {fmt(t['value'])} {t['unit']} | once | {t['detail']} | ≤ {t['target']} {t['unit']} | {verdict(t['met'])} |")

cpu_lines = ["| path | service, median | service, spread | raw rdkafka, median | raw, spread |", "|---|---|---|---|---|"]
for row in cpu_table:
    s_median, s_range, _ = fmt_spread(row["service"], 2)
    if row["raw"]:
        r_median, r_range, _ = fmt_spread(row["raw"], 2)
        r_median = f"{r_median} ({row['rawPath']})"
    else:
        r_median, r_range = "—", "—"
    cpu_lines.append(f"| {row['label']} | {s_median} | {s_range} | {r_median} | {r_range} |")
cpu_lines.append(f"| v3, one record a request, c=64 (once) | {fmt(v3_single_cpu)} | once | — | — |")

once_lines = ["| figure | value | detail |", "|---|---|---|"]
for row in linger:
    once_lines.append(
        f"| raw, linger.ms {row['lingerMs']}: one at a time (2000 records); throughput (1,000,000, median of {len(row['recordsPerSecondRuns'])}) | "
        f"p50 {fmt(row['p50Ms'])} ms, p99 {fmt(row['p99Ms'])} ms | {fmt(row['recordsPerSecond'], 0)} msg/s "
        f"(runs: {', '.join(fmt(r, 0) for r in row['recordsPerSecondRuns'])}), "
        f"CPU {fmt(row['cpuSecondsPerMillion'])} s per million |")
once_lines.append(f"| exec → /health 200 (5 runs) | median {fmt(startup.get('execToHealthMs'))} ms, largest {fmt(startup.get('execToHealthMsMax'))} ms | all: {startup.get('execToHealthMsAll')} |")
once_lines.append(f"| exec → first acknowledged record (5 runs) | median {fmt(startup.get('execToFirstAckMs'))} ms, largest {fmt(first_ack_max)} ms | all: {first_acks} |")
once_lines.append(f"| RSS idle (one sync record through each producer); after one request on every path (async producers, Schema Registry client, 1 KB batches); peak (VmHWM) after every service load | {fmt(idle.get('rssMiB'))} MiB; {fmt(warm.get('rssMiB'))} MiB; {fmt(loaded.get('hwmMiB'))} MiB | the producers' queues are bounded at {QUEUE_MIB} MiB |")
once_lines.append(f"| v3, one JSON record a request (not streamed), c=64 | {fmt(v3_single and v3_single['rate'], 0)} req/s | p50 {fmt(v3_single and v3_single['p50'])} ms, p99 {fmt(v3_single and v3_single['p99'])} ms, statuses {v3_single and v3_single['codes']} |")
for kind, label, cs in [("noop", "GET /health (no Kafka)", CONCURRENCY), ("async", "single async", CONCURRENCY), ("sync", "single sync", CONCURRENCY), ("peer", "Apache Camel route (peer), one record", PEER_CONCURRENCY)]:
    for c in cs:
        r = sweep[kind].get(c)
        once_lines.append(f"| {label}, c={c} | {fmt(r and r['rate'], 0)} req/s | p50 {fmt(r and r['p50'])} ms, p99 {fmt(r and r['p99'])} ms |")

print("Figures, median and spread over", RUNS, "runs")
print("\n".join(figure_lines))
print("\nRatios and targets (met only when the whole spread is on the target's side)")
print("\n".join(target_lines))
print("\nCPU seconds per million records")
print("\n".join(cpu_lines))
print("\nOnce")
print("\n".join(once_lines))

# ---------------------------------------------------------------------------------------------
# The result file.
# ---------------------------------------------------------------------------------------------
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
    "runs": RUNS,
    "concurrency": CONCURRENCY,
    "machine": machine,
    "figures": figures_out,
    "ratios": ratios,
    "onceTargets": once_targets,
    "cpuSecondsPerMillion": cpu_table + [{"path": "v3-single-c64", "service": v3_single_cpu}],
    "perRun": [{"figures": v, "serviceCpuPerMillion": s, "rawCpuPerMillion": r} for v, s, r in per_run],
    "linger": linger,
    "startup": startup,
    "idle": idle,
    "warm": warm,
    "loaded": loaded,
    "v3Single": v3_single,
    "sweep": {kind: {str(c): r for c, r in by_c.items()} for kind, by_c in sweep.items()},
}
RESULTS.mkdir(parents=True, exist_ok=True)
text = json.dumps(result, indent=2, ensure_ascii=False)
(RESULTS / f"{RUN.name.removeprefix('run-')}.json").write_text(text)
(RESULTS / "latest.json").write_text(text)

# ---------------------------------------------------------------------------------------------
# Charts.
# ---------------------------------------------------------------------------------------------
charts = []
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("\nmatplotlib is missing: no charts (bench/run installs it from PyPI)")

if plt is not None:
    # Throughput and p99 against concurrency: the HTTP ceiling, async, sync and the peer.
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for kind, label in [("noop", "GET /health (no Kafka)"), ("async", "single async"), ("sync", "single sync"), ("peer", "Apache Camel route (peer)")]:
        xs = [c for c, r in sweep[kind].items() if r]
        left.plot(xs, [sweep[kind][c]["rate"] for c in xs], marker="o", label=label)
        right.plot(xs, [sweep[kind][c]["p99"] for c in xs], marker="o", label=label)
    ticks = sorted(set(CONCURRENCY) | set(PEER_CONCURRENCY))
    for axis, title, unit in [(left, "throughput", "requests/s"), (right, "p99 latency", "ms")]:
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(ticks, [str(c) for c in ticks])
        axis.set_xlabel("concurrent requests")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    left.legend()
    fig.suptitle(f"kafka-producer vs an Apache Camel HTTP→Kafka route, one record of 100 B (acks=all, idempotent); {RUN.name}")
    fig.tight_layout()
    fig.savefig(RESULTS / "chart.png", dpi=110)
    plt.close(fig)
    charts.append(("throughput and p99 against concurrency", "bench/results/chart.png"))

    # The linger.ms trade-off of raw rdkafka.
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = [row["lingerMs"] for row in linger if row["p50Ms"] is not None]
    left.plot(xs, [row["p50Ms"] for row in linger if row["p50Ms"] is not None], marker="o", label="p50")
    left.plot(xs, [row["p99Ms"] for row in linger if row["p50Ms"] is not None], marker="o", label="p99")
    left.set_title("one record at a time: latency")
    left.set_ylabel("ms")
    left.legend()
    xs = [row["lingerMs"] for row in linger if row["recordsPerSecond"] is not None]
    right.plot(xs, [row["recordsPerSecond"] for row in linger if row["recordsPerSecond"] is not None], marker="o", color="tab:green")
    right.set_title("1,000,000 records: throughput")
    right.set_ylabel("records/s")
    for axis in (left, right):
        axis.set_xticks(LINGERS, [str(ms) for ms in LINGERS])
        axis.set_xlabel("linger.ms")
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
    fig.suptitle(f"raw rdkafka, idempotent, 100 B: the linger.ms trade-off; {RUN.name}")
    fig.tight_layout()
    fig.savefig(RESULTS / "linger.png", dpi=110)
    plt.close(fig)
    charts.append(("raw rdkafka's latency and throughput against linger.ms", "bench/results/linger.png"))

    # Single sync sends: latency against throughput, one point per concurrency.
    fig, axis = plt.subplots(figsize=(8, 4.8))
    points = [(c, r) for c, r in sweep["sync"].items() if r]
    for key, offset in [("p50", (4, -11)), ("p99", (4, 4))]:
        axis.plot([r["rate"] for _, r in points], [r[key] for _, r in points], marker="o", label=key)
        for c, r in points:
            axis.annotate(f"c={c}", (r["rate"], r[key]), textcoords="offset points", xytext=offset, fontsize=8)
    raw_p50 = series("raw-latency-p50")["median"]
    if raw_p50 is not None:
        axis.axhline(raw_p50, linestyle="--", color="grey", label="raw one at a time, p50 (median of runs)")
    # Concurrency multiplies the rate: a log axis keeps the low-concurrency points apart.
    axis.set_xscale("log")
    axis.set_xlabel("requests/s")
    axis.set_ylabel("ms")
    axis.set_ylim(bottom=0)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    axis.set_title(f"single sync sends (idempotent, 100 B): latency against throughput; {RUN.name}")
    fig.tight_layout()
    fig.savefig(RESULTS / "sync.png", dpi=110)
    plt.close(fig)
    charts.append(("single sync latency against throughput", "bench/results/sync.png"))

# ---------------------------------------------------------------------------------------------
# BENCHMARKS.md: only the part between the markers is rewritten.
# ---------------------------------------------------------------------------------------------
machine_lines = "\n".join(f"- {k}: {v}" for k, v in machine.items())
chart_lines = "\n\n".join(f"![{alt}]({path})" for alt, path in charts) or "(no charts: matplotlib was missing)"
generated = f"""`bench/run` on one machine ({RUN.name}): one real Apache Kafka broker (KRaft,
3 partitions, warmed up with two million records), the same records for everyone (a key, 100 B
of payload or 1 KB where said, and the four headers the service adds; v2's JSON format and v3's
JSON type write the value as a JSON string, quotes included), the service's producer settings for
everyone (`acks=all`, idempotence on unless "plain", `linger.ms` 0). Every step of the
comparison ran {RUNS} times, raw and the service one after the other (raw first in odd runs, the
service first in even ones): each figure is the median and the spread (min – max) over the
runs, each ratio is taken within a run, and a target is met only when its whole spread is on
the target's side. Load: oha, closed loop, {DURATION} s a step, the requests in flight at the
end waited for; `examples/batch_load.rs` for Avro and JSON, `examples/stream_load.rs` for the v3
stream (one connection). The service's CPU is read before and after each of its loads. The peer
is an Apache Camel 4.22 HTTP → Kafka route (`bench/camel-peer`, `linger.ms` 5 as in earlier
runs): Strimzi Kafka Bridge is not served by the Maven mirror this machine reaches. Results in
`bench/results/latest.json`.

## The machine

{machine_lines}

The load generator, the broker, the service and the peer share the machine's cores, so every
figure is lower than on separate machines; the ratios are what the run compares.

## Ratios and targets

{chr(10).join(target_lines)}

## Figures ({RUNS} runs)

{chr(10).join(figure_lines)}

## CPU seconds per million records

{chr(10).join(cpu_lines)}

## Once: linger.ms, start-up, memory, v3 one record a request, concurrency

{chr(10).join(once_lines)}

## Charts

{chart_lines}
"""


def rewrite(path, generated):
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    begin, end = text.find(MARK_BEGIN), text.find(MARK_END)
    if begin != -1 and end > begin:
        head, tail = text[:begin], text[end + len(MARK_END):]
    else:
        # No markers yet: what follows the "# Benchmarks" heading, up to a hand-written
        # "## Notes" section (kept), is the generated part.
        heading = re.search(r"^# Benchmarks[^\n]*\n", text, re.M)
        if heading:
            head, rest = text[:heading.end()] + "\n", text[heading.end():]
            notes = re.search(r"^## Notes\b", rest, re.M)
            tail = "\n\n" + rest[notes.start():] if notes else "\n"
        else:
            head, tail = "# Benchmarks\n\n", ("\n\n" + text) if text.strip() else "\n"
    path.write_text(f"{head}{MARK_BEGIN}\n{generated.strip()}\n\n{MARK_END}{tail}")


rewrite(Path("BENCHMARKS.md"), generated)
print(f"\nsaved {RESULTS}/latest.json, {', '.join(p for _, p in charts) or 'no charts'}, and BENCHMARKS.md (between its markers)")
