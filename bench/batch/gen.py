#!/usr/bin/env python3
"""Generates a national month of fictitious signals for bench/batch.sh.

Writes into OUT:
  meldpunt.toml      12 creditors, 342 municipalities (one age recipient), [batch] settings
  routing.csv        PC4 -> municipality (about 4 000 PC4s spread over the 342)
  plain/period=YYYY-MM/creditor=ID/ID_YYYY-MM.csv   one signal file per creditor per month,
                     the target period P and the LOOKBACK months before it
  gen.json           what was generated (counts per month, kind mix)

The model (all people and addresses are invented):
- A household's arrears come in *episodes*: a start month and a duration (1 month for about
  two thirds; up to 12). Episodes start every month (also before the first written month, so
  the first months are in steady state); an episode writes its signals in each month it
  covers. So a household active in P that also was in one of the 6 months before is
  *opeenvolgend*; the same creditor reports the same referentie each month of an episode,
  mostly for a higher amount, sometimes the same or lower (*herhaald*).
- About 72 % of households have a single debt (about half of all signals), the others 2-5
  debts across creditors and kinds (a second health insurance debt of a second person at the
  same insurer is the same (creditor, soort) pair). About half of all signals are
  zorgverzekering.
- Addresses: PC4 of the household's municipality (municipality sizes Zipf-like) + two
  letters + house number, sometimes a house letter or addition; spelled in varying ways
  (postcode with a space or lower case, `2-hg` / `2 HG` / `2hg`) so matching has to normalise.
- A few signals (~0.2 %) carry a PC4 that is not in the routing table (not delivered).
Every record is valid under the default rules (days in arrears 31-100 for zorgverzekering,
31-300 otherwise; woninghuur with the sociale incasso fields; energy with contactpoging = ja).

Deterministic for a given --seed and --scale.
"""

import argparse
import bisect
import datetime as dt
import json
import os
import random
import sys

HEADER = ("referentie;soort;fase;voorletters;voorvoegsel;achternaam;geboortedatum;straatnaam;"
          "huisnummer;huisletter;huisnummertoevoeging;postcode;plaatsnaam;telefoonnummer;email;"
          "bedrag;ontstaansdatum;signaaldatum;herinneringsdatum;contactpoging;schuldhulp_gewezen;"
          "bezwaar;crisissignaal")

# id, name, kinds, prefix of referenties
CREDITORS = [
    ("zilveren-kruis", "Zilveren Kruis", ["zorgverzekering"], "ZK"),
    ("vgz", "VGZ", ["zorgverzekering"], "VGZ"),
    ("cz", "CZ", ["zorgverzekering"], "CZ"),
    ("menzis", "Menzis", ["zorgverzekering"], "MZ"),
    ("eneco", "Eneco", ["elektriciteit", "gas", "warmte"], "EN"),
    ("vattenfall", "Vattenfall", ["elektriciteit", "gas", "warmte"], "VF"),
    ("essent", "Essent", ["elektriciteit", "gas"], "ES"),
    ("vitens", "Vitens", ["drinkwater"], "VT"),
    ("evides", "Evides", ["drinkwater"], "EV"),
    ("ymere", "Ymere", ["woninghuur"], "YM"),
    ("woonstad", "Woonstad Rotterdam", ["woninghuur"], "WS"),
    ("portaal", "Portaal", ["woninghuur"], "PT"),
]
INSURERS = [("zilveren-kruis", 0.30), ("vgz", 0.26), ("cz", 0.24), ("menzis", 0.20)]
ENERGY = [("eneco", 0.40), ("vattenfall", 0.32), ("essent", 0.28)]

MUNICIPALITIES = 342
SIGNALS_PER_MONTH = 85_000  # at scale 1

SURNAMES = [
    ("", "Jansen"), ("de", "Vries"), ("van der", "Berg"), ("", "Bakker"), ("", "Çelik"),
    ("van", "Dijk"), ("", "Müller"), ("'t", "Hart"), ("", "Đorđević"), ("de", "Groot"),
    ("", "Smit-Öztürk"), ("van den", "Heuvel"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"),
    ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"),
    ("", "Yılmaz"), ("", "Kaya"), ("", "El Amrani"), ("", "Boukhari"), ("", "Nguyễn"),
    ("van", "Beek"), ("", "Koç"), ("", "Şahin"), ("ter", "Horst"), ("", "Pérez"),
]
STREETS = ["Dorpsstraat", "Kerkstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianastraat",
           "Beatrixlaan", "Wilhelminastraat", "Kastanjelaan", "Eikenlaan", "Parallelweg", "Markt"]
INITIALS = ["J.", "A.M.", "K.", "É.", "P.J.", "M.", "S.", "H.", "F.", "Y.", "R.", "C.W."]
LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"
# Additions as the household's canonical form, and spellings a creditor may use for it.
ADDITIONS = [("1", ["1"]), ("2", ["2"]), ("3", ["3"]), ("A", ["A", "a"]), ("BIS", ["bis", "BIS"]),
             ("2HG", ["2-hg", "2 HG", "2hg"]), ("1H", ["1 h", "1-H", "1h"]), ("III", ["III", "iii"])]


def month_add(year, month, n):
    i = year * 12 + month - 1 + n
    return i // 12, i % 12 + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--period", default="2026-10", help="target period P (YYYY-MM)")
    ap.add_argument("--lookback", type=int, default=6)
    ap.add_argument("--recipient", required=True, help="age recipient of every municipality")
    ap.add_argument("--seed", type=int, default=20261026)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rnd = rng.random
    out = a.out
    os.makedirs(out, exist_ok=True)

    # --- Municipalities and routing ------------------------------------------------------
    codes = [f"GM{3 + 5 * i:04d}" for i in range(MUNICIPALITIES)]  # 342 distinct codes
    weights = [1.0 / (i + 1) ** 0.7 for i in range(MUNICIPALITIES)]  # Zipf-like sizes
    order = list(range(MUNICIPALITIES))
    rng.shuffle(order)
    all_pc4 = list(range(1000, 10000))
    rng.shuffle(all_pc4)
    routed_pc4 = sorted(all_pc4[:4000])
    unrouted_pc4 = sorted(all_pc4[4000:4200])
    total_w = sum(weights)
    # Contiguous runs of PC4s per municipality (in shuffled order), sized by population.
    counts = [max(1, round(4000 * weights[i] / total_w)) for i in range(MUNICIPALITIES)]
    while sum(counts) > 4000:
        counts[counts.index(max(counts))] -= 1
    while sum(counts) < 4000:
        counts[0] += 1
    pc4s_of = [None] * MUNICIPALITIES
    pos = 0
    for i in order:
        pc4s_of[i] = routed_pc4[pos:pos + counts[i]]
        pos += counts[i]
    with open(os.path.join(out, "routing.csv"), "w") as f:
        f.write("postcode;huisnummer_van;huisnummer_tot;gemeente\n")
        rows = sorted((pc4, codes[i]) for i in range(MUNICIPALITIES) for pc4 in pc4s_of[i])
        for pc4, code in rows:
            f.write(f"{pc4};;;{code}\n")
    cum_w = []
    t = 0.0
    for w in weights:
        t += w
        cum_w.append(t)
    town = {i: f"Plaats {codes[i][2:]}" for i in range(MUNICIPALITIES)}

    # --- Configuration -------------------------------------------------------------------
    with open(os.path.join(out, "meldpunt.toml"), "w") as f:
        f.write('# bench/batch.sh: a national installation (fictitious parties)\n'
                'data_dir = "data"\n\n[sftp]\nenabled = false\n\n[admin]\nlisten = "127.0.0.1:0"\n\n'
                '[batch]\nautomatic = false\nrouting_table = "routing.csv"\n'
                f'lookback_months = {a.lookback}\n\n')
        for cid, name, kinds, _ in CREDITORS:
            kl = ", ".join(f'"{k}"' for k in kinds)
            f.write(f'[[creditor]]\nid = "{cid}"\nname = "{name}"\nphone = "088 000 0000"\n'
                    f'email = "vroegsignalering@{cid}.example"\nkinds = [{kl}]\nagreements = ["*"]\n\n')
        for i, code in enumerate(codes):
            f.write(f'[[municipality]]\ncode = "{code}"\nname = "Gemeente {code[2:]}"\n'
                    f'age_recipients = ["{a.recipient}"]\ndrempelbedrag = 100.00\n\n')

    # --- Months --------------------------------------------------------------------------
    py, pm = map(int, a.period.split("-"))
    nmonths = a.lookback + 1
    months = [month_add(py, pm, k - a.lookback) for k in range(nmonths)]  # index a.lookback = P
    labels = [f"{y:04d}-{m:02d}" for y, m in months]
    received = [dt.date(y, m, 15) for y, m in months]
    day0 = received[0].toordinal() - 400
    date_str = [dt.date.fromordinal(day0 + k).isoformat() for k in (range(received[-1].toordinal() - day0 + 1))]

    writers = []
    for k, label in enumerate(labels):
        per = {}
        for cid, *_ in CREDITORS:
            d = os.path.join(out, "plain", f"period={label}", f"creditor={cid}")
            os.makedirs(d, exist_ok=True)
            fh = open(os.path.join(d, f"{cid}_{label}.csv"), "w", encoding="utf-8", buffering=1 << 20)
            fh.write(HEADER + "\n")
            per[cid] = fh
        writers.append(per)

    # Episode durations (months) and the number of episodes starting each month.
    dur_values = [1, 2, 3, 4, 5] + list(range(6, 13))
    dur_probs = [0.68, 0.16, 0.07, 0.04, 0.02] + [0.03 / 7] * 7
    cum_dur = []
    t = 0.0
    for p in dur_probs:
        t += p
        cum_dur.append(t)
    mean_dur = sum(v * p for v, p in zip(dur_values, dur_probs))
    signals_per_household = 1.49  # measured mean of the debt mix below

    def starts_for(scale):
        return SIGNALS_PER_MONTH * scale / (mean_dur * signals_per_household)

    def pick(cum, values):
        return values[bisect.bisect(cum, rnd() * cum[-1])]

    def cumulative(pairs):
        c, t = [], 0.0
        for _, w in pairs:
            t += w
            c.append(t)
        return c, [v for v, _ in pairs]

    ins_cum, ins_val = cumulative(INSURERS)
    en_cum, en_val = cumulative(ENERGY)
    single_kinds = cumulative([("zorgverzekering", 0.56), ("woninghuur", 0.14), ("energie", 0.18), ("drinkwater", 0.12)])
    multi_kinds = cumulative([("zorgverzekering", 0.42), ("woninghuur", 0.20), ("energie", 0.23), ("drinkwater", 0.15)])
    nmulti = cumulative([(2, 0.50), (3, 0.30), (4, 0.15), (5, 0.05)])
    prefix = {cid: p for cid, _, _, p in CREDITORS}

    stats = {"signals": [0] * nmonths, "kinds": {}, "households_p": 0}
    episode = 0
    lo_start = -12  # episodes starting up to 12 months before the first written month
    for s in range(lo_start, nmonths):
        n = int(round(starts_for(a.scale)))
        for _ in range(n):
            episode += 1
            dur = pick(cum_dur, dur_values)
            first, last = max(s, 0), min(s + dur - 1, nmonths - 1)
            if last < first:
                continue
            # Address.
            mi = bisect.bisect(cum_w, rnd() * cum_w[-1])
            if rnd() < 0.002:
                pc4 = unrouted_pc4[int(rnd() * len(unrouted_pc4))]
            else:
                p4 = pc4s_of[mi]
                pc4 = p4[int(rnd() * len(p4))]
            l1 = LETTERS[int(rnd() * 21)]
            l2 = LETTERS[int(rnd() * 21)]
            nr = 1 + int(rnd() * rnd() * 400)
            letter = LETTERS[int(rnd() * 4)] if rnd() < 0.08 else ""
            addition = ADDITIONS[int(rnd() * len(ADDITIONS))][1] if rnd() < 0.10 else None
            street = STREETS[int(rnd() * len(STREETS))]
            place = town[mi]
            region_south = pc4 >= 5000
            water = "evides" if region_south else "vitens"
            corp = "ymere" if pc4 < 3000 else ("woonstad" if pc4 < 6000 else "portaal")
            energy = pick(en_cum, en_val)
            insurer = pick(ins_cum, ins_val)
            vv, an = SURNAMES[int(rnd() * len(SURNAMES))]
            year = received[-1].year
            persons = [(vv, an, f"{year - 20 - int(rnd() * 60)}-{1 + int(rnd() * 12):02d}-{1 + int(rnd() * 28):02d}",
                        INITIALS[int(rnd() * len(INITIALS))])]
            # Debts: (creditor, kind, person, amount in cents in the first month).
            debts = []
            seen = set()
            if rnd() < 0.72:
                want = 1
                kc = single_kinds
            else:
                want = pick(*nmulti)
                kc = multi_kinds
            tries = 0
            while len(debts) < want and tries < 20:
                tries += 1
                kind = pick(*kc)
                person = 0
                if kind == "zorgverzekering":
                    cred = insurer if rnd() < 0.85 else pick(ins_cum, ins_val)
                    if (cred, kind) in seen:
                        person = len(persons)  # a second insured person of the household
                        persons.append((vv, an, f"{year - 18 - int(rnd() * 60)}-{1 + int(rnd() * 12):02d}-{1 + int(rnd() * 28):02d}",
                                        INITIALS[int(rnd() * len(INITIALS))]))
                    amount = int((2 + rnd() * 1.5) * 14000)
                elif kind == "energie":
                    cred = energy
                    r = rnd()
                    kind = "elektriciteit" if r < 0.5 else ("gas" if r < 0.9 or cred == "essent" else "warmte")
                    if (cred, kind) in seen:
                        continue
                    amount = 15000 + int(rnd() * 135000)
                elif kind == "drinkwater":
                    cred = water
                    if (cred, kind) in seen:
                        continue
                    amount = 5000 + int(rnd() * 35000)
                else:
                    cred = corp
                    if (cred, kind) in seen:
                        continue
                    amount = 70000 + int(rnd() * 230000)
                seen.add((cred, kind))
                debts.append([cred, kind, person, amount, f"{prefix[cred]}-{episode:08d}-{len(debts) + 1}"])
            # Signals, month by month.
            for mo in range(first, last + 1):
                rec = received[mo].toordinal()
                for j, (cred, kind, person, amount, ref) in enumerate(debts):
                    if mo > first:
                        r = rnd()
                        if r < 0.70:
                            amount = int(amount * (1.10 + rnd() * 0.30))
                        elif r < 0.85:
                            amount = amount
                        else:
                            amount = max(1000, int(amount * (0.6 + rnd() * 0.35)))
                        debts[j][3] = amount
                    vv_, an_, born, ini = persons[person]
                    if vv_ and rnd() < 0.2:
                        vv_, an_ = "", f"{an_}, {vv_}"
                    sig = rec - int(rnd() * 7)
                    days = 31 + int(rnd() * (70 if kind == "zorgverzekering" else 270))
                    ont = sig - days
                    r = rnd()
                    pc = f"{pc4}{l1}{l2}" if r < 0.85 else (f"{pc4} {l1}{l2}" if r < 0.95 else f"{pc4}{l1.lower()}{l2.lower()}")
                    hl = letter.lower() if letter and rnd() < 0.3 else letter
                    add = addition[int(rnd() * len(addition))] if addition else ""
                    energy_kind = kind in ("elektriciteit", "gas", "warmte")
                    huur = kind == "woninghuur"
                    fase = "eerste" if mo == first else "update"
                    crisis = "nee"
                    if energy_kind and mo > first and rnd() < 0.05:
                        fase, crisis = "eindelevering", "ja"
                    elif huur and rnd() < 0.02:
                        crisis = "ja"
                    contact = "ja" if (huur or energy_kind or rnd() < 0.5) else "nee"
                    schuldhulp = "ja" if huur or rnd() < 0.4 else "nee"
                    herinnering = date_str[ont + 14 - day0] if (huur or rnd() < 0.7) else ""
                    phone = f"06 {10000000 + episode % 89999999}" if rnd() < 0.6 else ""
                    email = f"h{episode}@example.nl" if rnd() < 0.3 else ""
                    writers[mo][cred].write(
                        f"{ref};{kind};{fase};{ini};{vv_};{an_};{born};{street};{nr};{hl};{add};{pc};{place};"
                        f"{phone};{email};{amount // 100},{amount % 100:02d};{date_str[ont - day0]};"
                        f"{date_str[sig - day0]};{herinnering};{contact};{schuldhulp};nee;{crisis}\n")
                    stats["signals"][mo] += 1
                    if mo == nmonths - 1:
                        stats["kinds"][kind] = stats["kinds"].get(kind, 0) + 1
    for per in writers:
        for fh in per.values():
            fh.close()
    info = {
        "period": a.period,
        "months": labels,
        "received_at": [f"{d.isoformat()}T10:00:00Z" for d in received],
        "creditors": [c[0] for c in CREDITORS],
        "municipalities": MUNICIPALITIES,
        "signals_per_month": dict(zip(labels, stats["signals"])),
        "kinds_in_p": stats["kinds"],
        "scale": a.scale,
    }
    with open(os.path.join(out, "gen.json"), "w") as f:
        json.dump(info, f, indent=1)
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
