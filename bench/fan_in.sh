#!/usr/bin/env bash
# Fan-in benchmark (issue 24): CREDITORS creditors, each with its own Ed25519 key and its own
# SSH connection, push a distinct valid signal file of SIZE_MIB MiB at the same moment
#   (a) to meldpunt (validated, sealed with age, state row and receipt written before the
#       close is answered), and
#   (b) to OpenSSH sshd with internal-sftp and a chroot (stored as plain bytes),
# taking turns (ROUNDS rounds, the side that goes first alternating), and prints each side's
# best time, the counts and the ratio meldpunt/OpenSSH. Never fails on a time; exits 1 only if
# the counts disagree (an upload not answered OK, or a receipt, sealed file or stored file
# missing), because then the times are not comparable.
#
# Usage: bench/fan_in.sh [CREDITORS] [SIZE_MIB]   (defaults 200 and 1; root: sshd must run as
#        root to chroot, and 127.0.1.x source addresses are used)
#   ROUNDS=n           rounds (default 3 below 500 creditors, 1 from 500)
#   MELDPUNT_BIN=path  use this binary instead of building it (target dir: $CARGO_TARGET_DIR)
#   FAN_IN_PROCS=n     client processes the creditors are spread over (default 1)
#   FAN_IN_CIPHER=alg  the cipher both sides are held to (default aes128-gcm@openssh.com)
#   FAN_IN_CLIENT=openssh  one OpenSSH sftp process per creditor instead of the asyncssh
#                      driver (files written to disk first; no login times; heavy at 1000)
#   SIDES=meldpunt     run one side only (no ratio; for looking into one side)
#   KEEP=1             leave the work folder (installation, logs, summaries) behind
#
# The clients (bench/fan_in.py, python3-asyncssh, one asyncio process) are the same for both
# sides: every creditor's coroutine waits on one barrier, then connects, logs in with its key
# (curve25519-sha256, the cipher above), opens /inbox/fan_<token>.csv, writes 32 KiB blocks
# with up to 64 in flight (as the OpenSSH sftp client does) and closes. The time runs from the
# barrier to the last close answered. A success is a close answered OK; for meldpunt also a
# receipt with status accepted and a sealed file in data/vault/<period>/; for OpenSSH a file
# of the right size in the chroot. The files are `meldpunt sample` output with the referentie
# prefix replaced per creditor and round (same size, distinct referenties, so no file is a
# duplicate or a correction of another).
#
# Creditor i connects from 127.<a>.<b>.<c>, 4 creditors per address (127.0.1.1 …), as real
# creditors come from their own addresses; so the defender's per-address limits
# (max_connections_per_origin 32, max_unauthenticated_per_origin 8) stay at their defaults and
# only global limits are raised, for meldpunt:
#   [sftp] max_sessions = CREDITORS + 64 (the listener then takes twice that, the default is 64)
#   [defender] max_unauthenticated = 2 × (CREDITORS + 64), so the random early drop, which
#       starts at half of it, is not reached by CREDITORS logins at once (default 64)
# and for sshd the same shape: MaxStartups (CREDITORS+64):30:2×(CREDITORS+64) (default
# 10:30:100) and MaxSessions CREDITORS (a per-connection limit; one is used). Everything else
# stays at its default on both sides, e.g. meldpunt's auth_timeout_secs 30 against sshd's
# LoginGraceTime 120. Both run as they run in production: meldpunt with
# MIMALLOC_PURGE_DELAY=0 (as the systemd unit), sshd forking and re-executing itself per
# connection. All CREDITORS keys are in one authorized_keys file of one local user (root)
# for OpenSSH; sshd reads that file top to bottom at every login.
#
# Peak RSS: meldpunt's VmHWM (one process); for sshd the largest sum of VmRSS over the
# listener and all its per-connection processes, sampled every 0.5 s (shared pages counted in
# every process), and the largest sum of RssAnon. The same sampler runs during both sides.
# Per round it also prints the login times, when the closes were answered (from the barrier),
# and the CPU time of the server (sshd: with its ended per-connection processes) and of the
# clients.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
SIZE_MIB="${2:-1}"
SIDES="${SIDES:-meldpunt openssh}"
if [ -z "${ROUNDS:-}" ]; then if [ "$N" -ge 500 ]; then ROUNDS=1; else ROUNDS=3; fi; fi
PY="${MELDPUNT_PYTHON:-/usr/bin/python3}"
[ "$(id -u)" -eq 0 ] || { echo "run as root: sshd must run as root to chroot" >&2; exit 2; }
if [ ! -x /usr/sbin/sshd ] || ! command -v bc >/dev/null || ! command -v curl >/dev/null \
   || ! command -v age >/dev/null || ! command -v openssl >/dev/null \
   || ! "$PY" -c 'import asyncssh' 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        openssh-server openssh-client bc curl age openssl python3-asyncssh >/dev/null
fi
. bench/floor.sh
if [ -n "${MELDPUNT_BIN:-}" ]; then
    BIN="$MELDPUNT_BIN"
else
    cargo build --release --locked -q --bin meldpunt
    BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/meldpunt"
fi
W="$(mktemp -d /tmp/meldpunt-fanin.XXXXXX)"
# sshd's ChrootDirectory must be root-owned with no group/other-writable component on its
# path (so not under /tmp).
CHROOT="$(mktemp -d /srv/meldpunt-fanin-chroot.XXXXXX)"
MP_PID=""; SSHD_PID=""
cleanup() {
    kill $MP_PID $SSHD_PID 2>/dev/null || true
    rm -rf "$CHROOT"
    if [ -n "${KEEP:-}" ]; then echo "kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "fan-in: $N creditors × $SIZE_MIB MiB, $ROUNDS round(s); work folder $W" >&2

# The installation: the demo's, on free ports, with the fan-in's creditors fan0 … fan<N-1>.
MELDPUNT_LOG=error "$BIN" demo --dir "$W/inst" --keep --records 1 >/dev/null
INST="$W/inst"
CONF="$INST/meldpunt.toml"
sed -i -e 's/^listen = "127.0.0.1:[0-9]*"/listen = "127.0.0.1:0"/' "$CONF"
MAX=$(( N + 64 ))
sed -i -e "s/^\[sftp\]$/[sftp]\nmax_sessions = $MAX/" "$CONF"
cat >> "$CONF" <<CONF

[defender]
max_unauthenticated = $(( 2 * MAX ))
CONF
mkdir -p "$W/keys"
echo "making $N keys…" >&2
for i in $(seq 0 $(( N - 1 ))); do
    ssh-keygen -q -t ed25519 -N '' -C "fan$i@fan-in" -f "$W/keys/fan$i"
    cat >> "$CONF" <<CRED

[[creditor]]
id = "fan$i"
name = "Fan-in $i"
phone = "088 000 0000"
email = "fan$i@fan-in.example"
kinds = ["woninghuur"]
agreements = ["*"]
ssh_keys = ["$(cat "$W/keys/fan$i.pub")"]
CRED
done
"$BIN" check --config "$CONF" >/dev/null

# The file: valid woninghuur records, SIZE_MIB MiB, with a 12-character referentie prefix
# that the clients replace per creditor and round.
PLACEHOLDER=FANXXXXXXXXX
PER_RECORD=$("$BIN" sample --kind woninghuur --records 10000 --households 5000 --prefix "$PLACEHOLDER" | wc -c)
RECORDS=$(( SIZE_MIB * 1024 * 1024 * 10000 / PER_RECORD ))
"$BIN" sample --kind woninghuur --records "$RECORDS" --households "$(( RECORDS / 2 + 1 ))" \
    --prefix "$PLACEHOLDER" > "$W/template.csv"
BYTES=$(stat -c %s "$W/template.csv")
# What hashing and sealing all N files costs on one core (for the floor).
for _ in $(seq "$N"); do cat "$W/template.csv"; done > "$W/all.csv"
read -r SHA_CPU AGE_CPU < <(crypto_cpu "$W/all.csv" "$W")
rm -f "$W/all.csv"

# meldpunt, as the unit runs it (systemd/meldpunt.service): freed memory goes back at once.
MIMALLOC_PURGE_DELAY="${MIMALLOC_PURGE_DELAY-0}" "$BIN" serve --config "$CONF" > "$W/mp.out" 2> "$W/mp.err" &
MP_PID=$!
for _ in $(seq 300); do grep -q ready "$W/mp.out" 2>/dev/null && break; sleep 0.1; done
MP_PORT=$(grep -o 'sftp=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)
ADMIN_PORT=$(grep -o 'admin=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)
[ -n "$MP_PORT" ] || { echo "meldpunt did not start:" >&2; tail -5 "$W/mp.err" >&2; exit 2; }
DATA="$INST/data"
sealed() { find "$DATA/vault" -mindepth 2 -maxdepth 2 -path "$DATA/vault/2*" -name '*.age' | wc -l; }

# OpenSSH internal-sftp with a chroot, the same N keys for one local user.
mkdir -p "$W/sshd"
chmod 755 "$CHROOT"
mkdir "$CHROOT/inbox"
ssh-keygen -q -t ed25519 -N '' -f "$W/sshd/host_ed25519"
cat "$W"/keys/fan*.pub > "$W/sshd/authorized_keys"; chmod 600 "$W/sshd/authorized_keys"
SSHD_PORT=$(( 20000 + RANDOM % 20000 ))
cat > "$W/sshd/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $W/sshd/host_ed25519
PidFile $W/sshd/sshd.pid
AuthorizedKeysFile $W/sshd/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
MaxStartups $MAX:30:$(( 2 * MAX ))
MaxSessions $N
Subsystem sftp internal-sftp
ForceCommand internal-sftp
ChrootDirectory $CHROOT
CONF
mkdir -p /run/sshd
/usr/sbin/sshd -f "$W/sshd/sshd_config" -D -e 2> "$W/sshd.err" &
SSHD_PID=$!
sleep 1
kill -0 "$SSHD_PID" 2>/dev/null || { echo "sshd did not start:" >&2; tail -5 "$W/sshd.err" >&2; exit 2; }
USER_NAME=$(id -un)

# push SIDE ROUND: one fan-in against one side, with the sampler beside it; checks the counts.
BAD=0
push() {
    local side=$1 r=$2 port user tag pid out
    if [ "$side" = meldpunt ]; then port=$MP_PORT; user=creditor; tag=$(printf 'FM%04d' "$r"); pid=$MP_PID
    else port=$SSHD_PORT; user=$USER_NAME; tag=$(printf 'FO%04d' "$r"); pid=$SSHD_PID; fi
    out="$W/$side.$r"
    sync
    rm -f "$out.stop"
    "$PY" bench/fan_in.py sample "$pid" "$out.mem" "$out.stop" &
    local sampler=$!
    "$PY" bench/fan_in.py push "$port" "$user" "$W/keys" "$N" "$W/template.csv" "$PLACEHOLDER" "$tag" "$out.json" \
        2> "$out.err" || true
    touch "$out.stop"; wait "$sampler" || true
    if [ ! -s "$out.json" ]; then
        echo "round $r, $side: the driver wrote nothing:" >&2; tail -5 "$out.err" >&2; BAD=1; return
    fi
    local ok on_disk
    ok=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ok"])' "$out.json")
    # What is on disk once the answers are in.
    if [ "$side" = meldpunt ]; then
        local receipts seal_now
        receipts=$(find "$DATA/parties" -path "*/receipts/fan_$tag*.receipt.json" -print0 \
            | xargs -0 -r grep -l '"status": "accepted"' | wc -l)
        seal_now=$(sealed)
        on_disk="receipts accepted $receipts, sealed files +$(( seal_now - SEALED_BEFORE ))"
        { [ "$receipts" -eq "$ok" ] && [ $(( seal_now - SEALED_BEFORE )) -eq "$ok" ]; } || BAD=1
        SEALED_BEFORE=$seal_now
    else
        local stored
        stored=$(find "$CHROOT/inbox" -name "fan_$tag*.csv" -size "${BYTES}c" | wc -l)
        on_disk="files of $BYTES bytes stored $stored"
        [ "$stored" -eq "$ok" ] || BAD=1
        rm -f "$CHROOT"/inbox/fan_*
    fi
    [ "$ok" -eq "$N" ] || BAD=1
    echo "$on_disk" > "$out.disk"
    "$PY" - "$out.json" "$side" "$r" "$on_disk" "$out.mem" <<'PY' | tee -a "$W/rounds.txt"
import json, sys
s = json.load(open(sys.argv[1]))
try:
    m = json.load(open(sys.argv[5]))
except (OSError, ValueError):
    m = {}
l = s["login_s"]
fmt = lambda v: "-" if v is None else "%.2f" % v
a = s.get("answered_s", {})
print("round %s, %-8s: %s s; %d ok, %d failed; %s; answers %s" % (sys.argv[3], sys.argv[2],
      fmt(s["wall_s"]), s["ok"], s["failed"], sys.argv[4], s["answers"]))
print("    login p50/p95/max %s/%s/%s s; closes answered first/p10/p50/p90/last %s/%s/%s/%s/%s s; "
      "CPU server %s s (user %s, sys %s), clients %s s"
      % (fmt(l["p50"]), fmt(l["p95"]), fmt(l["max"]), fmt(a.get("first")), fmt(a.get("p10")),
         fmt(a.get("p50")), fmt(a.get("p90")), fmt(s["wall_s"]), fmt(m.get("cpu_s")),
         fmt(m.get("user_s")), fmt(m.get("sys_s")), fmt(s.get("client_cpu_s"))))
for k, v in sorted(s["errors"].items(), key=lambda kv: -kv[1]):
    print("    %d × %s" % (v, k))
PY
}

SEALED_BEFORE=$(sealed)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "file: $BYTES bytes ($RECORDS records) per creditor; load average $LOAD_START (2 cores, shared)"
for r in $(seq "$ROUNDS"); do
    if [ $(( r % 2 )) -eq 1 ]; then order="meldpunt openssh"; else order="openssh meldpunt"; fi
    for side in $order; do
        case " $SIDES " in *" $side "*) ;; *) continue ;; esac
        push "$side" "$r"
        sleep 2
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$MP_PID/status")
METRICS=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" || true)

echo
echo "== fan-in: $N creditors × $SIZE_MIB MiB ($BYTES bytes each), $ROUNDS round(s), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "-- load average at start $LOAD_START, at end $LOAD_END"
echo "-- meldpunt refusals and uploads (metrics):"
echo "$METRICS" | grep -E '^meldpunt_(connections_refused_total|uploads_total|uploads_aborted_total|logins_total)' | grep -v ' 0$' || true
echo "-- meldpunt WARN/ERROR lines in its log: $(grep -c -E ' (WARN|ERROR) ' "$W/mp.err" || true)"
grep -E ' (WARN|ERROR) ' "$W/mp.err" | head -5 || true
"$PY" - "$W" "$ROUNDS" "$N" "$HWM" "$SIDES" "$SHA_CPU" "$AGE_CPU" <<'PY'
import json, os, sys
w, rounds, n, hwm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4] or 0)
sides = sys.argv[5].split()
sha_cpu, age_cpu = float(sys.argv[6]), float(sys.argv[7])
def load(side):
    runs, mem = [], {"rss_kib": 0, "anon_kib": 0, "processes": 0, "hwm_kib": 0}
    for r in range(1, rounds + 1):
        try:
            s = json.load(open("%s/%s.%d.json" % (w, side, r)))
            runs.append((s["wall_s"], s["ok"]))
        except (OSError, ValueError):
            runs.append((None, 0))
        try:
            m = json.load(open("%s/%s.%d.mem" % (w, side, r)))
            for k in mem:
                mem[k] = max(mem[k], m[k])
        except (OSError, ValueError):
            pass
    complete = [t for t, ok in runs if ok == n and t is not None]
    return runs, (min(complete) if complete else None), mem
mp_runs, mp, mp_mem = load("meldpunt")
os_runs, os_, os_mem = load("openssh")
fmt = lambda runs: ", ".join("%.2f s (%d ok)" % (t, ok) if t is not None else "- (%d ok)" % ok for t, ok in runs)
print("-- meldpunt rounds: " + fmt(mp_runs))
print("-- openssh  rounds: " + fmt(os_runs))
peak = max(hwm, mp_mem["hwm_kib"], mp_mem["rss_kib"])
print("-- peak RSS: meldpunt %d KiB (%.0f MiB, VmHWM); sshd %d KiB (%.0f MiB) summed VmRSS over up to %d processes, RssAnon %d KiB (%.0f MiB)"
      % (peak, peak / 1024, os_mem["rss_kib"], os_mem["rss_kib"] / 1024, os_mem["processes"], os_mem["anon_kib"], os_mem["anon_kib"] / 1024))
if len(sides) < 2:
    print("one side only (SIDES=%s): no ratio" % " ".join(sides))
elif mp is None or os_ is None:
    print("best: no round in which every upload of %s was answered OK: no ratio" %
          " and ".join(s for s, b in (("meldpunt", mp), ("openssh", os_)) if b is None))
else:
    print("best: meldpunt %.2f s  openssh internal-sftp %.2f s  (%d uploads of 1 file each)" % (mp, os_, n))
    print("ratio meldpunt/openssh = %.2f  (goal <= 0.3 at 200 creditors, issue 24)" % (mp / os_))
    # The floor (bench/floor.sh) for OpenSSH's best round.
    for r in range(1, rounds + 1):
        try:
            s = json.load(open("%s/openssh.%d.json" % (w, r)))
            m = json.load(open("%s/openssh.%d.mem" % (w, r)))
        except (OSError, ValueError):
            continue
        if s["wall_s"] == os_:
            cores = os.cpu_count()
            bare = (s["client_cpu_s"] + sha_cpu + age_cpu) / cores
            transport = bare + m["cpu_s"] / cores
            print("floor: client %.2f, peer server %.2f, SHA-256 %.2f, age %.2f CPU-s; on %d cores meldpunt "
                  "needs >= %.2f s (ratio >= %.2f) with free validation and transport, >= %.2f s (ratio >= "
                  "%.2f) with its transport as costly as the peer server (OpenSSH's best round; see bench/floor.sh)"
                  % (s["client_cpu_s"], m["cpu_s"], sha_cpu, age_cpu, cores, bare, bare / os_, transport,
                     transport / os_))
            break
PY
if [ "$BAD" -ne 0 ]; then
    echo "counts disagree (an upload not answered OK, or a receipt, sealed file or stored file missing): see the rounds above" >&2
    exit 1
fi
