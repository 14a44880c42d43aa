#!/usr/bin/env python3
"""The report of one scale of bench/batch.sh: checks the ingest receipts, reads the timings
(/usr/bin/time -v of each `meldpunt batch run`, DuckDB's JSON), sums meldpunt's manifests of the
first version, compares the counts with DuckDB's and prints it all. Exits 1 when something is
wrong (a receipt not `accepted`, a record not accepted, counts that disagree); never on a time.
"""

import argparse
import glob
import json
import os
import re
import sys

COMPARED = ["signals", "households", "meervoudig", "opeenvolgend", "enkelvoudig", "herhaald",
            "onder_drempel", "crisissignaal", "not_delivered"]


def gnu_time(path):
    text = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
    h, mnt, s = m.groups()
    wall = int(h or 0) * 3600 + int(mnt) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    return wall, rss, user, system


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--period", required=True)
    ap.add_argument("--tree", default="")
    ap.add_argument("--warm-mib", default="0")
    a = ap.parse_args()
    d = a.dir
    gen = json.load(open(os.path.join(d, "gen.json")))
    problems = []

    # Receipts: every file accepted, every record accepted, per month as generated.
    text = open(os.path.join(d, "ingest.log")).read()
    statuses = re.findall(r"^status:\s+(\S+)", text, re.M)
    periods = re.findall(r"^received:.*\(period (\d{4}-\d{2})\)", text, re.M)
    records = re.findall(r"^records:\s+(\d+) total, (\d+) accepted", text, re.M)
    expected_files = len(gen["months"]) * len(gen["creditors"])
    if len(statuses) != expected_files or any(s != "accepted" for s in statuses):
        problems.append(f"receipts: {len(statuses)} of {expected_files} files, statuses {sorted(set(statuses))}")
    accepted = {}
    for p, (total, acc) in zip(periods, records):
        accepted[p] = accepted.get(p, 0) + int(acc)
        if total != acc:
            problems.append(f"a file of {p}: {acc} of {total} records accepted")
    if accepted != gen["signals_per_month"]:
        problems.append(f"accepted per period {accepted} != generated {gen['signals_per_month']}")

    # Rounds.
    rounds = []
    for line in open(os.path.join(d, "rounds.tsv")):
        r, tfile, dfile = line.rstrip("\n").split("\t")
        wall, rss, user, system = gnu_time(tfile)
        duck = json.load(open(dfile))
        rounds.append((int(r), wall, rss, user, system, duck))

    # meldpunt's counts: the manifests of the first version (round 1).
    out1 = open(os.path.join(d, "batch.1.out")).read()
    version = int(re.search(r"^batch \S+ v(\d+)", out1, re.M).group(1))
    not_delivered = int(re.search(r"not delivered .*: (\d+)\s*$", out1, re.M).group(1))
    mp = dict.fromkeys(COMPARED, 0)
    manifests = glob.glob(os.path.join(d, "data", "parties", "GM*", "pickup", f"*_{a.period}_v{version}_manifest.json"))
    for f in manifests:
        c = json.load(open(f))["counts"]
        for k in COMPARED:
            mp[k] += c.get(k, 0)
    mp["not_delivered"] = not_delivered
    if len(manifests) != gen["municipalities"]:
        problems.append(f"{len(manifests)} manifests for {gen['municipalities']} municipalities")
    duck = rounds[0][5]
    dc = duck["counts"]

    months = gen["months"]
    p_signals = gen["signals_per_month"][a.period]
    hist_signals = sum(v for k, v in gen["signals_per_month"].items() if k != a.period)
    zorg = gen["kinds_in_p"].get("zorgverzekering", 0)
    print()
    print(f"== bench/batch.sh scale {a.scale}  (tree {a.tree}, DuckDB {duck['duckdb']} with {duck['threads']} threads, "
          f"{a.warm_mib} MiB warmed before each run)")
    print(f"period {a.period}: {p_signals} signals generated in P, {hist_signals} in the {len(months) - 1} months before "
          f"(same volume); {gen['municipalities']} municipalities, {len(gen['creditors'])} creditors, "
          f"{len(manifests)} bundles")
    print(f"mix in P: zorgverzekering {100 * zorg / p_signals:.1f} %, "
          f"signals of single-signal households {100 * dc['single_signal_signals'] / max(dc['signals'], 1):.1f} %; "
          f"{dc['households']} households in {dc['municipalities']} municipalities, "
          f"{100 * dc['meervoudig'] / max(dc['households'], 1):.1f} % meervoudig, "
          f"{100 * dc['opeenvolgend'] / max(dc['households'], 1):.1f} % opeenvolgend")
    for r, wall, rss, user, system, dk in rounds:
        print(f"round {r}: meldpunt {wall:7.2f} s (user {user:.2f} s, sys {system:.2f} s, peak RSS {rss / 1024:.0f} MiB)"
              f"   duckdb {dk['seconds']:6.2f} s ({dk['rows']} rows)"
              + ("   [writes the key indexes]" if r == 1 else "   [history through key indexes]"))
    best_mp = min(x[1] for x in rounds)
    best_dk = min(x[5]["seconds"] for x in rounds)
    peak = max(x[2] for x in rounds)
    print(f"best: meldpunt batch {best_mp:.2f} s, duckdb query {best_dk:.2f} s ({duck['rows']} rows)")
    print(f"ratio meldpunt/duckdb = {best_mp / best_dk:.2f}  (goal <= 1.0)")
    print(f"meldpunt peak RSS {peak / 1024:.0f} MiB")
    if float(a.scale) >= 10:
        print(f"goals at 10x: batch < 20 s: {'met' if best_mp < 20 else 'missed'} ({best_mp:.1f} s); "
              f"peak RSS < 1 GiB: {'met' if peak < 1 << 20 else 'missed'} ({peak / 1024:.0f} MiB)")

    print(f"{'count in P':<16} {'meldpunt':>10} {'duckdb':>10}")
    for k in COMPARED:
        flag = "" if mp[k] == dc[k] else "   <-- differs"
        print(f"{k:<16} {mp[k]:>10} {dc[k]:>10}{flag}")
        if mp[k] != dc[k]:
            problems.append(f"{k}: meldpunt {mp[k]}, duckdb {dc[k]}")
    perf_children = os.path.join(d, "perf.children.txt")
    if os.path.exists(perf_children):
        print("where meldpunt's time goes (perf, share of samples incl. callees):")
        sys.stdout.write(open(perf_children).read())
        print("self time (perf):")
        sys.stdout.write(open(os.path.join(d, "perf.self.txt")).read())
    if problems:
        print("WARNING: something is wrong, the figures above are not comparable:")
        for p in problems:
            print(f"WARNING:   {p}")
        sys.exit(1)
    print("meldpunt and duckdb agree on every count")


if __name__ == "__main__":
    main()
