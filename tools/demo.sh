#!/usr/bin/env bash
# ./dev demo: the engine end to end in throwaway namespaces. A demo client
# ("droverclient") is found by name; its HTTP fetch and UDP echo go through
# dante, while the same program under another name goes direct. Everything
# is torn down at the end, also on ^C.
set -euo pipefail
DROVER=${1:?usage: demo.sh path/to/drover}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESTCLIENT=${TESTCLIENT:-$(dirname "$DROVER")/drover_testclient}
export DROVER TESTCLIENT
source "$ROOT/tests/e2e/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces, netfilter)" >&2; exit 1; }
e2e_setup
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Hosts: client $IP_C (drover + apps), proxy $IP_P (dante), far server $IP_F"
install_clients
start_far
start_dante none
write_config "$E2E_DIR/drover.toml"
sed 's/^/   /' "$E2E_DIR/drover.toml"

say "2. drover check (the upstream probe)"
in_c "$DROVER" check --config "$E2E_DIR/drover.toml" | sed 's/^/   /'

say "3. drover run in the client namespace"
start_engine "$E2E_DIR/drover.toml"
wait_state Active 10
echo "   engine is Active"

say "4. The target 'droverclient' fetches a page and echoes UDP"
in_c "$E2E_DIR/droverclient" http "$IP_F" 8080 / | sed 's/^/   http: /'
in_c "$E2E_DIR/droverclient" udp "$IP_F" 7001 100 | sed 's/^/   udp:  /'

say "5. The same program as 'plainclient' (not a target) goes direct"
in_c "$E2E_DIR/plainclient" http "$IP_F" 8080 / | sed 's/^/   http: /'

say "6. dante's log: the target's connections via the proxy (the other UDP associations: drover check, the engine's health check and its kept-open watch)"
grep -E 'tcp/connect \[:|udp/udpassociate \[:' "$DANTE_LOG" | sed 's/^.*info: /   /'
say "   The far server saw (peer address: $IP_P = via dante, $IP_C = direct):"
grep "^tcp " "$E2E_DIR/far-peers.log" | grep -v "^tcp $IP_F " | sed 's/^/   /'
# One line per UDP peer: the datagrams each source sent to each port.
awk '$1 == "udp" { n[$2 " to port " $4]++ } END { for (k in n) printf "   udp from %s: %d datagrams\n", k, n[k] }' \
  "$E2E_DIR/far-peers.log"

say "7. drover status"
in_c env XDG_RUNTIME_DIR="$E2E_DIR/run" "$DROVER" status | sed 's/^/   /'

say "8. drover stop: every rule and route removed"
stop_engine
left=$(drover_leftovers)
[ -z "$left" ] && echo "   nothing left behind" || { echo "   LEFT BEHIND: $left"; exit 1; }
say "Demo complete; namespaces removed on exit."

# ./dev demo built the Debian package too (DROVER_DEB); nothing is installed.
if [ -n "${DROVER_DEB:-}" ] && [ -f "$DROVER_DEB" ]; then
  deb=${DROVER_DEB#"$ROOT"/}
  [ "$deb" = "$DROVER_DEB" ] || deb=./$deb
  say "To run Drover as a service on this machine (the demo installed nothing):"
  echo "   sudo apt install $deb"
  echo "   sudoedit /etc/drover/config.toml     # your proxy: [proxy] host, port (auth, login, password)"
  echo "   sudo drover check                    # is the proxy usable? (root reads /etc/drover/config.toml)"
  echo "   sudo systemctl enable --now drover"
  echo "   drover status                        # as root or a member of group drover (sudo adduser \$USER drover)"
  echo "   journalctl -u drover"
else
  say "To install Drover as a service: ./dev package, then sudo apt install ./build/drover_<version>_amd64.deb"
fi
