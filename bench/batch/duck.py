#!/usr/bin/env python3
"""The DuckDB side of bench/batch.sh: ONE SQL statement that reads the plaintext signal CSVs of
all months (CSV parsing included) and classifies the target period as docs/matching.md says, one output
row per signal, materialised in a table. Only that statement is timed (best of --rounds).

Per signal: household key (postcode upper case without spaces | huisnummer | huisletter |
toevoeging upper case, letters and digits only), the municipality (PC4 routing join; signals
whose PC4 is not in the table are not delivered), meervoudig (>= 2 distinct (creditor, soort)
in P), opeenvolgend (household has a signal in one of the `lookback` months before P), herhaald
(same creditor + referentie in one of those months with an amount at least as high), household
total, onder_drempel (total < drempelbedrag), days in arrears, and every field of the signal.

Prints one JSON object: seconds (best, and each round), rows, the classification counts in the
same terms as meldpunt's manifests, and DuckDB's version and threads.
"""

import argparse
import json
import os
import resource
import time

import duckdb

COLUMNS = {
    "referentie": "VARCHAR", "soort": "VARCHAR", "fase": "VARCHAR", "voorletters": "VARCHAR",
    "voorvoegsel": "VARCHAR", "achternaam": "VARCHAR", "geboortedatum": "DATE",
    "straatnaam": "VARCHAR", "huisnummer": "INTEGER", "huisletter": "VARCHAR",
    "huisnummertoevoeging": "VARCHAR", "postcode": "VARCHAR", "plaatsnaam": "VARCHAR",
    "telefoonnummer": "VARCHAR", "email": "VARCHAR", "bedrag": "VARCHAR",
    "ontstaansdatum": "DATE", "signaaldatum": "DATE", "herinneringsdatum": "DATE",
    "contactpoging": "VARCHAR", "schuldhulp_gewezen": "VARCHAR", "bezwaar": "VARCHAR",
    "crisissignaal": "VARCHAR",
}


def month_add(period, n):
    y, m = map(int, period.split("-"))
    i = y * 12 + m - 1 + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def query(plain, routing, period, lookback, drempel):
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    history = ", ".join(f"'{month_add(period, -k)}'" for k in range(1, lookback + 1))
    return f"""
CREATE OR REPLACE TABLE result AS
WITH raw AS (
    SELECT * FROM read_csv('{plain}/*/*/*.csv', delim = ';', quote = '"', header = true,
        auto_detect = false, columns = {cols}, hive_partitioning = true,
        hive_types = {{'period': 'VARCHAR', 'creditor': 'VARCHAR'}})
),
signals AS (
    SELECT *,
        upper(regexp_replace(postcode, '\\s', '', 'g')) AS pc,
        concat_ws('|', upper(regexp_replace(postcode, '\\s', '', 'g')), huisnummer,
            upper(coalesce(huisletter, '')),
            regexp_replace(upper(coalesce(huisnummertoevoeging, '')), '[^A-Z0-9]', '', 'g')) AS household,
        CAST(replace(bedrag, ',', '.') AS DECIMAL(12, 2)) AS amount
    FROM raw
    WHERE coalesce(lower(bezwaar), 'nee') <> 'ja'
),
routing AS (
    SELECT CAST(postcode AS INTEGER) AS pc4, gemeente
    FROM read_csv('{routing}', delim = ';', header = true, auto_detect = false,
        columns = {{'postcode': 'VARCHAR', 'huisnummer_van': 'VARCHAR', 'huisnummer_tot': 'VARCHAR', 'gemeente': 'VARCHAR'}})
),
cur AS (
    SELECT s.*, r.gemeente
    FROM signals s JOIN routing r ON r.pc4 = CAST(substr(s.pc, 1, 4) AS INTEGER)
    WHERE s.period = '{period}'
),
hist AS (SELECT household, creditor, referentie, amount FROM signals WHERE period IN ({history})),
households AS (
    SELECT household,
        count(DISTINCT (creditor, soort)) >= 2 AS meervoudig,
        sum(amount) AS household_total
    FROM cur GROUP BY household
),
earlier_households AS (SELECT DISTINCT household FROM hist),
earlier_refs AS (SELECT creditor, referentie, max(amount) AS highest FROM hist GROUP BY creditor, referentie)
SELECT c.* EXCLUDE (pc, bedrag),
    h.meervoudig,
    e.household IS NOT NULL AS opeenvolgend,
    coalesce(c.amount <= x.highest, false) AS herhaald,
    h.household_total,
    h.household_total < {drempel} AS onder_drempel,
    c.signaaldatum - c.ontstaansdatum AS dagen_achterstand
FROM cur c
JOIN households h USING (household)
LEFT JOIN earlier_households e USING (household)
LEFT JOIN earlier_refs x USING (creditor, referentie)
"""


COUNTS = """
SELECT
    (SELECT count(*) FROM result) AS signals,
    (SELECT count(DISTINCT household) FROM result) AS households,
    (SELECT count(DISTINCT household) FROM result WHERE meervoudig) AS meervoudig,
    (SELECT count(DISTINCT household) FROM result WHERE opeenvolgend) AS opeenvolgend,
    (SELECT count(DISTINCT household) FROM result WHERE NOT meervoudig AND NOT opeenvolgend) AS enkelvoudig,
    (SELECT count(DISTINCT household) FROM result WHERE onder_drempel) AS onder_drempel,
    (SELECT count(*) FROM result WHERE herhaald) AS herhaald,
    (SELECT count(*) FROM result WHERE crisissignaal = 'ja') AS crisissignaal,
    (SELECT count(DISTINCT gemeente) FROM result) AS municipalities,
    (SELECT count(*) FROM (SELECT household FROM result GROUP BY household HAVING count(*) = 1)) AS single_signal_signals
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="the generated installation (plain/, routing.csv)")
    ap.add_argument("--period", required=True)
    ap.add_argument("--lookback", type=int, default=6)
    ap.add_argument("--drempel", default="100.00")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: its default, all cores)")
    a = ap.parse_args()
    con = duckdb.connect()
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    sql = query(os.path.join(a.dir, "plain"), os.path.join(a.dir, "routing.csv"), a.period, a.lookback, a.drempel)
    times = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        con.execute(sql)
        times.append(time.perf_counter() - t0)
    rows = con.execute("SELECT count(*) FROM result").fetchone()[0]
    names = ["signals", "households", "meervoudig", "opeenvolgend", "enkelvoudig", "onder_drempel",
             "herhaald", "crisissignaal", "municipalities", "single_signal_signals"]
    counts = dict(zip(names, con.execute(COUNTS).fetchone()))
    total_p = con.execute(
        f"SELECT count(*) FROM read_csv('{a.dir}/plain/period={a.period}/*/*.csv', delim=';', header=true, all_varchar=true)").fetchone()[0]
    counts["not_delivered"] = total_p - rows
    per_soort = dict(con.execute("SELECT soort, count(*) FROM result GROUP BY soort ORDER BY soort").fetchall())
    print(json.dumps({
        "seconds": min(times), "rounds": times, "rows": rows, "counts": counts, "per_soort": per_soort,
        "duckdb": duckdb.__version__, "threads": threads,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "sql": sql.strip(),
    }))


if __name__ == "__main__":
    main()
