#!/usr/bin/env bash
# Soak (issue 20): SESSIONS concurrent legitimate sessions, half SFTP and half HTTPS, for SECONDS,
# while one hostile address (127.0.0.2) floods both ports with connections and slow-loris
# trickles and tries logins with an unregistered key and TLS without a client certificate.
# Reports: legitimate turns done, errors by kind, the legitimate login time under the flood
# (p50/p95/max), the daemon's peak RSS (VmHWM) and RSS over time, open descriptors and threads
# at the start and the end, whether the hostile address was banned, and the load average.
# Not run in CI; it never fails on a figure, only when it cannot run.
#
# Usage: bench/soak.sh [SESSIONS] [SECONDS]   (defaults 500 and 600; try 100 60 first)
#   MELDPUNT_BIN=path  use this binary instead of building target/release/meldpunt
#   KEEP=1             leave the work folder (installation, logs, samples) behind
#
# The installation is the demo's, plus CREDITORS = ceil(SESSIONS/2/4) creditors soak0… each with
# its own SSH key and client certificate (from the demo CA), so no party has more than 4
# sessions per protocol (max_sessions_per_party and max_connections_per_party are 8; the daemon
# frees a slot once it has handled the disconnect, and with 6 per party under a load average
# of 20 one login in 17,000 found the slots of just-closed sessions still taken). The
# legitimate clients use source addresses 127.0.1.1… with 4 sessions each, under the
# defender's per-address limits, which stay at their defaults. Raised for the soak, because a
# default installation is sized for 64 SFTP sessions, not 500: [sftp] max_sessions,
# [https] max_connections, [defender] max_unauthenticated (so the random early drop, which
# starts at half of it, is not reached by legitimate logins alone) and
# [intake] max_files_per_period (the soak sends thousands of files per creditor).
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS="${1:-500}"
SECONDS_RUN="${2:-600}"
PY="${MELDPUNT_PYTHON:-/usr/bin/python3}"
"$PY" -c 'import paramiko' 2>/dev/null || {
    echo "needs python3-paramiko (apt-get install -y python3-paramiko openssl)" >&2; exit 2; }

if [ -n "${MELDPUNT_BIN:-}" ]; then
    BIN="$MELDPUNT_BIN"
else
    cargo build --release --locked -q --bin meldpunt
    BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/meldpunt"
fi
W="$(mktemp -d /tmp/meldpunt-soak.XXXXXX)"
MP_PID=""; HOSTILE_PID=""; SAMPLER_PID=""
cleanup() {
    kill $SAMPLER_PID $HOSTILE_PID 2>/dev/null || true
    [ -n "$MP_PID" ] && kill "$MP_PID" 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT

CREDITORS=$(( (SESSIONS / 2 + 3) / 4 ))
[ "$CREDITORS" -ge 1 ] || CREDITORS=1
echo "soak: $SESSIONS sessions for $SECONDS_RUN s, $CREDITORS creditors; work folder $W" >&2

# The installation: the demo's, on free ports, with the soak's creditors.
MELDPUNT_LOG=error "$BIN" demo --dir "$W/inst" --keep --records 1 >/dev/null
INST="$W/inst"
CONF="$INST/meldpunt.toml"
sed -i -e 's/^listen = "127.0.0.1:[0-9]*"/listen = "127.0.0.1:0"/' "$CONF"
MAX=$(( SESSIONS + 64 ))
sed -i -e "s/^\[sftp\]$/[sftp]\nmax_sessions = $MAX/" \
       -e "s/^\[https\]$/[https]\nmax_connections = $MAX/" "$CONF"
cat >> "$CONF" <<CONF

[defender]
max_unauthenticated = $(( 2 * MAX ))

[intake]
max_files_per_period = 1000000
CONF
cat > "$W/client.ext" <<EXT
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
EXT
for i in $(seq 0 $(( CREDITORS - 1 ))); do
    c="soak$i"
    d="$INST/clients/$c"
    mkdir -p "$d"
    ssh-keygen -q -t ed25519 -N '' -C "$c@soak" -f "$d/ssh_ed25519"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$c" \
        -keyout "$d/tls.key" -out "$d/tls.csr" 2>/dev/null
    openssl x509 -req -in "$d/tls.csr" -CA "$INST/pki/ca.crt" -CAkey "$INST/pki/ca.key" \
        -CAcreateserial -days 2 -extfile "$W/client.ext" -out "$d/tls.crt" 2>/dev/null
    fp=$(openssl x509 -noout -fingerprint -sha256 -in "$d/tls.crt" | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
    cat >> "$CONF" <<CRED

[[creditor]]
id = "$c"
name = "Soak $i"
phone = "088 000 0000"
email = "soak$i@soak.example"
kinds = ["drinkwater"]
agreements = ["*"]
ssh_key_files = ["clients/$c/ssh_ed25519.pub"]
tls_fingerprints = ["$fp"]
CRED
done
"$BIN" check --config "$CONF" >/dev/null
"$BIN" sample --kind drinkwater --records 3 --households 3 --prefix SOAKXXXXXXXX > "$W/template.csv"

# The daemon.
# As the unit runs it (systemd/meldpunt.service): freed memory goes back to the system at once.
MIMALLOC_PURGE_DELAY="${MIMALLOC_PURGE_DELAY-0}" "$BIN" serve --config "$CONF" > "$W/mp.out" 2> "$W/mp.err" &
MP_PID=$!
for _ in $(seq 300); do grep -q ready "$W/mp.out" 2>/dev/null && break; sleep 0.1; done
SFTP_PORT=$(grep -o 'sftp=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)
HTTPS_PORT=$(grep -o 'https=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)
ADMIN_PORT=$(grep -o 'admin=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MP_PID/status"; }
fds() { ls "/proc/$MP_PID/fd" | wc -l; }
FDS_START=$(fds); THREADS_START=$(status Threads); RSS_START=$(status VmRSS)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Samples every 5 s: seconds, RSS KiB, descriptors, threads, 1-minute load, anonymous and
# file-backed RSS KiB.
( t0=$(date +%s)
  while kill -0 "$MP_PID" 2>/dev/null; do
      echo "$(( $(date +%s) - t0 )) $(status VmRSS) $(fds) $(status Threads) $(cut -d' ' -f1 /proc/loadavg) $(status RssAnon) $(status RssFile)"
      sleep 5
  done ) > "$W/samples" 2>/dev/null &
SAMPLER_PID=$!

# The hostile address first, then the legitimate sessions beside it.
"$PY" bench/soak.py hostile "$INST" "$SFTP_PORT" "$HTTPS_PORT" "$(( SECONDS_RUN + 5 ))" "$W/hostile.json" \
    2> "$W/hostile.err" &
HOSTILE_PID=$!
sleep 3
"$PY" bench/soak.py legit "$INST" "$SFTP_PORT" "$HTTPS_PORT" "$SESSIONS" "$SECONDS_RUN" "$CREDITORS" \
    "$W/template.csv" "$W/legit.json" 2> "$W/legit.err"
FDS_END=$(fds); THREADS_END=$(status Threads); RSS_END=$(status VmRSS)
wait "$HOSTILE_PID" || true
HOSTILE_PID=""
sleep 10
FDS_QUIET=$(fds); THREADS_QUIET=$(status Threads); RSS_QUIET=$(status VmRSS)
HWM=$(status VmHWM)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
BANS=$(MELDPUNT_LOG=error "$BIN" ban list --config "$CONF" 2>&1 || true)
METRICS=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" || true)
ERRORS_LOGGED=$(grep -c ' ERROR ' "$W/mp.err" || true)

echo
echo "== soak: $SESSIONS sessions, $SECONDS_RUN s, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "-- legitimate sessions (bench/soak.py legit):"
cat "$W/legit.json"
echo
echo "-- hostile address 127.0.0.2:"
cat "$W/hostile.json"
echo
echo "-- banned now (meldpunt ban list):"
echo "$BANS"
echo "-- refusals and bans (metrics):"
echo "$METRICS" | grep -E '^meldpunt_(connections_refused_total|bans_total|banned_origins|logins_total)' || true
echo "-- daemon: RSS start ${RSS_START} KiB, end of load ${RSS_END} KiB, after 10 s quiet ${RSS_QUIET} KiB, peak (VmHWM) ${HWM} KiB"
echo "-- daemon: descriptors start $FDS_START, end of load $FDS_END, after 10 s quiet $FDS_QUIET"
echo "-- daemon: threads start $THREADS_START, end of load $THREADS_END, after 10 s quiet $THREADS_QUIET"
echo "-- daemon: ERROR lines in its log: $ERRORS_LOGGED"
echo "-- load average start $LOAD_START, end $LOAD_END (2 cores, shared)"
echo "-- samples (s, RSS KiB, descriptors, threads, load 1 min, RssAnon KiB, RssFile KiB), every 60 s:"
awk 'NR == 1 || $1 % 60 < 5' "$W/samples"
# VmHWM is updated lazily by the kernel, so the peak is the larger of it and the samples.
awk -v hwm="$HWM" -v rss_end="$RSS_END" 'BEGIN { m = 0; f = 0; t = 0 }
     { if ($2 > m) m = $2; if ($3 > f) f = $3; if ($4 > t) t = $4 }
     END { p = hwm; if (m > p) p = m; if (rss_end > p) p = rss_end;
           printf "-- sampled maxima: RSS %d KiB, descriptors %d, threads %d; peak RSS %d KiB (%.0f MiB)\n", m, f, t, p, p / 1024 }' "$W/samples"
if [ -s "$W/legit.err" ]; then echo "-- driver stderr (last lines):"; tail -5 "$W/legit.err"; fi
