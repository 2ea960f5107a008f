#!/usr/bin/env bash
# The diagnostics dump of a running engine (docs/diagnostics.md): live TCP
# and UDP flows of a target through real dante with username auth; `drover
# dump` and the `save-dump` request give JSON with every section, each flow
# with its process; neither the login nor the password is in a dump or in
# any log. The log rotates at the configured ui.log_max_mb, keeping
# ui.log_backups files. The lifetime totals in stats.json survive `kill -9`
# and a restart; a damaged stats.json starts from zero without failing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup
install_clients
install_tools
start_far
start_dante username

LOGIN=drovertest
PASSWORD=c0rrect-h0rse
LOG_DIR=$E2E_DIR/state/drover
STATS=$LOG_DIR/stats.json  # the state and log directories are one under XDG_STATE_HOME
PROXY_EXTRA="auth = true
login = \"$LOGIN\"
password = \"$PASSWORD\"" TARGETS="$DEFAULT_TARGETS, $TOOL_TARGETS" ENGINE_EXTRA='log_max_mb = 1
log_backups = 1' write_config "$E2E_DIR/dump.toml"
# Saves every 0.5 s instead of every minute (a test-only knob); lib.sh's
# start_engine runs the engine under it.
# shellcheck disable=SC2034
ENGINE_PREFIX="env DROVER_STATS_INTERVAL_MS=500"
start_engine "$E2E_DIR/dump.toml"
wait_state Active 10

# One target process holding a TCP connection (echo on 7000) and a UDP
# socket (echo on 7001) open, each with bytes both ways.
cat >"$E2E_DIR/hold.py" <<'PY'
import socket, sys, time
ip, secs = sys.argv[1], float(sys.argv[2])
t = socket.create_connection((ip, 7000), timeout=5)
t.sendall(b"over tcp\n")
assert t.recv(100) == b"over tcp\n"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.connect((ip, 7001))
u.send(b"over udp")
assert u.recv(100) == b"over udp"
print("ready", flush=True)
time.sleep(secs)
PY
bg "$E2E_DIR/hold.log" in_c "$E2E_DIR/droverpy" "$E2E_DIR/hold.py" "$IP_F" 120
HOLD_PID=$BG_PID
for _ in $(seq 1 100); do grep -q ready "$E2E_DIR/hold.log" && break; sleep 0.05; done
grep -q ready "$E2E_DIR/hold.log" || fail "the holding target did not get its echoes: $(cat "$E2E_DIR/hold.log")"

# check_dump FILE: every section of docs/diagnostics.md, the holder's flows.
cat >"$E2E_DIR/check_dump.py" <<'PY'
import json, re, sys
path, pid = sys.argv[1], int(sys.argv[2])
d = json.load(open(path))
def need(cond, what):
    if not cond:
        sys.exit(f"{path}: {what}")
for key in ("schema", "generated_at", "version", "build", "os", "config", "state", "e3", "status", "lifetime",
            "flows", "targets", "log", "capture"):
    need(key in d, f"no section {key}")
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
need(iso.match(d["generated_at"]), f"generated_at {d['generated_at']}")
for key in ("version", "compiler", "build_type", "built_for"):
    need(isinstance(d["build"].get(key), str) and d["build"][key], f"build.{key}: {d['build']}")
need(d["os"].get("name") == "Linux" and d["os"].get("release"), f"os: {d['os']}")
c = d["config"]
need(c["path"].endswith("dump.toml"), f"config.path {c['path']}")
need('login = "***"' in c["toml"] and 'password = "***"' in c["toml"], f"config.toml not redacted: {c['toml']}")
need(isinstance(c["warnings"], list), "config.warnings")
s = d["state"]
need(s["current"] == "Active", f"state.current {s['current']}")
tr = s["transitions"]
need(1 <= len(tr) <= 100, f"{len(tr)} transitions")
for t in tr:
    need(iso.match(t["time"]) and t["from"] and t["to"] and "cause" in t and t["event"], f"transition {t}")
need([t["to"] for t in tr][:2] == ["Starting", "Active"], f"first transitions {tr[:2]}")
for key in ("reconnects", "driver_reopens", "crash_dumps"):
    need(isinstance(d["e3"].get(key), int), f"e3.{key}: {d['e3']}")
st = d["status"]
need(st["state"] == "Active" and st["tcp_flows"] >= 1 and st["udp_flows"] >= 1, f"status {st}")
need(st["config_path"] == c["path"] and st["log_path"].endswith("/drover.log"), f"status paths {st}")
for key in ("bytes_in", "bytes_out", "flows", "uptime_s"):
    need(isinstance(d["lifetime"].get(key), int), f"lifetime.{key}: {d['lifetime']}")
    need(isinstance(st["lifetime"].get(key), int), f"status.lifetime.{key}: {st['lifetime']}")
flows = d["flows"]
for f in flows:
    for key, kind in (("protocol", str), ("client", str), ("destination", str), ("pid", int), ("process", str),
                      ("bytes_in", int), ("bytes_out", int), ("age_s", int)):
        need(isinstance(f.get(key), kind), f"flow without {key}: {f}")
mine = {f["protocol"]: f for f in flows if f["pid"] == pid}
need(set(mine) == {"tcp", "udp"}, f"the holder's flows (pid {pid}) are not listed as tcp and udp: {flows}")
for proto, port in (("tcp", 7000), ("udp", 7001)):
    f = mine[proto]
    need(f["destination"] == f"198.18.0.3:{port}", f"{proto} destination {f}")
    need(f["client"].startswith("198.18.0.1:"), f"{proto} client {f}")
    need(f["process"] == "droverpy", f"{proto} process {f}")
    need(f["bytes_in"] >= 8 and f["bytes_out"] >= 8, f"{proto} bytes {f}")
    need(f["age_s"] >= 0, f"{proto} age {f}")
need({"pid": pid, "process": "droverpy"} in d["targets"], f"targets {d['targets']}")
lines = d["log"]["lines"]
need(0 < len(lines) <= 500 and d["log"]["ring_capacity"] == 500, f"{len(lines)} log lines")
need(any("engine: Active" in l for l in lines), "no 'engine: Active' among the log lines")
need(d["log"]["path"] == st["log_path"], "log.path")
cap = d["capture"]
need("-j DROVER_OUT" in cap.get("rules_v4", "") and "-j DROVER_OUT" in cap.get("rules_v6", ""), f"rules {cap}")
need(re.match(r"queue 0: bound by netlink port \d+", cap.get("queue", "")), f"queue {cap.get('queue')}")
need("lookup 120" in cap.get("policy_route", ""), f"policy route {cap.get('policy_route')}")
print(f"{len(flows)} flows, {len(tr)} transitions, {len(lines)} log lines")
PY
# no_secrets WHAT FILE...: neither the login nor the password in FILE.
no_secrets() {
  local what=$1; shift
  if grep -l -- "$LOGIN\|$PASSWORD" "$@" 2>/dev/null; then fail "$what names the login or the password"; fi
  return 0
}

echo "drover dump: valid JSON, every section, each flow with its process"
drover_cli dump --out "$E2E_DIR/dump.json" >/dev/null || fail "dump failed"
python3 -m json.tool "$E2E_DIR/dump.json" >/dev/null || fail "the dump is not JSON"
out=$(python3 "$E2E_DIR/check_dump.py" "$E2E_DIR/dump.json" "$HOLD_PID") || fail "the dump is incomplete"
note "$out"
no_secrets "the dump" "$E2E_DIR/dump.json"

echo "save-dump: the engine writes it into its log directory"
ask() {  # ask REQUEST: one request on the control socket, the answer line
  python3 - "$E2E_DIR/run/drover/control.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(15)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while not out.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
print(out.decode().strip())
PY
}
answer=$(ask save-dump)
saved=$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert a["ok"] is True, a; print(a["path"])' "$answer") ||
  fail "save-dump answered $answer"
note "saved $saved"
[[ $saved == "$LOG_DIR"/drover-dump-*.json ]] || fail "save-dump wrote $saved, not into $LOG_DIR"
[ -f "$saved" ] || fail "save-dump named $saved, which is no file"
python3 -m json.tool "$saved" >/dev/null || fail "the saved dump is not JSON"
python3 "$E2E_DIR/check_dump.py" "$saved" "$HOLD_PID" >/dev/null || fail "the saved dump is incomplete"
no_secrets "the saved dump" "$saved"

echo "the log rotates at ui.log_max_mb = 1, keeping ui.log_backups = 1 old file"
pid=$(engine_pid)
first_line() { head -c 200 "$LOG_DIR/drover.1.log" 2>/dev/null | head -1; }
# Each SIGHUP (a config reload) logs a few lines: on until drover.log has
# rotated twice, the second time over the first backup.
rotated=""
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 120 ]; do
  for _ in $(seq 1 200); do kill -HUP "$pid"; done
  sleep 0.02
  [ -f "$LOG_DIR/drover.1.log" ] || continue
  if [ -z "$rotated" ]; then
    rotated=$(first_line)
    note "first rotation after $((SECONDS - t0)) s"
  fi
  [ "$(first_line)" != "$rotated" ] && break
done
note "second rotation after $((SECONDS - t0)) s"
if [ -z "$rotated" ] || [ "$(first_line)" = "$rotated" ]; then fail "drover.log did not rotate twice within 120 s"; fi
sleep 0.5  # the reloads still queued
size1=$(stat -c %s "$LOG_DIR/drover.1.log")
size0=$(stat -c %s "$LOG_DIR/drover.log")
note "drover.1.log $size1 B, drover.log $size0 B"
if [ "$size1" -gt 1048576 ] || [ "$size1" -le $((1048576 - 4096)) ]; then fail "drover.1.log is $size1 B, not just under 1 MB"; fi
[ "$size0" -le 1048576 ] || fail "drover.log grew to $size0 B past 1 MB"
[ ! -e "$LOG_DIR/drover.2.log" ] || fail "drover.2.log kept beside log_backups = 1"
[ "$(engine_field state)" = Active ] || fail "the reloads took the engine out of Active"

echo "lifetime stats: saved while running, kept across kill -9"
lifetime() { engine_status | python3 -c "import json,sys; l=json.load(sys.stdin)['lifetime']; print(l['$1'])"; }
stat_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['$2'])" "$1"; }
in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 /bytes/300000 >/dev/null || fail "fetch failed"
want_in=$(engine_field bytes_in)
[ "$want_in" -ge 300000 ] || fail "only $want_in B relayed"
for _ in $(seq 1 40); do
  [ -f "$STATS" ] && [ "$(stat_field "$STATS" bytes_in)" -ge "$want_in" ] && break
  sleep 0.1
done
saved_in=$(stat_field "$STATS" bytes_in)
saved_flows=$(stat_field "$STATS" flows)
saved_up=$(stat_field "$STATS" uptime_s)
note "stats.json: $(cat "$STATS")"
[ "$saved_in" -ge "$want_in" ] || fail "stats.json has $saved_in B in, the engine relayed $want_in"
[ "$saved_flows" -ge 3 ] || fail "stats.json counts $saved_flows flows (the holder's two and the fetch)"
kill "$HOLD_PID" 2>/dev/null || true
kill -9 "$pid"
wait "$ENGINE_PID" 2>/dev/null || true
start_engine "$E2E_DIR/dump.toml"
wait_state Active 10
[ "$(lifetime bytes_in)" -ge "$saved_in" ] || fail "after kill -9 lifetime.bytes_in is $(lifetime bytes_in) < $saved_in"
[ "$(lifetime flows)" -ge "$saved_flows" ] || fail "after kill -9 lifetime.flows is $(lifetime flows) < $saved_flows"
[ "$(lifetime uptime_s)" -ge "$saved_up" ] || fail "after kill -9 lifetime.uptime_s is $(lifetime uptime_s) < $saved_up"
in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 /bytes/100000 >/dev/null || fail "fetch after the restart failed"
stop_engine
[ "$(stat_field "$STATS" bytes_in)" -ge $((saved_in + 100000)) ] ||
  fail "the stop saved $(stat_field "$STATS" bytes_in) B in, not the previous $saved_in plus this run's"
note "after kill -9, a restart and a stop: $(cat "$STATS")"

echo "a damaged stats.json: counted from zero with a warning, the engine starts"
printf '{"version":1,"bytes_in":' >"$STATS"
start_engine "$E2E_DIR/dump.toml"
wait_state Active 10
grep -q "lifetime stats: .*stats.json is damaged" "$E2E_DIR/engine.log" || fail "no warning about the damaged stats.json"
[ "$(lifetime bytes_in)" -lt "$saved_in" ] || fail "a damaged file did not start from zero"
stop_engine
python3 -m json.tool "$STATS" >/dev/null || fail "stats.json was not replaced by a good one"

echo "neither the login nor the password in any log or state file"
no_secrets "the engine's output" "$E2E_DIR/engine.log"
mapfile -t files < <(find "$E2E_DIR/state" -type f)
[ "${#files[@]}" -ge 4 ] || fail "expected logs, dumps and stats under $E2E_DIR/state: ${files[*]}"
no_secrets "a file in the log or state directory" "${files[@]}"
[ -z "$(drover_leftovers)" ] || fail "rules left behind"
assert_no_target_leak
echo "PASS"
