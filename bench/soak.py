#!/usr/bin/env python3
"""The clients of bench/soak.sh: legitimate sessions, and a hostile address.

    soak.py legit  INST SFTP_PORT HTTPS_PORT SESSIONS SECONDS CREDITORS TEMPLATE OUT
    soak.py hostile INST SFTP_PORT HTTPS_PORT SECONDS OUT

legit: SESSIONS session loops for SECONDS, half over SFTP (paramiko) and half over HTTPS
(http.client with the party's client certificate), spread over CREDITORS creditors (soak0 …, at most 4 sessions per protocol each)
and over source addresses 127.0.1.x (4 sessions per address, under the defender's per-address
limits). Each turn: log in (timed: TCP + SSH key exchange + public-key login, or TCP + TLS
handshake with the client certificate), upload a small valid signal file with a unique
referentie, check the answer says accepted, read the receipt back and check its status, log
out. Writes a JSON summary to OUT.

hostile: from 127.0.0.2, for SECONDS: a connection flood with a slow-loris trickle on both
ports (300 sockets each, reopened when closed), SSH logins with an unregistered key, and TLS
handshakes without a client certificate. Writes its counts to OUT.
"""

import json
import multiprocessing
import os
import socket
import ssl
import sys
import threading
import time
import http.client

SOCK_TIMEOUT = 60


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = {"sftp": 0, "https": 0}
        self.errors = {}
        self.login = {"sftp": [], "https": []}

    def error(self, kind):
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


def err_kind(proto, step, e):
    text = str(e).split("\n")[0][:80]
    return "%s %s: %s: %s" % (proto, step, type(e).__name__, text)


def sftp_turn(paramiko, inst, port, party, ip, name, body, tally):
    from paramiko.sftp import CMD_CLOSE
    key = paramiko.Ed25519Key.from_private_key_file(os.path.join(inst, "clients", party, "ssh_ed25519"))
    step = "connect"
    t0 = time.monotonic()
    sock = None
    t = None
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=SOCK_TIMEOUT, source_address=(ip, 0))
        t = paramiko.Transport(sock)
        t.banner_timeout = SOCK_TIMEOUT
        t.auth_timeout = SOCK_TIMEOUT
        step = "login"
        t.connect()
        t.auth_publickey(party, key)
        took = time.monotonic() - t0
        step = "upload"
        sftp = paramiko.SFTPClient.from_transport(t)
        sftp.get_channel().settimeout(SOCK_TIMEOUT)
        f = sftp.open("/inbox/" + name, "wb")
        f.write(body)
        f.flush()
        # paramiko's own close drops the server's answer: ask for it.
        _, msg = sftp._request(CMD_CLOSE, f.handle)
        f._closed = True
        msg.rewind()
        msg.get_int()
        msg.get_int()
        answer = msg.get_text()
        if not answer.endswith("(accepted)"):
            raise RuntimeError("upload answered %r" % answer)
        file_id = answer.split()[2]
        step = "receipt"
        with sftp.open("/receipts/%s.%s.receipt.json" % (name, file_id), "rb") as r:
            receipt = json.loads(r.read())
        if receipt.get("status") != "accepted":
            raise RuntimeError("receipt status %r" % receipt.get("status"))
        sftp.close()
        with tally.lock:
            tally.login["sftp"].append(took)
            tally.done["sftp"] += 1
    except Exception as e:  # noqa: BLE001 - every failure is counted by kind
        tally.error(err_kind("sftp", step, e))
        time.sleep(0.5)
    finally:
        if t is not None:
            t.close()
        elif sock is not None:
            sock.close()


def https_turn(inst, port, party, ip, name, body, tally):
    ctx = ssl.create_default_context(cafile=os.path.join(inst, "pki", "ca.crt"))
    d = os.path.join(inst, "clients", party)
    ctx.load_cert_chain(os.path.join(d, "tls.crt"), os.path.join(d, "tls.key"))
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=SOCK_TIMEOUT,
                                       source_address=(ip, 0))
    step = "login"
    t0 = time.monotonic()
    try:
        conn.connect()
        took = time.monotonic() - t0
        step = "upload"
        conn.request("PUT", "/v1/inbox/" + name, body=body, headers={"Content-Type": "text/csv"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 201:
            raise RuntimeError("PUT answered %d %s" % (resp.status, data[:80]))
        receipt = json.loads(data)
        if receipt.get("status") != "accepted":
            raise RuntimeError("PUT receipt status %r" % receipt.get("status"))
        step = "receipt"
        conn.request("GET", "/v1/receipts/" + receipt["file_id"])
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200 or json.loads(data).get("status") != "accepted":
            raise RuntimeError("GET receipt answered %d" % resp.status)
        with tally.lock:
            tally.login["https"].append(took)
            tally.done["https"] += 1
    except Exception as e:  # noqa: BLE001
        tally.error(err_kind("https", step, e))
        time.sleep(0.5)
    finally:
        conn.close()


def legit_worker(args):
    """One process: its share of the session loops, as threads."""
    (inst, sftp_port, https_port, indexes, seconds, creditors, template, out) = args
    import paramiko
    tally = Tally()
    end = time.monotonic() + seconds
    pid = os.getpid()

    def loop(i):
        proto = "sftp" if i % 2 == 0 else "https"
        # Each creditor has at most 4 sessions of each protocol (the limits are 8).
        party = "soak%d" % ((i // 2) % creditors)
        ip = "127.0.1.%d" % (1 + i // 4)
        turn = 0
        while time.monotonic() < end:
            token = "%05X%03X%04X" % (pid & 0xFFFFF, i & 0xFFF, turn & 0xFFFF)
            body = template.replace("SOAKXXXXXXXX", token).encode()
            name = "soak_%s.csv" % token
            if proto == "sftp":
                sftp_turn(paramiko, inst, sftp_port, party, ip, name, body, tally)
            else:
                https_turn(inst, https_port, party, ip, name, body, tally)
            turn += 1

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in indexes]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump({"done": tally.done, "errors": tally.errors, "login": tally.login}, f)


def legit(inst, sftp_port, https_port, sessions, seconds, creditors, template_path, out):
    template = open(template_path).read()
    procs = max(1, min(8, sessions // 32))
    shares = [[i for i in range(sessions) if i % procs == p] for p in range(procs)]
    outs = ["%s.%d" % (out, p) for p in range(procs)]
    jobs = [(inst, sftp_port, https_port, shares[p], seconds, creditors, template, outs[p]) for p in range(procs)]
    ps = [multiprocessing.Process(target=legit_worker, args=(j,)) for j in jobs]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    done, errors, login = {"sftp": 0, "https": 0}, {}, {"sftp": [], "https": []}
    for o in outs:
        try:
            part = json.load(open(o))
        except OSError:
            errors["driver process died"] = errors.get("driver process died", 0) + 1
            continue
        for k in done:
            done[k] += part["done"][k]
            login[k] += part["login"][k]
        for k, v in part["errors"].items():
            errors[k] = errors.get(k, 0) + v
    summary = {"sessions": sessions, "seconds": seconds, "done": done, "errors": errors, "login_ms": {}}
    for k, v in login.items():
        summary["login_ms"][k] = {
            "n": len(v),
            "p50": round(1000 * percentile(v, 50), 1) if v else None,
            "p95": round(1000 * percentile(v, 95), 1) if v else None,
            "max": round(1000 * max(v), 1) if v else None,
        }
    json.dump(summary, open(out, "w"), indent=1)


HOSTILE_IP = "127.0.0.2"


def flood(ports, end, counts):
    """Connection flood and slow-loris (the trickle of tests/defender.rs), 300 sockets per port."""
    start = {p: (b"" if i == 0 else b"\x16\x03\x01\x01\x00") for i, p in enumerate(ports)}
    trickle = {p: (b"SSH-2.0-" if i == 0 else b"\x00" * 300) for i, p in enumerate(ports)}
    live = {p: [] for p in ports}
    while time.monotonic() < end:
        for p in ports:
            while len(live[p]) < 300:
                try:
                    s = socket.create_connection(("127.0.0.1", p), timeout=1, source_address=(HOSTILE_IP, 0))
                    s.sendall(start[p])
                    live[p].append([s, 0])
                    counts["flood_connections"] += 1
                except OSError:
                    counts["flood_refused_at_connect"] += 1
                    break
            keep = []
            for entry in live[p]:
                s, i = entry
                try:
                    s.setblocking(False)
                    try:
                        if s.recv(4096) == b"":
                            s.close()
                            counts["flood_closed_by_server"] += 1
                            continue
                    except BlockingIOError:
                        pass
                    if i < len(trickle[p]):
                        s.send(trickle[p][i:i + 1])
                        entry[1] = i + 1
                    keep.append(entry)
                except OSError:
                    s.close()
                    counts["flood_closed_by_server"] += 1
            live[p] = keep
        time.sleep(0.5)
    for p in ports:
        for s, _ in live[p]:
            s.close()


def bad_logins(inst, sftp_port, https_port, end, counts):
    import paramiko
    key = paramiko.Ed25519Key.generate() if hasattr(paramiko.Ed25519Key, "generate") else None
    if key is None:
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from cryptography.hazmat.primitives import serialization
        import io
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        key = paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))
    ctx = ssl.create_default_context(cafile=os.path.join(inst, "pki", "ca.crt"))
    while time.monotonic() < end:
        try:
            sock = socket.create_connection(("127.0.0.1", sftp_port), timeout=5, source_address=(HOSTILE_IP, 0))
            t = paramiko.Transport(sock)
            try:
                t.connect()
                t.auth_publickey("soak0", key)
                counts["ssh_login_succeeded"] += 1
            except Exception:  # noqa: BLE001
                counts["ssh_login_refused"] += 1
            finally:
                t.close()
        except OSError:
            counts["ssh_refused_at_connect"] += 1
        try:
            raw = socket.create_connection(("127.0.0.1", https_port), timeout=5, source_address=(HOSTILE_IP, 0))
            try:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(b"GET /v1/receipts HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    if s.recv(100).startswith(b"HTTP/1.1 2"):
                        counts["tls_without_cert_served"] += 1
                    else:
                        counts["tls_without_cert_refused"] += 1
            except (OSError, ssl.SSLError):
                counts["tls_without_cert_refused"] += 1
        except OSError:
            counts["tls_refused_at_connect"] += 1
        time.sleep(0.2)


def hostile(inst, sftp_port, https_port, seconds, out):
    end = time.monotonic() + seconds
    counts = {k: 0 for k in ("flood_connections", "flood_refused_at_connect", "flood_closed_by_server",
                             "ssh_login_refused", "ssh_login_succeeded", "ssh_refused_at_connect",
                             "tls_without_cert_refused", "tls_without_cert_served", "tls_refused_at_connect")}
    ts = [threading.Thread(target=flood, args=([sftp_port, https_port], end, counts)),
          threading.Thread(target=bad_logins, args=(inst, sftp_port, https_port, end, counts))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    json.dump(counts, open(out, "w"), indent=1)


def main():
    mode = sys.argv[1]
    if mode == "legit":
        inst, sp, hp, sessions, seconds, creditors, template, out = sys.argv[2:10]
        legit(inst, int(sp), int(hp), int(sessions), float(seconds), int(creditors), template, out)
    elif mode == "hostile":
        inst, sp, hp, seconds, out = sys.argv[2:7]
        hostile(inst, int(sp), int(hp), float(seconds), out)
    else:
        sys.exit("usage: soak.py legit|hostile …")


if __name__ == "__main__":
    main()
