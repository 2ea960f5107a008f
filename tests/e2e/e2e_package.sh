#!/usr/bin/env bash
# The Debian package (platform/linux/packaging/): lintian, the exact file list with
# modes, the control fields, the conffile, the systemd unit (verified
# offline, and shown to catch a broken one), the man page, the template
# config against the packaged binary, and the maintainer scripts (syntax and
# a lint, then run for real in a private mount namespace over a copy of
# /etc with systemd's tools stubbed: the machine is not changed).
# DROVER_DEB names the package; `./dev test` builds it and sets it. Without
# it the test is skipped (77).
set -euo pipefail
# (sed -n 1p, not head -1, takes a first line: head closing the pipe early
# would kill the writer with SIGPIPE, which pipefail reports as a failure.)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '  %s\n' "$*" >&2; }

DEB=${DROVER_DEB:-}
if [ -z "$DEB" ]; then
  echo "SKIP: DROVER_DEB is not set (./dev test builds the package and sets it; by hand: ./dev package," \
    "then DROVER_DEB=build/drover_<version>_amd64.deb ctest -R e2e_package)"
  exit 77
fi
[ -f "$DEB" ] || fail "DROVER_DEB=$DEB: no such file"
for tool in lintian dpkg-deb systemd-analyze man groff shellcheck readelf md5sum python3 identify; do
  command -v "$tool" >/dev/null || fail "$tool is missing (./dev setup installs it)"
done
T=$(mktemp -d /tmp/drover-package.XXXXXX)  # 0700: the maintainer-script case copies /etc here
trap 'rm -rf "$T"' EXIT
ROOTFS=$T/root
CTRL=$T/control
dpkg-deb -x "$DEB" "$ROOTFS"
dpkg-deb -e "$DEB" "$CTRL"

VERSION=$(sed -n 's/^project(drover VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
RELEASE=$(sed -n 's/^set(DROVER_DEB_RELEASE \([0-9]*\))/\1/p' "$SRC/platform/linux/packaging/package.cmake")
if [ -z "$VERSION" ] || [ -z "$RELEASE" ]; then fail "cannot read the version from CMakeLists.txt / package.cmake"; fi
V="$VERSION-$RELEASE"
echo "package $(basename "$DEB"), version $V"
[ "$(basename "$DEB")" = "drover_${V}_amd64.deb" ] || fail "file name $(basename "$DEB"), wanted drover_${V}_amd64.deb"

echo "lintian: no error (warnings shown)"
out=$(lintian --display-info --pedantic "$DEB" 2>&1 | grep -v '^running with root privileges' || true)
[ -z "$out" ] || sed 's/^/    /' <<<"$out" >&2
if grep -q '^E:' <<<"$out"; then fail "lintian reports errors"; fi
note "lintian: $(grep -c '^E:' <<<"$out" || true) errors, $(grep -c '^W:' <<<"$out" || true) warnings"

echo "contents: exactly the expected files, modes and owners"
want=$(cat <<'EOF'
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/drover/
-rw-r----- root/root ./etc/drover/config.toml
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/drover.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/drover
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/applications/
-rw-r--r-- root/root ./usr/share/applications/drover-tray.desktop
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/drover/
-rw-r--r-- root/root ./usr/share/doc/drover/README.md
-rw-r--r-- root/root ./usr/share/doc/drover/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/drover/copyright
drwxr-xr-x root/root ./usr/share/icons/
drwxr-xr-x root/root ./usr/share/icons/hicolor/
drwxr-xr-x root/root ./usr/share/icons/hicolor/48x48/
drwxr-xr-x root/root ./usr/share/icons/hicolor/48x48/apps/
-rw-r--r-- root/root ./usr/share/icons/hicolor/48x48/apps/drover.png
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/drover
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/drover.8.gz
EOF
)
got=$(dpkg-deb -c "$DEB" | awk '$6 != "./" {print $1, $2, $6}' | sort)
[ "$got" = "$(sort <<<"$want")" ] || fail "contents differ (- wanted, + got):
$(diff <(sort <<<"$want") <(echo "$got") || true)"
# The menu entry starts the tray from PATH, in no terminal, and is the tree's.
DESK=$ROOTFS/usr/share/applications/drover-tray.desktop
cmp -s "$DESK" "$SRC/platform/linux/packaging/drover-tray.desktop" || fail "the menu entry is not the tree's"
python3 - "$DESK" <<'PY' || fail "the menu entry is wrong: $(cat "$DESK")"
import configparser, sys
c = configparser.ConfigParser(interpolation=None)
c.optionxform = str
c.read(sys.argv[1])
e = c["Desktop Entry"]
assert e["Type"] == "Application" and e["Exec"] == "drover tray" and e["Terminal"] == "false", dict(e)
assert e["Categories"].endswith(";") and e["Name"], dict(e)
assert e["Icon"] == "drover", dict(e)
PY
[ "$(identify -format '%m %wx%h' "$ROOTFS/usr/share/icons/hicolor/48x48/apps/drover.png")" = "PNG 48x48" ] ||
  fail "the menu entry's icon is not a 48x48 PNG"
bin=$ROOTFS/usr/bin/drover
if readelf -S "$bin" | grep -qE '\.symtab|\.debug_|\.comment'; then fail "/usr/bin/drover is not stripped"; fi
"$bin" version | grep -qx "drover $VERSION" || fail "packaged binary says '$("$bin" version 2>&1)', wanted 'drover $VERSION'"
cmp -s "$ROOTFS/usr/share/doc/drover/README.md" "$SRC/README.md" || fail "doc README.md is not the tree's"
cmp -s "$ROOTFS/usr/share/doc/drover/copyright" "$SRC/platform/linux/packaging/copyright" || fail "doc copyright is not platform/linux/packaging/copyright"
zcat "$ROOTFS/usr/share/doc/drover/changelog.Debian.gz" | sed -n 1p | grep -q "^drover ($V) " ||
  fail "changelog's top entry is not $V: $(zcat "$ROOTFS/usr/share/doc/drover/changelog.Debian.gz" | sed -n 1p)"
note "$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/' | wc -l) files; binary stripped, $(stat -c %s "$bin") bytes"

echo "control: fields, maintainer scripts, conffiles, md5sums"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = drover ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$V" ] || fail "Version: $(field Version), wanted $V"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
field Description | sed -n 1p | grep -q "SOCKS5" || fail "Description: $(field Description | sed -n 1p)"
[ "$(field Description | wc -l)" -ge 4 ] || fail "no long description"
deps=$(field Depends)
for d in iptables iproute2 adduser 'libc6 (' 'libcaf-core' 'libnetfilter-queue1' 'libsystemd0' 'libstdc++6'; do
  grep -qF "$d" <<<"$deps" || fail "Depends lacks '$d': $deps"
done
note "Depends: $deps"
[ "$(cat "$CTRL/conffiles")" = /etc/drover/config.toml ] || fail "conffiles: $(cat "$CTRL/conffiles")"
for s in postinst prerm postrm; do
  [ "$(stat -c %a "$CTRL/$s")" = 755 ] || fail "$s has mode $(stat -c %a "$CTRL/$s")"
done
[ ! -e "$CTRL/preinst" ] || fail "an unexpected preinst"
(cd "$ROOTFS" && md5sum --quiet -c "$CTRL/md5sums") || fail "md5sums do not match the files"
# Every file but the conffile (dpkg checks that one itself) must be listed.
listed=$(awk '{print "./" $2}' "$CTRL/md5sums" | grep -v '^\./etc/' | sort)
[ "$listed" = "$(cd "$ROOTFS" && find . -type f ! -path './etc/*' | sort)" ] || fail "md5sums does not list every file"

echo "systemd unit: systemd-analyze verify, offline, in the extracted tree"
# The extracted package plus the system's own units (targets) and /bin/kill
# (ExecReload): verify checks that every command exists.
mkdir -p "$ROOTFS/usr/lib/systemd" "$ROOTFS/bin"
cp -a /usr/lib/systemd/system "$ROOTFS/usr/lib/systemd/"
cp /bin/kill "$ROOTFS/bin/kill"
UNIT=$ROOTFS/lib/systemd/system/drover.service
verify() { systemd-analyze verify --man=no --root="$ROOTFS" drover.service 2>&1; }
out=$(verify) || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
# It must catch a broken unit, or the check above proves nothing.
cp "$UNIT" "$T/drover.service.good"
for broken in 's|^ExecStart=/usr/bin/drover |ExecStart=/usr/bin/drover-gone |' 's|^Type=notify$|Type=notifyy|' \
  's|^ProtectSystem=full$|ProtectSystem=fulll|'; do
  sed "$broken" "$T/drover.service.good" >"$UNIT"
  cmp -s "$UNIT" "$T/drover.service.good" && fail "test bug: '$broken' changed nothing"
  out=$(verify) && [ -z "$out" ] && fail "systemd-analyze verify accepts a broken unit ($broken)"
done
cp "$T/drover.service.good" "$UNIT"
note "verify: clean; catches a missing ExecStart binary, a bad Type= and a bad ProtectSystem="
# shellcheck disable=SC2016 # $MAINPID is literal unit text
for kv in Type=notify NotifyAccess=main 'ExecStart=/usr/bin/drover run --no-tray' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'ExecStopPost=/usr/bin/drover cleanup' Restart=on-failure RestartSec=1 StandardError=journal Group=drover \
  RuntimeDirectory=drover RuntimeDirectoryMode=0755 StateDirectory=drover StateDirectoryMode=0700 \
  LogsDirectory=drover LogsDirectoryMode=0750 ProtectHome=read-only ProtectSystem=full PrivateTmp=yes \
  NoNewPrivileges=yes 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' \
  WantedBy=multi-user.target; do
  grep -qxF "$kv" "$UNIT" || fail "the unit lacks '$kv'"
done
if grep -qE '^(AmbientCapabilities|User|DynamicUser|ProtectProc|PrivateNetwork|PrivateUsers)=' "$UNIT"; then
  fail "the unit sets $(grep -E '^(AmbientCapabilities|User|DynamicUser|ProtectProc|PrivateNetwork|PrivateUsers)=' "$UNIT")"
fi
# Hardening must not quietly regress (7.2 today, on systemd's 0-10 scale).
exposure=$(systemd-analyze security --offline=yes --root="$ROOTFS" drover.service 2>&1 | sed -n 's/.*exposure level for drover.service: \([0-9.]*\).*/\1/p')
systemd-analyze security --offline=yes --threshold=75 --root="$ROOTFS" drover.service >/dev/null 2>&1 ||
  fail "systemd-analyze security: exposure $exposure, above 7.5"
note "systemd-analyze security: exposure $exposure"

echo "man page: renders without warnings, every section and command"
MAN=$ROOTFS/usr/share/man/man8/drover.8.gz
warn=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$MAN" 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man warns: $warn"
warn=$(zcat "$MAN" | groff -man -ww -Tutf8 -z 2>&1)
[ -z "$warn" ] || fail "groff warns: $warn"
page=$(zcat "$MAN" | LC_ALL=C.UTF-8 MANWIDTH=80 man -l - 2>/dev/null | col -b)
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILES SIGNALS 'EXIT STATUS' SECURITY 'SEE ALSO'; do
  grep -qx "$sec" <<<"$page" || fail "man page has no $sec section"
done
for word in 'drover run' 'drover check' 'drover status' 'drover dump' 'drover stop' 'drover cleanup' 'drover version' \
  --config --no-tray --json --watch --out /etc/drover/config.toml /var/lib/drover /var/log/drover/drover.log \
  /run/drover/control.sock SIGHUP SIGTERM SIGINT 'group drover'; do
  grep -qF -- "$word" <<<"$(tr -s ' \n' ' ' <<<"$page")" || fail "man page does not mention '$word'"
done
zcat "$MAN" | sed -n 1p | grep -qF "\"drover $VERSION\"" || fail "man page header: $(zcat "$MAN" | sed -n 1p)"
[ "$(MANPATH="$ROOTFS/usr/share/man" man -w drover.8 2>/dev/null)" = "$MAN" ] || fail "man:drover(8) (the unit's Documentation=) is not found"

echo "config template: accepted by drover check (exit 1: proxy unreachable, not 2: config error)"
CONF=$ROOTFS/etc/drover/config.toml
# Every key the parser knows (core/config.cpp) is in the template, set or commented out.
missing=$(python3 - "$SRC/core/config.cpp" "$CONF" <<'PY'
import re, sys
src, conf = open(sys.argv[1]).read(), open(sys.argv[2]).read()
keys = set()
for prefix, names in re.findall(r'unknown_keys\(\s*\*?\w+,\s*"(\w*)\.?",\s*\{([^}]*)\}', src, re.S):
    for k in re.findall(r'"(\w+)"', names):
        keys.add(k if not prefix else prefix + "." + k)
section, have = "", set()
for line in conf.splitlines():
    line = line.lstrip("# ").strip()
    if m := re.match(r'\[(\w+)\]', line): section = m.group(1); have.add(section); continue
    if m := re.match(r'(\w+)\s*=', line): have.add(m.group(1) if not section else section + "." + m.group(1))
if not keys: print("<no keys found in core/config.cpp>")
print(" ".join(sorted(keys - have)))
PY
)
[ -z "$missing" ] || fail "the template lacks keys: $missing"
check_conf() {  # check_conf BINARY FILE: prints "rc stderr"
  local rc=0 err
  # A network namespace of its own (loopback down): the check fails at once
  # and reaches nothing on this machine.
  # Without root a user namespace brings one; where neither can be had the
  # check is not run (never on this machine's network).
  local unshare=(unshare -n)
  [ "$(id -u)" = 0 ] || unshare=(unshare -rn)
  err=$(timeout 60 "${unshare[@]}" "$1" check --config "$2" 2>&1 >/dev/null) || rc=$?
  echo "$rc $err"
}
if [ "$(id -u)" != 0 ] && ! unshare -rn true 2>/dev/null; then
  echo "SKIP: no network namespace of its own for drover check (not root, no user namespaces)"
  exit 77
fi
for b in "$bin" ${DROVER:+"$DROVER"}; do
  r=$(check_conf "$b" "$CONF")
  [ "${r%% *}" = 1 ] || fail "$b check --config template: exit ${r%% *}, wanted 1: ${r#* }"
  if grep -qiE 'warning|config error' <<<"${r#* }"; then fail "$b check warns about the template: ${r#* }"; fi
done
sed 's/^port = 1080 /port = 0    /' "$CONF" >"$T/broken.toml"
r=$(check_conf "$bin" "$T/broken.toml")
[ "${r%% *}" = 2 ] || fail "a broken template (port = 0) gave exit ${r%% *}, wanted 2: ${r#* }"
note "template: exit 1 (no proxy here), no warning; every known key present; a broken copy: exit 2"

echo "maintainer scripts: sh -n, shellcheck"
for s in postinst prerm postrm; do
  sh -n "$CTRL/$s" || fail "$s: syntax error"
  head -1 "$CTRL/$s" | grep -qx '#!/bin/sh' || fail "$s: not #!/bin/sh"
  grep -q '^set -e' "$CTRL/$s" || fail "$s: no set -e"
done
shellcheck -s sh "$CTRL/postinst" "$CTRL/prerm" "$CTRL/postrm" || fail "shellcheck"

if [ "$(id -u)" != 0 ]; then
  note "maintainer scripts not run: that needs root (a private mount namespace)"
  echo PASS
  exit 0
fi
echo "maintainer scripts, run: install, upgrade, remove, purge (a private mount namespace, /etc copied)"
# Inside: /etc is a copy (addgroup, the config), /run, /var/lib and /var/log
# are empty tmpfs, dpkg's database is a scratch one (DPKG_ADMINDIR), and
# deb-systemd-helper, deb-systemd-invoke and systemctl are stubs that log.
host_group=$(md5sum </etc/group)
cp -a /etc "$T/etc"
grep -q '^drover:' "$T/etc/group" && sed -i '/^drover:/d' "$T/etc/group" "$T/etc/gshadow"
mkdir -p "$T/etc/drover" "$T/stubs" "$T/dpkg"
install -m 0640 "$CONF" "$T/etc/drover/config.toml"
: >"$T/dpkg/statoverride"
for s in deb-systemd-helper deb-systemd-invoke systemctl; do
  cat >"$T/stubs/$s" <<EOF
#!/bin/sh
echo "$s \$*" >>"\$STUB_LOG"
case "\$1 \${2:-}" in
  "debian-installed "*|"was-enabled "*|"--quiet was-enabled") [ "\${STUB_ENABLED:-0}" = 1 ] ;;
esac
EOF
  chmod 755 "$T/stubs/$s"
done
cp "$CTRL/postinst" "$CTRL/prerm" "$CTRL/postrm" "$T/"
cat >"$T/run.sh" <<'EOF'
set -eu
mount --bind "$T/etc" /etc
for d in /run /var/lib /var/log; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /run/systemd/system  # as on a systemd machine: the scripts reload it
export PATH="$T/stubs:$PATH" DPKG_ADMINDIR="$T/dpkg" STUB_LOG="$T/stub.log"
step() { echo "== $*" >>"$STUB_LOG"; }
mode() { stat -c '%U:%G %a' /etc/drover/config.toml; }
step "postinst configure (first install)"
sh "$T/postinst" configure
getent group drover >/dev/null || { echo "no group drover"; exit 1; }
[ "$(mode)" = "root:drover 640" ] || { echo "config is $(mode)"; exit 1; }
[ "$(dpkg-statoverride --list /etc/drover/config.toml)" = "root drover 640 /etc/drover/config.toml" ] ||
  { echo "statoverride: $(dpkg-statoverride --list)"; exit 1; }
gid=$(getent group drover | cut -d: -f3)
step "postinst configure 0.0.9-1 (upgrade, enabled before)"
STUB_ENABLED=1 sh "$T/postinst" configure 0.0.9-1
[ "$(getent group drover | cut -d: -f3)" = "$gid" ] || { echo "upgrade made a new group"; exit 1; }
step "postinst configure, the config deleted by the administrator"
rm /etc/drover/config.toml
sh "$T/postinst" configure 0.1.0-1 2>/dev/null
step "prerm upgrade"
sh "$T/prerm" upgrade 0.2.0-1
step "prerm remove"
sh "$T/prerm" remove
step "postrm remove"
sh "$T/postrm" remove
mkdir -p /var/lib/drover /var/log/drover
touch /var/lib/drover/stats.json /var/log/drover/drover.log
step "postrm purge"
sh "$T/postrm" purge
if getent group drover >/dev/null; then echo "group drover left after purge"; exit 1; fi
if [ -e /var/lib/drover ] || [ -e /var/log/drover ]; then echo "state or logs left after purge"; exit 1; fi
if dpkg-statoverride --list /etc/drover/config.toml >/dev/null; then echo "statoverride left after purge"; exit 1; fi
step "postrm purge again (after a purge: nothing left to do)"
sh "$T/postrm" purge
echo ok
EOF
out=$(env T="$T" unshare -m --propagation private sh "$T/run.sh" 2>&1) || fail "maintainer scripts: $out
$(cat "$T/stub.log" 2>/dev/null)"
[ "$out" = ok ] || fail "maintainer scripts: $out"
# What they asked of systemd, step by step.
calls=$(cat "$T/stub.log")
sed 's/^/    /' <<<"$calls" >&2
between() { awk -v a="== $1" 'index($0, a) == 1 {on = 1; next} index($0, "== ") == 1 {on = 0} on' <<<"$calls"; }
first=$(between "postinst configure (first install)")
grep -qx 'systemctl --system daemon-reload' <<<"$first" || fail "first install: no daemon-reload"
if grep -qE ' (enable|start|restart|try-restart)( |$)' <<<"$first"; then fail "first install enables or starts the service: $first"; fi
upgrade=$(between "postinst configure 0.0.9-1 (upgrade, enabled before)")
grep -qx 'deb-systemd-helper enable drover.service' <<<"$upgrade" || fail "upgrade of an enabled service: not re-enabled"
grep -qx 'deb-systemd-invoke try-restart drover.service' <<<"$upgrade" || fail "upgrade: no try-restart"
[ -z "$(between "prerm upgrade")" ] || fail "prerm upgrade stops the service: $(between "prerm upgrade")"
grep -qx 'deb-systemd-invoke stop drover.service' <<<"$(between "prerm remove")" || fail "prerm remove does not stop the service"
grep -qx 'deb-systemd-helper purge drover.service' <<<"$(between "postrm purge")" || fail "postrm purge does not purge the unit's state"
[ "$(md5sum </etc/group)" = "$host_group" ] || fail "the machine's /etc/group changed"
note "install: group + 0640 root:drover, not enabled, not started; upgrade keeps enablement and restarts;"
note "remove stops; purge removes state, logs, the override and the group; this machine untouched"
echo PASS
