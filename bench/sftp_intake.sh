#!/usr/bin/env bash
# Benchmark: the same 1 GiB valid signal CSV uploaded with the OpenSSH sftp client
#   (a) through meldpunt (validated + sealed with age + receipt written before the close is answered)
#   (b) through OpenSSH sshd with internal-sftp and a chroot (stored as plain bytes)
# in one run, alternating, and prints the time ratio meldpunt/OpenSSH. Never fails on a time.
# Each round also prints the floor (bench/floor.sh): the least time meldpunt could take here.
#
# Usage: bench/sftp_intake.sh [SIZE_MIB]   (default 1024; needs openssh-server, installed if missing)
#   ROUNDS (default 3); MELDPUNT_BIN (use this binary instead of building the tree);
#   PERF=1 (after the rounds, one more meldpunt upload with `perf record` attached to the
#   daemon; prints where its CPU time went: self time per function and per thread;
#   PERF_DATA=FILE keeps the recording)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
ROUNDS="${ROUNDS:-3}"

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ! -x /usr/sbin/sshd ] || ! command -v bc >/dev/null || ! command -v age >/dev/null || ! command -v openssl >/dev/null; then
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openssh-server openssh-client bc age openssl >/dev/null
fi
. bench/floor.sh
PERF="${PERF:-0}"
[ "$PERF" != 1 ] || command -v perf >/dev/null || need_perf=1
if [ -n "${need_perf:-}" ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf >/dev/null
fi
if [ -n "${MELDPUNT_BIN:-}" ]; then
    BIN="$MELDPUNT_BIN"
else
    cargo build --release --locked -q
    BIN="$PWD/target/release/meldpunt"
fi
W="$(mktemp -d /tmp/meldpunt-bench.XXXXXX)"
# sshd's ChrootDirectory must be root-owned with no group/other-writable component on its
# path (so not under /tmp), and sshd must run as root to chroot at all.
CHROOT="$($sudo mktemp -d /srv/meldpunt-bench-chroot.XXXXXX)"
MP_PID=""; SSHD_PID=""
trap 'kill $MP_PID $SSHD_PID 2>/dev/null || true; rm -rf "$W"; $sudo rm -rf "$CHROOT"' EXIT

# The installation: demo keys and configuration, on free ports.
MELDPUNT_LOG=error "$BIN" demo --dir "$W/inst" --keep --records 1 >/dev/null
sed -i 's/^listen = "127.0.0.1:2222"/listen = "127.0.0.1:0"/' "$W/inst/meldpunt.toml"
KEY="$W/inst/clients/woonstad/ssh_ed25519"

# The file: valid woninghuur records, SIZE_MIB MiB.
echo "generating ${SIZE_MIB} MiB signal CSV…" >&2
# Measure the generator's bytes per record on a small sample, then size the real file.
PER_RECORD=$("$BIN" sample --kind woninghuur --records 10000 --households 5000 --prefix BENCH | wc -c)
RECORDS=$(( SIZE_MIB * 1024 * 1024 * 10000 / PER_RECORD ))
"$BIN" sample --kind woninghuur --records "$RECORDS" --households 200000 --prefix BENCH > "$W/signalen.csv"
BYTES=$(stat -c %s "$W/signalen.csv")

# meldpunt
"$BIN" serve --config "$W/inst/meldpunt.toml" > "$W/mp.out" 2> "$W/mp.err" &
MP_PID=$!
for _ in $(seq 100); do grep -q ready "$W/mp.out" 2>/dev/null && break; sleep 0.1; done
MP_PORT=$(grep -o 'sftp=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2)

# OpenSSH internal-sftp with chroot
mkdir -p "$W/sshd"
$sudo chmod 755 "$CHROOT"
$sudo mkdir "$CHROOT/inbox"
$sudo chown "$(id -u)" "$CHROOT/inbox"
ssh-keygen -q -t ed25519 -N '' -f "$W/sshd/host_ed25519"
cp "$KEY.pub" "$W/sshd/authorized_keys"; chmod 600 "$W/sshd/authorized_keys"
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
Subsystem sftp internal-sftp
ForceCommand internal-sftp
ChrootDirectory $CHROOT
CONF
mkdir -p /run/sshd 2>/dev/null || true
$sudo /usr/sbin/sshd -f "$W/sshd/sshd_config" -D -e 2> "$W/sshd.err" &
SSHD_PID=$!
sleep 1

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR -i "$KEY")
USER_NAME=$(id -un)
put_file() { # port user remote-name
    echo "put $W/signalen.csv /inbox/$3" | sftp -q -b - -P "$1" "${SSH_OPTS[@]}" "$2@127.0.0.1"
}
upload() { # port user remote-name → seconds; the client's CPU seconds go to $W/client.cpu
    local t0 t1
    t0=$(date +%s.%N)
    cpu_of "$W/client.cpu" put_file "$@"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

# CPU seconds per thread name of the daemon (intake = validate and encode, seal = hash and
# encrypt, tokio-rt-worker = SSH and SFTP), to compare before and after an upload.
# Threads that ended during the upload (older builds end theirs) count in "process" only.
thread_cpu() {
    local t
    {
        # utime + stime: fields 14 and 15 of stat, 12 and 13 after the "(comm)" field.
        echo "process $(sed 's/.*) //' /proc/"$MP_PID"/stat | awk '{print $12 + $13}')"
        for t in /proc/"$MP_PID"/task/*; do
            echo "$(tr -d ' ' < "$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')"
        done
    } | awk '{cpu[$1] += $2} END {for (k in cpu) print k, cpu[k]}' | sort
}
cpu_delta() { # before after
    join -a2 -e0 -o 0,1.2,2.2 "$1" "$2" | awk -v hz="$(getconf CLK_TCK)" \
        '{d = ($3 - $2) / hz; if (d > 0) printf "%s %.2fs  ", $1, d} END {print ""}'
}

echo "file: $BYTES bytes, $RECORDS records; $ROUNDS rounds, alternating" >&2
read -r SHA_CPU AGE_CPU < <(crypto_cpu "$W/signalen.csv" "$W")
SSHD_MAIN=$(cat "$W/sshd/sshd.pid")
best_mp=999999; best_os=999999; best_floor=""
for r in $(seq "$ROUNDS"); do
    # A different name and a changed first referentie each round keep meldpunt from
    # answering 'duplicate' (which would skip nothing but the vault rename anyway).
    sed -i "2s/^BENCH[0-9]*-/BENCH$r-/" "$W/signalen.csv"
    thread_cpu > "$W/cpu.before"
    mp=$(upload "$MP_PORT" woonstad "round$r.csv")
    thread_cpu > "$W/cpu.after"
    echo "  meldpunt CPU by thread: $(cpu_delta "$W/cpu.before" "$W/cpu.after")" >&2
    # sshd's per-connection processes count in the listener's CPU once it has reaped them.
    s0=$(proc_cpu "$SSHD_MAIN")
    os=$(upload "$SSHD_PORT" "$USER_NAME" "round$r.csv")
    sleep 0.5
    s1=$(proc_cpu "$SSHD_MAIN")
    $sudo rm -f "$CHROOT/inbox/round$r.csv"
    printf 'round %d: meldpunt %.2fs  openssh %.2fs\n' "$r" "$mp" "$os"
    floor=$(print_floor "$os" "$(cat "$W/client.cpu")" "$(echo "$s1 - $s0" | bc -l)" "$SHA_CPU" "$AGE_CPU")
    echo "  $floor"
    best_mp=$(echo "if ($mp < $best_mp) $mp else $best_mp" | bc -l)
    if [ "$(echo "$os < $best_os" | bc -l)" = 1 ]; then best_os=$os; best_floor=$floor; fi
done
if [ "$PERF" = 1 ]; then
    sed -i "2s/^BENCH[0-9]*-/BENCHPERF-/" "$W/signalen.csv"
    perf record -q -F 499 -g -p "$MP_PID" -o "$W/perf.data" 2>/dev/null &
    PERF_PID=$!
    sleep 0.5
    t=$(upload "$MP_PORT" woonstad "perf.csv")
    kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true
    printf 'under perf: meldpunt %.2fs\n' "$t"
    echo "== self time per thread (comm)" >&2
    perf report -i "$W/perf.data" --no-children --stdio -g none --sort comm 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12 >&2
    echo "== self time per function (>= 1 %)" >&2
    perf report -i "$W/perf.data" --no-children --stdio -g none --sort symbol --percent-limit 1 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -40 >&2
    [ -z "${PERF_DATA:-}" ] || cp "$W/perf.data" "$PERF_DATA"
    ROUNDS=$((ROUNDS + 1))
fi
R="$W/inst/data/parties/woonstad/receipts"
accepted=$(grep -l '"file_name": "\(round\|perf\)' "$R"/*.receipt.json | xargs grep -l '"status": "accepted"' | wc -l)
[ "$accepted" -eq "$ROUNDS" ] || { echo "meldpunt accepted $accepted of $ROUNDS uploads; the timings are not comparable" >&2; exit 1; }
printf 'best: meldpunt %.2fs (%.0f MiB/s)  openssh internal-sftp %.2fs (%.0f MiB/s)\n' \
    "$best_mp" "$(echo "$BYTES/1048576/$best_mp" | bc -l)" "$best_os" "$(echo "$BYTES/1048576/$best_os" | bc -l)"
printf 'ratio meldpunt/openssh = %.2f  (goal <= 1.0)\n' "$(echo "$best_mp/$best_os" | bc -l)"
echo "$best_floor (OpenSSH's best round)"
