#!/usr/bin/env python3
"""The clients and the memory sampler of bench/fan_in.sh.

    fan_in.py push PORT USER KEYS N TEMPLATE PLACEHOLDER TAG OUT
    fan_in.py sample PID OUT STOP

push: N creditors upload at once, each over its own SSH connection with its own Ed25519 key
(KEYS/fan<i>, i = 0 … N-1) and from its own source address (127.0.1.1 …, 4 creditors per
address, so no address is near the daemon's per-origin limits). USER is the login name:
`creditor` logs in as the creditor's id (fan<i>, meldpunt), anything else as that one local
user (OpenSSH). Each creditor's file is TEMPLATE (from `meldpunt sample`) with PLACEHOLDER, the
referentie prefix, replaced by a token of the same length unique to TAG and the creditor, so
every file is a distinct valid signal file of the same size; it is uploaded as
/inbox/fan_<token>.csv.

Everything that is not the fan-in is done first: keys read, files built, and PROCS processes
(env FAN_IN_PROCS, default 1) each with its share of the creditors, every coroutine waiting
on one barrier. Then all start together: TCP connect, key exchange (curve25519-sha256), public
key login, SFTP open, writes of 32 KiB with up to 64 in flight (what the OpenSSH sftp client
does), close. The upload counts as a success when the server answered the close with OK;
the clock stops at the last such answer (or the last failure). No retries: a refused or broken
connection is a failure, counted by kind. Writes a JSON summary to OUT.

With FAN_IN_CLIENT=openssh, push starts one OpenSSH `sftp -b` process per creditor instead
(same key, source address, key exchange, cipher, block size and requests in flight), from
files written to disk first; a success is an exit status 0 (sftp checks the close's answer).

sample: every 0.5 s until the file STOP exists, the summed VmRSS and RssAnon of PID and of all
its descendants (sshd's per-connection processes; meldpunt is one process), and their number;
then (after waiting up to 10 s for the descendants to end) the user and system CPU time PID
and its ended descendants used meanwhile. Writes the maxima and the CPU times to OUT.
"""

import asyncio
import json
import multiprocessing
import os
import sys
import time
import warnings

warnings.simplefilter("ignore")  # asyncssh 2.10 imports ciphers that cryptography deprecates

BLOCK = 32 * 1024
IN_FLIGHT = 64
TIMEOUT = 600


def source_address(i):
    n = i // 4  # 4 creditors per address
    return "127.%d.%d.%d" % (1 + n // 62500, 1 + (n // 250) % 250, 1 + n % 250)


def token(tag, i, width):
    t = "%s%06d" % (tag, i)
    if len(t) != width:
        raise SystemExit("token %r is not %d characters long" % (t, width))
    return t


def err_kind(step, e):
    text = str(e).split("\n")[0][:100]
    return "%s: %s: %s" % (step, type(e).__name__, text)


async def close_with_answer(f):
    """Closes an SFTP file and returns the server's status message (asyncssh drops it on OK)."""
    from asyncssh.packet import String
    from asyncssh.sftp import FXP_CLOSE, FXP_STATUS, FX_OK, SFTPError

    handler = f._handler
    waiter = asyncio.get_running_loop().create_future()
    handler._send_request(FXP_CLOSE, [String(f._handle)], waiter)
    f._handle = None
    resptype, resp = await waiter
    if resptype != FXP_STATUS:
        raise RuntimeError("close answered with packet type %d" % resptype)
    code = resp.get_uint32()
    reason = resp.get_string().decode("utf-8", "replace") if resp else ""
    if code != FX_OK:
        raise SFTPError(code, reason)
    return reason


async def one(asyncssh, i, port, user, key, body, name, start, res):
    step = "connect"
    t0 = None
    conn = None
    try:
        await start.wait()
        t0 = time.monotonic()
        conn = await asyncssh.connect(
            "127.0.0.1", port, username=user, client_keys=[key], known_hosts=None,
            local_addr=(source_address(i), 0), config=None, agent_path=None,
            preferred_auth="publickey", kex_algs=["curve25519-sha256"],
            encryption_algs=[os.environ.get("FAN_IN_CIPHER", "aes128-gcm@openssh.com")],
            compression_algs=None, login_timeout=TIMEOUT, keepalive_interval=0)
        res["login"].append(time.monotonic() - t0)
        step = "sftp"
        sftp = await conn.start_sftp_client()
        step = "open"
        f = await sftp.open("/inbox/" + name, "wb", block_size=BLOCK, max_requests=IN_FLIGHT)
        step = "write"
        await f.write(body, 0)
        step = "close"
        answer = await close_with_answer(f)
        res["done"].append(time.monotonic())
        res["ok"] += 1
        # What meldpunt answers ("… (accepted)"); OpenSSH answers "Success" or nothing.
        kind = answer.rsplit(" ", 1)[-1] if answer.endswith(")") else answer
        res["answers"][kind] = res["answers"].get(kind, 0) + 1
    except Exception as e:  # noqa: BLE001 - every failure is counted by kind
        res["done"].append(time.monotonic())
        k = err_kind(step, e)
        res["errors"][k] = res["errors"].get(k, 0) + 1
    finally:
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 10)
            except Exception:  # noqa: BLE001
                pass


def worker(args):
    (indexes, port, user, keys, template, placeholder, tag, barrier, out) = args
    import asyncssh

    width = len(placeholder)
    loaded = []
    for i in indexes:
        key = asyncssh.read_private_key(os.path.join(keys, "fan%d" % i))
        t = token(tag, i, width)
        body = template.replace(placeholder.encode() + b"-", t.encode() + b"-")
        login = ("fan%d" % i) if user == "creditor" else user
        loaded.append((i, login, key, body, "fan_%s.csv" % t))

    async def run():
        start = asyncio.Event()
        res = {"ok": 0, "errors": {}, "answers": {}, "login": [], "done": []}
        tasks = [asyncio.ensure_future(one(asyncssh, i, port, login, key, body, name, start, res))
                 for (i, login, key, body, name) in loaded]
        await asyncio.sleep(0.2)  # every coroutine is waiting on the event
        barrier.wait()
        t0 = time.monotonic()
        start.set()
        c0 = os.times()
        await asyncio.gather(*tasks)
        c1 = os.times()
        res["t0"] = t0
        res["cpu_s"] = (c1.user - c0.user) + (c1.system - c0.system)
        return res

    res = asyncio.run(run())
    with open(out, "w") as f:
        json.dump(res, f)


async def one_sftp(i, port, user, key, path, name, start, res):
    """The same upload with the OpenSSH sftp client, one process per creditor."""
    await start.wait()
    cmd = ["sftp", "-q", "-b", "-", "-P", str(port), "-B", str(BLOCK), "-R", str(IN_FLIGHT),
           "-o", "BindAddress=" + source_address(i), "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
           "-o", "LogLevel=ERROR", "-o", "KexAlgorithms=curve25519-sha256",
           "-o", "Ciphers=" + os.environ.get("FAN_IN_CIPHER", "aes128-gcm@openssh.com"),
           "-i", key, "%s@127.0.0.1" % user]
    try:
        p = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        _, err = await p.communicate(("put %s /inbox/%s\n" % (path, name)).encode())
        res["done"].append(time.monotonic())
        if p.returncode == 0:
            res["ok"] += 1
        else:
            k = "sftp exit %d: %s" % (p.returncode, err.decode("utf-8", "replace").strip().split("\n")[-1][:100])
            res["errors"][k] = res["errors"].get(k, 0) + 1
    except Exception as e:  # noqa: BLE001
        res["done"].append(time.monotonic())
        k = err_kind("spawn", e)
        res["errors"][k] = res["errors"].get(k, 0) + 1


def spawn(port, user, keys, n, template_path, placeholder, tag, out):
    """push with OpenSSH sftp processes (FAN_IN_CLIENT=openssh): files written first."""
    template = open(template_path, "rb").read()
    width = len(placeholder)
    files = os.path.join(os.path.dirname(out), "files")
    os.makedirs(files, exist_ok=True)
    jobs = []
    for i in range(n):
        t = token(tag, i, width)
        name = "fan_%s.csv" % t
        path = os.path.join(files, name)
        with open(path, "wb") as f:
            f.write(template.replace(placeholder.encode() + b"-", t.encode() + b"-"))
        login = ("fan%d" % i) if user == "creditor" else user
        jobs.append((i, login, os.path.join(keys, "fan%d" % i), path, name))
    os.sync()

    async def run():
        start = asyncio.Event()
        res = {"ok": 0, "errors": {}, "answers": {}, "login": [], "done": []}
        tasks = [asyncio.ensure_future(one_sftp(i, port, login, key, path, name, start, res))
                 for (i, login, key, path, name) in jobs]
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        start.set()
        await asyncio.gather(*tasks)
        return res, t0

    import resource
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res, t0 = asyncio.run(run())
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for (_, _, _, path, _) in jobs:
        os.unlink(path)
    summary = {
        "creditors": n, "ok": res["ok"], "failed": n - res["ok"], "errors": res["errors"],
        "answers": {}, "wall_s": (max(res["done"]) - t0) if res["done"] else None,
        "login_s": {"p50": None, "p95": None, "max": None}, "barrier_spread_s": 0.0,
        "answered_s": {q: (percentile(res["done"], p) - t0) if res["done"] else None
                       for q, p in (("first", 0), ("p10", 10), ("p50", 50), ("p90", 90))},
        "client_cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
    }
    with open(out, "w") as f:
        json.dump(summary, f)


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def push(port, user, keys, n, template_path, placeholder, tag, out):
    template = open(template_path, "rb").read()
    if template.count(placeholder.encode() + b"-") == 0:
        raise SystemExit("placeholder %r not in the template" % placeholder)
    procs = max(1, min(n, int(os.environ.get("FAN_IN_PROCS", "1"))))
    barrier = multiprocessing.Barrier(procs)
    outs = ["%s.%d" % (out, p) for p in range(procs)]
    jobs = [([i for i in range(n) if i % procs == p], port, user, keys, template, placeholder, tag,
             barrier, outs[p]) for p in range(procs)]
    ps = [multiprocessing.Process(target=worker, args=(j,)) for j in jobs]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    total = {"ok": 0, "errors": {}, "answers": {}, "login": [], "done": [], "t0": [], "cpu_s": 0.0}
    for o in outs:
        try:
            part = json.load(open(o))
        except OSError:
            total["errors"]["driver process died"] = total["errors"].get("driver process died", 0) + 1
            continue
        total["ok"] += part["ok"]
        for k in ("errors", "answers"):
            for kk, v in part[k].items():
                total[k][kk] = total[k].get(kk, 0) + v
        total["login"] += part["login"]
        total["done"] += part["done"]
        total["t0"].append(part["t0"])
        total["cpu_s"] += part["cpu_s"]
    t0 = min(total["t0"]) if total["t0"] else 0
    summary = {
        "creditors": n,
        "ok": total["ok"],
        "failed": n - total["ok"],
        "errors": total["errors"],
        "answers": total["answers"],
        "wall_s": (max(total["done"]) - t0) if total["done"] else None,
        "login_s": {"p50": percentile(total["login"], 50), "p95": percentile(total["login"], 95),
                    "max": percentile(total["login"], 100)},
        "barrier_spread_s": (max(total["t0"]) - t0) if total["t0"] else None,
        "client_cpu_s": total["cpu_s"],
        # When the answers came, from the barrier: a steady trickle at the end is a queue.
        "answered_s": {q: (percentile(total["done"], p) - t0) if total["done"] else None
                       for q, p in (("first", 0), ("p10", 10), ("p50", 50), ("p90", 90))},
    }
    with open(out, "w") as f:
        json.dump(summary, f)


def status(pid, keys):
    got = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    got[k] = int(v.split()[0])
    except OSError:
        pass
    return got


def descendants(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [root], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def cpu_ticks(pid):
    """utime + stime + cutime + cstime: the process's threads and its reaped descendants."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return (0, 0)
    v = [int(x) for x in s[s.rindex(")") + 2:].split()[11:15]]
    return (v[0] + v[2], v[1] + v[3])


def sample(pid, out, stop):
    best = {"rss_kib": 0, "anon_kib": 0, "processes": 0, "hwm_kib": 0}
    c0 = cpu_ticks(pid)
    settle = 0
    while True:
        done = os.path.exists(stop)
        rss = anon = 0
        pids = descendants(pid)
        if done and len(pids) > 1 and settle < 20:
            # Wait (up to 10 s) for the per-connection processes to end, so that their CPU
            # time is in the listener's cutime.
            settle += 1
            time.sleep(0.5)
            continue
        for p in pids:
            s = status(p, ("VmRSS", "RssAnon"))
            rss += s.get("VmRSS", 0)
            anon += s.get("RssAnon", 0)
        best["rss_kib"] = max(best["rss_kib"], rss)
        best["anon_kib"] = max(best["anon_kib"], anon)
        best["processes"] = max(best["processes"], len(pids))
        best["hwm_kib"] = max(best["hwm_kib"], status(pid, ("VmHWM",)).get("VmHWM", 0))
        if done:
            break
        time.sleep(0.5)
    c1, hz = cpu_ticks(pid), os.sysconf("SC_CLK_TCK")
    best["user_s"] = (c1[0] - c0[0]) / hz
    best["sys_s"] = (c1[1] - c0[1]) / hz
    best["cpu_s"] = best["user_s"] + best["sys_s"]
    with open(out, "w") as f:
        json.dump(best, f)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a and a[0] == "push" and len(a) == 9 and os.environ.get("FAN_IN_CLIENT") == "openssh":
        spawn(int(a[1]), a[2], a[3], int(a[4]), a[5], a[6], a[7], a[8])
    elif a and a[0] == "push" and len(a) == 9:
        push(int(a[1]), a[2], a[3], int(a[4]), a[5], a[6], a[7], a[8])
    elif a and a[0] == "sample" and len(a) == 4:
        sample(int(a[1]), a[2], a[3])
    else:
        sys.exit(__doc__)
