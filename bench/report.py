#!/usr/bin/env python3
"""Turns bench/run.sh's raw lines into medians, ratios and docs/PERFORMANCE.md."""
import json
import os
import platform
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timezone

raw_path, micro_path, out_json, out_md, kind, rounds = sys.argv[1:7]
values = defaultdict(list)
for line in open(raw_path):
    mode, metric, value = line.split()
    values[(mode, metric)].append(float(value))
med = {f"{m}.{k}": statistics.median(v) for (m, k), v in values.items()}


def g(key):
    return med.get(key)


def ratio(a, b):
    return None if g(a) is None or not g(b) else g(a) / g(b)


def added(a, b):
    return None if g(a) is None or g(b) is None else g(a) - g(b)


# Back-to-back pairs (full run) when there are any, else the per-mode samples.
nontarget_ratio = ratio("engine_on.nontarget_pair", "engine_off.nontarget_pair") or \
    ratio("drover.nontarget_up_1", "direct.nontarget_up_1")

micro = json.load(open(micro_path))
mt = {b["name"]: b["real_time"] for b in micro["benchmarks"]}
micro_ratios = {
    "parse_reflect_1500_vs_memcpy": mt["BM_parse_reflect/1500"] / mt["BM_memcpy_baseline/1500"],
    "parse_reflect_64k_vs_memcpy": mt["BM_parse_reflect/65535"] / mt["BM_memcpy_baseline/65535"],
    "full_checksum_64k_vs_memcpy": mt["BM_full_checksum/65535"] / mt["BM_memcpy_baseline/65535"],
    "flow_table_10k_vs_unordered_map": mt["BM_flow_table_lookup_10k"] / mt["BM_unordered_map_baseline"],
    "udp_encap_decap_1400_vs_copy": mt["BM_udp_encap_decap/1400"] / mt["BM_vector_copy_baseline/1400"],
}

targets = [
    ("TCP upload vs redsocks", ratio("drover.tcp_up_1", "redsocks.tcp_up_1"), ">=", 1.0),
    ("TCP download vs redsocks", ratio("drover.tcp_down_1", "redsocks.tcp_down_1"), ">=", 1.0),
    ("TCP upload vs proxychains4", ratio("drover.tcp_up_1", "proxychains.tcp_up_1"), ">=", 0.9),
    ("TCP download vs proxychains4", ratio("drover.tcp_down_1", "proxychains.tcp_down_1"), ">=", 0.9),
    ("TCP 8-stream upload vs redsocks", ratio("drover.tcp_up_8", "redsocks.tcp_up_8"), ">=", 1.0),
    ("TCP 8-stream download vs redsocks", ratio("drover.tcp_down_8", "redsocks.tcp_down_8"), ">=", 1.0),
    ("TCP 8-stream upload vs proxychains4", ratio("drover.tcp_up_8", "proxychains.tcp_up_8"), ">=", 0.9),
    ("TCP 8-stream download vs proxychains4", ratio("drover.tcp_down_8", "proxychains.tcp_down_8"), ">=", 0.9),
    ("connect p50 added over proxychains4 (us)", added("drover.conn_p50_us", "proxychains.conn_p50_us"), "<=", 100),
    ("UDP RTT p99 added over direct (us)", added("drover.udp_p99_us", "direct.udp_p99_us"), "<=", 300),
    ("UDP loss at voice load", g("drover.udp_loss"), "<=", 0.0),
    ("non-target throughput, engine on vs off", nontarget_ratio, ">=", 0.95),
    ("idle CPU (% of a core)", g("drover.idle_cpu_pct"), "<", 0.5),
    ("RSS at 1,000 flows (MB)", g("drover.rss_mb_at_1000"), "<", 30),
    (f"soak RSS drift, second half of {g('drover.soak_secs') or 0:.0f} s (MB)", g("drover.soak_drift_mb"), "<", 5),
]


def verdict(v, op, lim):
    if v is None:
        return "not measured"
    ok = {">=": v >= lim, "<=": v <= lim, "<": v < lim}[op]
    return "meets" if ok else "MISSES"


cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
meta = {
    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "kind": kind,
    "rounds": int(rounds),
    "machine": f"{cpu}, {os.cpu_count()} cores, kernel {platform.release()}",
    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
}
json.dump({"meta": meta, "medians": med, "micro_ratios": micro_ratios,
           "targets": [{"name": n, "value": v, "op": o, "limit": l, "verdict": verdict(v, o, l)}
                       for n, v, o, l in targets]}, open(out_json, "w"), indent=2)


def fmt(v, unit=""):
    if v is None:
        return "–"
    if unit == "bps":
        return f"{v / 1e9:.2f} Gbit/s"
    return f"{v:.3g}{unit}"


pair_note = "" if g("engine_on.nontarget_pair") is None else f"""The target's
ratio comes from samples taken back to back (engine off, on, on, off in every round):
{fmt(g('engine_on.nontarget_pair'), 'bps')} on against {fmt(g('engine_off.nontarget_pair'), 'bps')} off. """

rows = []
for metric, label, unit in [("tcp_up_1", "TCP upload, 1 stream", "bps"), ("tcp_down_1", "TCP download, 1 stream", "bps"),
                            ("tcp_up_8", "TCP upload, 8 streams", "bps"), ("tcp_down_8", "TCP download, 8 streams", "bps"),
                            ("tcp_up_1_cpu_s_per_gb", "machine CPU per GB, 1-stream upload (s)", ""),
                            ("tcp_down_1_cpu_s_per_gb", "machine CPU per GB, 1-stream download (s)", ""),
                            ("tcp_up_8_cpu_s_per_gb", "machine CPU per GB, 8-stream upload (s)", ""),
                            ("tcp_down_8_cpu_s_per_gb", "machine CPU per GB, 8-stream download (s)", ""),
                            ("conn_per_s", "sequential connections/s", ""), ("conn_p50_us", "connect→first byte p50 (µs)", ""),
                            ("conn_p99_us", "connect→first byte p99 (µs)", ""), ("udp_p50_us", "UDP RTT p50, 20×50/s (µs)", ""),
                            ("udp_p99_us", "UDP RTT p99, 20×50/s (µs)", ""), ("udp_loss", "UDP loss", ""),
                            ("conc_per_s", f"{200} concurrent connections, per s", ""),
                            ("udp_max_pps", "UDP highest rate with ≤ 0.1 % loss (datagrams/s)", ""),
                            ("nontarget_up_1", "non-target TCP upload", "bps"),
                            ("nontarget_conn_p50_us", "non-target connect→first byte p50 (µs)", "")]:
    cells = [fmt(g(f"{m}.{metric}"), unit) for m in ["direct", "proxychains", "redsocks", "drover"]]
    rows.append(f"| {label} | " + " | ".join(cells) + " |")

md = f"""# Performance

Measured by `./dev bench{' --quick' if kind == 'quick' else ''}` ({kind} run, {rounds} interleaved rounds, medians).
Machine: {meta['machine']}. Date: {meta['date']}. Commit: {meta['commit']}.
All four configurations run in the same invocation, in network namespaces on one machine
(client → dante on a veth bridge → far server), so they share every cost but the one measured.
Each round starts with the next configuration, so none always runs first or last.
"Machine CPU per GB" is the busy time of both cores (every process and the kernel) per GB moved.
Raw numbers: `bench/results/e2e-*.json`, `bench/results/raw-*.txt`, `bench/results/micro-*.json`.

## Targets

| target | value | limit | verdict |
|---|---|---|---|
""" + "\n".join(f"| {n} | {fmt(v)} | {o} {l} | {verdict(v, o, l)} |" for n, v, o, l in targets) + """

## End to end (medians)

| metric | direct | proxychains4 → dante | redsocks → dante | Drover → dante |
|---|---|---|---|---|
""" + "\n".join(rows) + f"""

For non-target traffic, "direct" is the engine off and "Drover" the engine on. {pair_note}Connection
tracking alone (one NAT rule that never matches, as any REDIRECT setup loads) gives
{fmt(g('conntrack.nontarget_up_1'), 'bps')} for the same non-target upload
({fmt(ratio('conntrack.nontarget_up_1', 'direct.nontarget_up_1'))}× engine-off).

Soak: {fmt(g('drover.soak_secs'))} s of mixed target traffic ({fmt(g('drover.soak_rounds'))} rounds of a 2 MB fetch, 50
sequential and 50 concurrent connections, 200 UDP datagrams on 4 new flows): RSS
{fmt(g('drover.soak_rss_start_mb'))} MB after warm-up, {fmt(g('drover.soak_rss_half_mb'))} MB at half-time
({fmt(g('drover.soak_udp_flows_half'))} idle UDP flows waiting out their 5-minute timeout), {fmt(g('drover.soak_rss_end_mb'))} MB at
the end ({fmt(g('drover.soak_udp_flows_end'))} UDP flows), {fmt(g('drover.soak_rss_max_mb'))} MB at most.
Wall time of this run: {fmt(g('bench.wall_secs'))} s.

Drover's idle CPU: {fmt(g('drover.idle_cpu_pct'))} % of a core. RSS: """ + ", ".join(
    f"{k.split('_at_')[1]} flows {fmt(v)} MB" for k, v in sorted(med.items(), key=lambda kv: int(kv[0].split('_at_')[1]) if '_at_' in kv[0] else 0)
    if k.startswith("drover.rss_mb_at_")) + """.

## Micro benchmarks (ratio to a baseline in the same run)

| operation | ratio |
|---|---|
""" + "\n".join(f"| {k} | {v:.2f}× |" for k, v in micro_ratios.items()) + """

## Commands

```
./dev bench --quick   # < 3 min: 3 rounds (8 streams in the first only), 1 s iperf3 runs, 300 connections, 10 s soak
./dev bench           # full: 5 rounds, 10 s runs, 2,000 connections, 9,000-flow RSS, 10 min soak (~40 min)
```
"""
with open(out_md, "w") as f:
    f.write(md)
    notes = os.path.join(os.path.dirname(out_md), "PERFORMANCE-notes.md")
    if os.path.exists(notes):
        f.write("\n" + open(notes).read())
print(open(out_md).read())
