#!/usr/bin/env python3
"""Small measurements for bench/run: start-up times, process memory and CPU, oha summaries.

  measure.py startup BIN BOOTSTRAP PORT N   exec -> /health 200 and exec -> first acknowledged
                                            record, N times; prints every run, the medians and
                                            the largest (JSON)
  measure.py wait URL SECONDS               waits until URL answers 200
  measure.py proc PID                       VmRSS, VmHWM (MiB) and CPU seconds of PID (JSON)
  measure.py oha-line FILE NAME             one line of an oha JSON result
  measure.py cluster-id BASE_URL            the v3 cluster id the service at BASE_URL answers
  measure.py bodies DIR SCHEMA_ID           the request bodies of bench/run, one file each
"""
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def get(url, data=None, timeout=2.0):
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def startup(binary, bootstrap, port, runs):
    health, first = [], []
    env = {
        "PATH": os.environ.get("PATH", ""),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PORT": str(port),
        "LOG_LEVEL": "warn",
    }
    base = f"http://127.0.0.1:{port}"
    body = json.dumps({"topic": "bench-startup", "message": "first"}).encode()
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while get(f"{base}/health", timeout=0.5) != 200:
                if time.perf_counter() - started > 20:
                    raise SystemExit("no /health within 20 s")
                time.sleep(0.0005)
            health.append((time.perf_counter() - started) * 1000)
            while get(f"{base}/api/v1/send", data=body, timeout=10) != 200:
                if time.perf_counter() - started > 30:
                    raise SystemExit("no acknowledged record within 30 s")
                time.sleep(0.001)
            first.append((time.perf_counter() - started) * 1000)
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(json.dumps({
        "runs": runs,
        "execToHealthMs": round(statistics.median(health), 2),
        "execToHealthMsAll": [round(x, 2) for x in health],
        "execToHealthMsMax": round(max(health), 2),
        "execToFirstAckMs": round(statistics.median(first), 2),
        "execToFirstAckMsAll": [round(x, 2) for x in first],
        "execToFirstAckMsMax": round(max(first), 2),
    }))


def proc(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    mib = lambda k: round(int(status[k].split()[0]) / 1024, 2)
    print(json.dumps({"rssMiB": mib("VmRSS"), "hwmMiB": mib("VmHWM"), "cpuSeconds": round(cpu, 3)}))


def oha_line(path, name):
    with open(path) as f:
        result = json.load(f)
    summary = result["summary"]
    p = result.get("latencyPercentiles", {})
    codes = result.get("statusCodeDistribution", {})
    errors = result.get("errorDistribution", {})
    print(
        f"    {name}: {summary['requestsPerSec']:.0f} req/s, p50 {1000 * (p.get('p50') or 0):.2f} ms, "
        f"p99 {1000 * (p.get('p99') or 0):.2f} ms, statuses {codes}" + (f", errors {errors}" if errors else "")
    )


def cluster_id(base):
    with urllib.request.urlopen(f"{base}/v3/clusters", timeout=10) as answer:
        print(json.load(answer)["data"][0]["cluster_id"])


def bodies(folder, schema_id):
    """Every body bench/run sends, written once (a batch body is larger than a command line may
    be). The records are the raw producer's: a key (k0, k1, ...) and 100 B of payload, or 1 KB
    where the name says so."""
    os.makedirs(folder, exist_ok=True)

    def write(name, body):
        with open(os.path.join(folder, f"{name}.json"), "w") as f:
            json.dump(body, f, separators=(",", ":"))

    x = "x" * 100
    for name, size, idempotent in [("idempotent-100", 100, True), ("idempotent-1024", 1024, True), ("plain-100", 100, False)]:
        write(f"batch-{name}", {
            "topic": f"bench-batch-{size}-{str(idempotent).lower()}",
            "isIdempotent": idempotent,
            "records": [{"key": f"k{i}", "message": "x" * size} for i in range(1000)],
        })
    # v2 and our batch endpoint with the same 100 records a request; v2's JSON format takes any
    # JSON value, so the key and the value are JSON strings (written with their quotes).
    write("batch-100", {"topic": "bench-batch-per-100", "isIdempotent": True,
                        "records": [{"key": f"k{i}", "message": x} for i in range(100)]})
    write("v2-100", {"records": [{"key": f"k{i}", "value": x} for i in range(100)]})
    write("sync", {"topic": "bench-sync", "message": x, "isIdempotent": True})
    write("async", {"topic": "bench-async", "message": x, "isAsync": True, "isIdempotent": True})
    # v3, one record per request (a body of known length is answered with its own status).
    write("v3-single", {"key": {"type": "STRING", "data": "k0"}, "value": {"type": "JSON", "data": x}})
    # Avro against JSON text, as bench/schemas: the same 1000 Order records, by schema id or not.
    orders = [{"key": f"k{i}", "message": {"id": i, "total": 100 * i, "currency": "EUR", "note": f"order {i}"}}
              for i in range(1000)]
    write("json", {"topic": "bench-json", "records": orders})
    write("avro", {"topic": "bench-avro", "records": orders, "valueSchema": {"id": int(schema_id)}})


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "startup":
        startup(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif command == "wait":
        deadline = time.time() + float(sys.argv[3])
        while get(sys.argv[2]) != 200:
            if time.time() > deadline:
                raise SystemExit(f"{sys.argv[2]} did not answer 200")
            time.sleep(0.05)
    elif command == "proc":
        proc(int(sys.argv[2]))
    elif command == "oha-line":
        oha_line(sys.argv[2], sys.argv[3])
    elif command == "cluster-id":
        cluster_id(sys.argv[2])
    elif command == "bodies":
        bodies(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
