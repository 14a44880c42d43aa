#!/usr/bin/env bash
# Benchmark: the monthly batch of a national month, beside DuckDB doing only the classification.
#
#   (a) meldpunt: `meldpunt batch run --period P` on an installation with 12 creditors,
#       342 municipalities and a PC4 routing table, fed (untimed, with `meldpunt ingest
#       --received-at`) one signal file per creditor per month for P and the 6 months before:
#       read + decrypt the sealed signals of P and its history, route, classify, write the CSV and
#       JSON bundles encrypted with age, manifests, creditor reports. Timed with /usr/bin/time -v
#       (wall clock and peak RSS).
#   (b) DuckDB (PyPI `duckdb`, in a venv under the bench folder): ONE SQL statement that reads the
#       same plaintext CSVs of all 7 months (CSV parsing included) and classifies P per docs/matching.md
#       (household key, meervoudig, opeenvolgend, herhaald, household total, onder_drempel, PC4
#       routing join), one row per signal, materialised in a table: bench/batch/duck.py.
# alternating, best of ROUNDS each, and prints the ratio meldpunt/DuckDB (goal <= 1.0). Re-runs
# of meldpunt use --force (a new bundle version: the same work). Round 1 also writes the key
# index of every sealed file it reads (vault/P/<id>.keys.age), as the first batch after a
# backfill does; later rounds read the history through them, as every monthly batch after it
# does (each month's files were indexed when that month was batched). Both are printed. Then it checks that both agree
# on the counts (households, signals, meervoudig, opeenvolgend, enkelvoudig, herhaald,
# onder_drempel, crisissignaal, not delivered); a disagreement is printed as a WARNING and makes
# the script exit 1 after the report.
#
# Volume at scale 1 (bench/batch/gen.py): ~85 000 signals in P and about as many in each of the
# 6 history months (~50 % zorgverzekering, ~50 % of signals in households with a single signal,
# ~40 % of households opeenvolgend). SCALE multiplies P and the history alike. Goals: scale 1
# ratio <= 1.0; scale 10 (850 000 signals in P, 5.1 M in the history) batch < 20 s and peak RSS
# < 1 GiB. Never fails on a time.
#
# Usage: bench/batch.sh [SCALE...]        default: 1; e.g. `bench/batch.sh 1 10`
#        BOTH=1 bench/batch.sh            the same as `bench/batch.sh 1 10`
# Environment: ROUNDS (default 3; at scale >= 5: 1), PERIOD (default 2026-10),
#   PERF=1 (one more forced run under `perf record --call-graph dwarf`; prints where the time
#   goes), DUCK_THREADS (default: DuckDB's own, all cores; meldpunt's batch uses one thread),
#   KEEP=1 (keep the bench folder and print its path), MELDPUNT_BIN (use this binary instead of
#   `cargo build --release`), WARM_MIB (memory touched and freed right before each timed run of
#   either program, default max(1024, 384 x SCALE); 0 for none: see bench/batch/warm.py).
# Times: generation (bench/batch/gen.py) ~4 s at scale 1, ~35 s at 10; ingest ~8 s / ~20 s.
# Installs what is missing (age, time, python3-venv; linux-perf with PERF=1) with apt-get (sudo
# when not root), and duckdb from PyPI into the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(1)
[ "${BOTH:-0}" != 1 ] || SCALES=(1 10)
PERIOD="${PERIOD:-2026-10}"
PERF="${PERF:-0}"
KEEP="${KEEP:-0}"
export MELDPUNT_LOG=warn

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
need=()
command -v age-keygen >/dev/null || need+=(age)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
[ "$PERF" != 1 ] || command -v perf >/dev/null || need+=(linux-perf)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

W="$(mktemp -d /tmp/meldpunt-bench-batch.XXXXXX)"
if [ "$KEEP" = 1 ]; then
    trap 'echo "kept: $W" >&2' EXIT
else
    trap 'rm -rf "$W"' EXIT
fi

# The binary, copied so that a rebuild in the work tree during the run cannot change it.
if [ -n "${MELDPUNT_BIN:-}" ]; then
    cp "$MELDPUNT_BIN" "$W/meldpunt"
else
    cargo build --release --locked -q
    cp target/release/meldpunt "$W/meldpunt"
fi
BIN="$W/meldpunt"
TREE="$(git describe --always --dirty 2>/dev/null || echo unknown)"
[ -z "${MELDPUNT_BIN:-}" ] || TREE="binary $MELDPUNT_BIN"

# DuckDB in its own venv.
if ! python3 -m venv "$W/venv" 2>/dev/null; then
    # Debian's python3 without ensurepip: install python3-venv and try again.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$W/venv"; python3 -m venv "$W/venv"
fi
"$W/venv/bin/pip" install -q --disable-pip-version-check duckdb
PY="$W/venv/bin/python"

FAILED=0
run_scale() {
    local S="$1" D="$W/scale-$1" rounds r force warm
    rounds="${ROUNDS:-}"
    [ -n "$rounds" ] || rounds=$(python3 -c "print(1 if float('$S') >= 5 else 3)")
    # On a VM that hands free memory back to its host, the first touch of a page after a quiet
    # spell costs a host fault: without this, whichever program runs first after setup or after
    # the other's memory went back pays for its whole footprint (bench/batch/warm.py).
    warm="${WARM_MIB:-$(python3 -c "print(int(max(1024, 384 * float('$S'))))")}"
    mkdir -p "$D"
    echo "== scale $S: generating (untimed)" >&2
    age-keygen -o "$D/age.key" 2>/dev/null
    local t0=$SECONDS
    "$PY" bench/batch/gen.py --out "$D" --scale "$S" --period "$PERIOD" \
        --recipient "$(age-keygen -y "$D/age.key")" > /dev/null
    echo "   generated in $((SECONDS - t0)) s; $(du -sh "$D/plain" | cut -f1) of CSV" >&2
    "$BIN" check --config "$D/meldpunt.toml" > /dev/null

    echo "== scale $S: ingesting one file per creditor per month (untimed)" >&2
    t0=$SECONDS
    "$PY" -c '
import json, sys
g = json.load(open(sys.argv[1]))
for lab, ts in zip(g["months"], g["received_at"]):
    for c in g["creditors"]:
        print(f"plain/period={lab}/creditor={c}/{c}_{lab}.csv {c} {ts}")' "$D/gen.json" > "$D/ingest.list"
    : > "$D/ingest.log"
    while read -r file creditor at; do
        if ! "$BIN" ingest "$D/$file" --as "$creditor" --received-at "$at" --config "$D/meldpunt.toml" >> "$D/ingest.log"; then
            echo "ingest of $file failed:" >&2; tail -20 "$D/ingest.log" >&2; return 1
        fi
    done < "$D/ingest.list"
    echo "   ingested in $((SECONDS - t0)) s; vault $(du -sh "$D/data/vault" | cut -f1)" >&2
    # Setup wrote ~200 MB (DuckDB's venv, the CSVs) that nobody synced: without this the kernel
    # writes it back ~30 s later, in the middle of the timed rounds (a flusher thread on one of
    # the cores, and a disk queue meldpunt's fsyncs wait behind).
    sync

    : > "$D/rounds.tsv"
    for r in $(seq "$rounds"); do
        force=(); [ "$r" -eq 1 ] || force=(--force)
        echo "== scale $S round $r: meldpunt batch run${force[*]:+ ${force[*]}}" >&2
        python3 bench/batch/warm.py "$warm"
        /usr/bin/time -v -o "$D/time.$r" "$BIN" batch run --period "$PERIOD" "${force[@]}" \
            --config "$D/meldpunt.toml" > "$D/batch.$r.out" 2> "$D/batch.$r.err" \
            || { echo "meldpunt batch run failed:" >&2; cat "$D/batch.$r.err" "$D/time.$r" >&2; return 1; }
        echo "== scale $S round $r: duckdb" >&2
        python3 bench/batch/warm.py "$warm"
        "$PY" bench/batch/duck.py --dir "$D" --period "$PERIOD" --rounds 1 --threads "${DUCK_THREADS:-0}" > "$D/duck.$r.json"
        printf '%s\t%s\t%s\n' "$r" "$D/time.$r" "$D/duck.$r.json" >> "$D/rounds.tsv"
    done

    if [ "$PERF" = 1 ]; then
        echo "== scale $S: one more forced run under perf" >&2
        python3 bench/batch/warm.py "$warm"
        perf record -q -F 199 --call-graph dwarf,16384 -o "$D/perf.data" -- \
            "$BIN" batch run --period "$PERIOD" --force --config "$D/meldpunt.toml" > /dev/null 2>&1 || true
        # The phases: functions of meldpunt by name (not inlined generics), and page faults.
        perf report -i "$D/perf.data" --children --stdio -g none --percent-limit 0.5 2>/dev/null \
            | grep -E '\[\.\] meldpunt::[A-Za-z_:]+$|\[k\] exc_page_fault$' \
            | grep -vE 'meldpunt::(main|cli::)' | head -25 > "$D/perf.children.txt" || true
        perf report -i "$D/perf.data" --no-children --stdio -g none --percent-limit 1 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -25 > "$D/perf.self.txt" || true
    fi

    "$PY" bench/batch/report.py --dir "$D" --scale "$S" --period "$PERIOD" --tree "$TREE" --warm-mib "$warm" || FAILED=1
}

for s in "${SCALES[@]}"; do
    run_scale "$s"
done
exit "$FAILED"
