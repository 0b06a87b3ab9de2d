#!/usr/bin/env python3
"""Small measurements for bench/run: start-up times, process memory and CPU, oha summaries.

  measure.py startup BIN BOOTSTRAP PORT N   exec -> /health 200 and exec -> first acknowledged
                                            record, N times; prints the medians (JSON)
  measure.py wait URL SECONDS               waits until URL answers 200
  measure.py proc PID                       VmRSS, VmHWM (MiB) and CPU seconds of PID (JSON)
  measure.py oha-line FILE NAME             one line of an oha JSON result
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
        "execToFirstAckMs": round(statistics.median(first), 2),
        "execToFirstAckMsAll": [round(x, 2) for x in first],
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


def main():
    command = sys.argv[1]
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
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
