#!/usr/bin/env bash
# Runs every fuzz target one after the other, single job, for SECONDS_PER_TARGET each
# (default 600), and appends one line per target to fuzz/run-all.log:
#   date commit target seconds execs cov ft corpus_files corpus_kib crashes
# Usage: fuzz/run-all.sh [TARGET...]   (default: all targets, in the order below)
# Needs cargo-fuzz and the nightly toolchain (DEVELOPERS.md, "Fuzzing").
set -uo pipefail
cd "$(dirname "$0")"
secs="${SECONDS_PER_TARGET:-600}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config routing feedback signal_csv signal_jsonl sftp_path cert_party known_clients)
mkdir -p logs
cargo +nightly fuzz build -s none >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }
commit="$(git rev-parse --short HEAD)"
for t in "${targets[@]}"; do
    log="logs/$t.log"
    before=$(ls artifacts/"$t" 2>/dev/null | wc -l)
    start=$(date +%s)
    cargo +nightly fuzz run -s none "$t" -- -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    after=$(ls artifacts/"$t" 2>/dev/null | wc -l)
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    files=$(ls corpus/"$t" | wc -l)
    kib=$(( $(cat corpus/"$t"/* | wc -c) / 1024 ))
    echo "$(date -u +%FT%TZ) $commit $t ${took}s execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${files}files/${kib}KiB new_crashes=$((after - before)) rc=$rc" | tee -a run-all.log
done
