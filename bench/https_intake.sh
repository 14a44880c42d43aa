#!/usr/bin/env bash
# Benchmark: the same valid signal CSV (default 1 GiB) uploaded with curl over mutual TLS
#   (a) to meldpunt: PUT /v1/inbox/roundN.csv (validated + sealed with age + receipt written
#       before the 201 is answered)
#   (b) to nginx with ssl_verify_client on and dav_methods PUT (stored as plain bytes)
# in one run, alternating, and prints the time ratio meldpunt/nginx. Never fails on a time.
# Each round also prints the floor (bench/floor.sh): the least time meldpunt could take here.
# Both use TLS 1.3, the same server certificate and key, the same CA (and CRL), the same client
# certificate, and HTTP/1.1 (CURL_HTTP=--http2 to compare HTTP/2 instead).
#
# Usage: bench/https_intake.sh [SIZE_MIB]   (default 1024; needs nginx-light, curl and bc,
#        installed if missing — on a systemd host installing nginx also starts its default site)
# SKIP_MELDPUNT=1 measures the nginx half alone (no ratio). ROUNDS (default 3). MELDPUNT_BIN
# uses that binary instead of building the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
ROUNDS="${ROUNDS:-3}"
SKIP_MELDPUNT="${SKIP_MELDPUNT:-0}"
CURL_HTTP="${CURL_HTTP:---http1.1}"

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ! -x /usr/sbin/nginx ] || ! command -v curl >/dev/null || ! command -v bc >/dev/null \
    || ! command -v age >/dev/null || ! command -v openssl >/dev/null; then
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nginx-light curl bc age openssl >/dev/null
fi
. bench/floor.sh
if [ -n "${MELDPUNT_BIN:-}" ]; then
    BIN="$MELDPUNT_BIN"
else
    cargo build --release --locked -q
    BIN="$PWD/target/release/meldpunt"
fi
W="$(mktemp -d /tmp/meldpunt-bench.XXXXXX)"
MP_PID=""; NGINX_PID=""
trap 'kill $MP_PID $NGINX_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT

# The installation: demo keys, certificates and configuration, every listener on a free port.
MELDPUNT_LOG=error "$BIN" demo --dir "$W/inst" --keep --records 1 >/dev/null
sed -i -E 's/^listen = "127\.0\.0\.1:[0-9]+"/listen = "127.0.0.1:0"/' "$W/inst/meldpunt.toml"
D="$W/inst"
CA="$D/pki/ca.crt"; SERVER_CRT="$D/pki/server.crt"; SERVER_KEY="$D/pki/server.key"; CRL="$D/pki/ca.crl"
CLIENT_CRT="$D/clients/woonstad/tls.crt"; CLIENT_KEY="$D/clients/woonstad/tls.key"
if [ ! -f "$CA" ] && [ "$SKIP_MELDPUNT" = 1 ]; then
    # A demo without TLS material (older build): the published examples serve the nginx half.
    T="$PWD/certs-example/tls"
    CA="$T/ca-NOT-FOR-PRODUCTION.crt"; CRL="$T/crl-NOT-FOR-PRODUCTION.pem"
    SERVER_CRT="$T/server-NOT-FOR-PRODUCTION.crt"; SERVER_KEY="$T/server-NOT-FOR-PRODUCTION.key"
    CLIENT_CRT="$T/woonstad-NOT-FOR-PRODUCTION.crt"; CLIENT_KEY="$T/woonstad-NOT-FOR-PRODUCTION.key"
fi
for f in "$CA" "$SERVER_CRT" "$SERVER_KEY" "$CLIENT_CRT" "$CLIENT_KEY"; do
    [ -f "$f" ] || { echo "missing $f (does 'meldpunt demo' create the TLS files yet?)" >&2; exit 1; }
done

# The file: valid woninghuur records, SIZE_MIB MiB.
echo "generating ${SIZE_MIB} MiB signal CSV…" >&2
# Measure the generator's bytes per record on a small sample, then size the real file.
PER_RECORD=$("$BIN" sample --kind woninghuur --records 10000 --households 5000 --prefix BENCH | wc -c)
RECORDS=$(( SIZE_MIB * 1024 * 1024 * 10000 / PER_RECORD ))
"$BIN" sample --kind woninghuur --records "$RECORDS" --households 200000 --prefix BENCH > "$W/signalen.csv"
BYTES=$(stat -c %s "$W/signalen.csv")

# meldpunt
if [ "$SKIP_MELDPUNT" != 1 ]; then
    "$BIN" serve --config "$D/meldpunt.toml" > "$W/mp.out" 2> "$W/mp.err" &
    MP_PID=$!
    for _ in $(seq 100); do grep -q ready "$W/mp.out" 2>/dev/null && break; sleep 0.1; done
    MP_PORT=$(grep -o 'https=[0-9.]*:[0-9]*' "$W/mp.out" | cut -d: -f2 || true)
    [ -n "$MP_PORT" ] || { echo "meldpunt did not report an https= address:" >&2; cat "$W/mp.out" "$W/mp.err" >&2; exit 1; }
fi

# nginx: a non-daemon with its own prefix, configuration, temp folders and logs under $W.
N="$W/nginx"
mkdir -p "$N/store/inbox" "$N/tmp/body" "$N/tmp/proxy" "$N/tmp/fastcgi" "$N/tmp/uwsgi" "$N/tmp/scgi" "$N/logs"
NGINX_PORT=$(( 20000 + RANDOM % 20000 ))
USER_LINE=""; [ "$(id -u)" -ne 0 ] || USER_LINE="user root root;"   # as root: workers stay root to write $W
CRL_LINE=""; [ ! -f "$CRL" ] || CRL_LINE="ssl_crl $CRL;"
cat > "$N/nginx.conf" <<CONF
$USER_LINE
daemon off;
worker_processes auto;
pid $N/nginx.pid;
error_log $N/logs/error.log error;
events { worker_connections 64; }
http {
    access_log $N/logs/access.log;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl http2;
        ssl_protocols TLSv1.3;
        ssl_certificate $SERVER_CRT;
        ssl_certificate_key $SERVER_KEY;
        ssl_client_certificate $CA;
        ssl_verify_client on;
        $CRL_LINE
        client_max_body_size 0;
        root $N/store;
        location /v1/inbox/ {
            alias $N/store/inbox/;
            dav_methods PUT;
            dav_access user:rw;
        }
    }
}
CONF
/usr/sbin/nginx -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" &
NGINX_PID=$!
NGINX_URL="https://127.0.0.1:$NGINX_PORT/v1/inbox"
for _ in $(seq 50); do
    curl -s -o /dev/null --cacert "$CA" --cert "$CLIENT_CRT" --key "$CLIENT_KEY" "$NGINX_URL/" && break
    kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx did not start:" >&2; cat "$N/logs/error.log" >&2; exit 1; }
    sleep 0.1
done
# Fair only if nginx does verify clients: without a certificate it must refuse (400).
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -T /dev/null "$NGINX_URL/nocert.csv" || true)
[ "$code" = 400 ] || { echo "nginx accepted a PUT without a client certificate (HTTP $code)" >&2; exit 1; }

CURL_OPTS=(-sS "$CURL_HTTP" --tlsv1.3 --cacert "$CA" --cert "$CLIENT_CRT" --key "$CLIENT_KEY")
put_file() { # url body-file
    curl "${CURL_OPTS[@]}" -o "$2" -w '%{http_code}\n' -T "$W/signalen.csv" "$1" > "$2.status"
}
upload() { # url body-file → seconds; the status code goes to body-file.status, curl's CPU
    local t0 t1 # seconds to $W/client.cpu
    t0=$(date +%s.%N)
    cpu_of "$W/client.cpu" put_file "$@"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

echo "file: $BYTES bytes, $RECORDS records; $ROUNDS rounds, alternating" >&2
read -r SHA_CPU AGE_CPU < <(crypto_cpu "$W/signalen.csv" "$W")
nginx_cpu() { procs_cpu "$NGINX_PID" $(pgrep -P "$NGINX_PID"); }
best_mp=999999; best_ng=999999; best_floor=""
for r in $(seq "$ROUNDS"); do
    # A different name and a changed first referentie each round keep meldpunt from
    # answering 'duplicate' (which would skip nothing but the vault rename anyway).
    sed -i "2s/^BENCH[0-9]*-/BENCH$r-/" "$W/signalen.csv"
    BYTES=$(stat -c %s "$W/signalen.csv")
    mp=""
    if [ "$SKIP_MELDPUNT" != 1 ]; then
        mp=$(upload "https://127.0.0.1:$MP_PORT/v1/inbox/round$r.csv" "$W/mp-round$r.json")
        if [ "$(cat "$W/mp-round$r.json.status")" != 201 ] || ! grep -Eq '"status": ?"accepted"' "$W/mp-round$r.json"; then
            echo "meldpunt answered HTTP $(cat "$W/mp-round$r.json.status") to round $r; the timings are not comparable:" >&2
            head -c 2000 "$W/mp-round$r.json" >&2; echo >&2
            exit 1
        fi
    fi
    n0=$(nginx_cpu)
    ng=$(upload "$NGINX_URL/round$r.csv" "$W/ng-round$r.out")
    n1=$(nginx_cpu)
    stored=$(stat -c %s "$N/store/inbox/round$r.csv" 2>/dev/null || echo 0)
    if [ "$(cat "$W/ng-round$r.out.status")" != 201 ] || [ "$stored" != "$BYTES" ]; then
        echo "nginx answered HTTP $(cat "$W/ng-round$r.out.status") to round $r and stored $stored of $BYTES bytes:" >&2
        cat "$W/ng-round$r.out" "$N/logs/error.log" >&2
        exit 1
    fi
    [ "$r" != 1 ] || cmp -s "$W/signalen.csv" "$N/store/inbox/round$r.csv" || { echo "nginx stored other bytes" >&2; exit 1; }
    rm -f "$N/store/inbox/round$r.csv"
    if [ -n "$mp" ]; then
        printf 'round %d: meldpunt %.2fs  nginx %.2fs\n' "$r" "$mp" "$ng"
        best_mp=$(echo "if ($mp < $best_mp) $mp else $best_mp" | bc -l)
    else
        printf 'round %d: nginx %.2fs\n' "$r" "$ng"
    fi
    floor=$(print_floor "$ng" "$(cat "$W/client.cpu")" "$(echo "$n1 - $n0" | bc -l)" "$SHA_CPU" "$AGE_CPU")
    echo "  $floor"
    if [ "$(echo "$ng < $best_ng" | bc -l)" = 1 ]; then best_ng=$ng; best_floor=$floor; fi
done
mibps() { echo "$BYTES/1048576/$1" | bc -l; }
if [ "$SKIP_MELDPUNT" = 1 ]; then
    printf 'best: nginx dav PUT %.2fs (%.0f MiB/s)\n' "$best_ng" "$(mibps "$best_ng")"
    echo "ratio meldpunt/nginx = n/a (SKIP_MELDPUNT=1)"
    exit 0
fi
printf 'best: meldpunt %.2fs (%.0f MiB/s)  nginx dav PUT %.2fs (%.0f MiB/s)\n' \
    "$best_mp" "$(mibps "$best_mp")" "$best_ng" "$(mibps "$best_ng")"
printf 'ratio meldpunt/nginx = %.2f  (goal <= 1.0)\n' "$(echo "$best_mp/$best_ng" | bc -l)"
echo "$best_floor (nginx's best round)"
