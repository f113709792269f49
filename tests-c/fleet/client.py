#!/usr/bin/env python3
"""Returning clients for the fleet proof and benchmarks (Python's ssl module, system libssl).

Phase 1: N clients each make a full handshake to a port of --new (round robin) and keep their
session. Phase 2: the N clients come back, in a shuffled order (so that the kernel's order of
waking workers cannot line up with the order of the sessions), each to a port of --back (round
robin), offering their session. One JSON line on stdout:
  {"clients", "new_ok", "new_failed", "resumed", "not_resumed", "failed",
   "back_pids": distinct worker pids that answered the returning clients, "rate": resumed/clients,
   "new_ms": [p50, p99, max] of phase 1's handshakes, "back_ms": [p50, p99, max] of phase 2's,
   "resumed_ms": [p50, p99, max] of the resumed ones}
A handshake is connect + TLS handshake + the server's one-line answer (its pid and whether it
resumed, which must agree with the client's view). Every socket has a timeout (--timeout), so a
stuck server costs each connection at most that.
"""
import argparse
import json
import random
import socket
import ssl
import sys
import time


def context(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_3 if version == 13 else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = v
    ctx.maximum_version = v
    return ctx


def connect(ctx, host, port, session, timeout):
    """(ms, reused, pid, session) or raises."""
    t0 = time.perf_counter()
    raw = socket.create_connection((host, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle wait in the timings
    try:
        s = ctx.wrap_socket(raw, server_hostname="fleet.test", session=session)
        s.sendall(b"HELLO\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        ms = (time.perf_counter() - t0) * 1000
        fields = dict(kv.split("=", 1) for kv in data.decode().split())
        reused = s.session_reused
        if int(fields["reused"]) != int(reused):
            raise RuntimeError(f"server says reused={fields['reused']}, client {reused}")
        # The session is complete once the answer is read (TLS 1.3 sends it after the handshake).
        sess = s.session
        try:
            s.unwrap()
        except (OSError, ssl.SSLError):
            pass
        return ms, reused, fields["pid"], sess
    finally:
        raw.close()


def redis_ops(port):
    """Commands Redis has run (INFO commandstats), the INFO calls themselves left out."""
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import redis_tool
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return redis_tool.command_total(s)


def pct(values):
    if not values:
        return [0, 0, 0]
    v = sorted(values)
    return [round(v[len(v) // 2], 3), round(v[min(len(v) - 1, int(len(v) * 0.99))], 3), round(v[-1], 3)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--new", required=True, help="ports for the full handshakes, comma separated")
    ap.add_argument("--back", required=True, help="ports the clients come back to, comma separated")
    ap.add_argument("--version", type=int, choices=(12, 13), default=12)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--pause-ms", type=float, default=0, help="sleep between phase 1 and 2")
    ap.add_argument("--redis-port", type=int, help="count Redis commands (INFO commandstats) per phase")
    a = ap.parse_args()
    new_ports = [int(p) for p in a.new.split(",")]
    back_ports = [int(p) for p in a.back.split(",")]
    ctx = context(a.version)
    ops = [redis_ops(a.redis_port)] if a.redis_port else []
    t_new = time.perf_counter()
    sessions, new_ms, new_failed = [], [], 0
    for i in range(a.clients):
        try:
            ms, _, _, sess = connect(ctx, a.host, new_ports[i % len(new_ports)], None, a.timeout)
            sessions.append(sess)
            new_ms.append(ms)
        except Exception as e:  # counted: the proof asserts none
            new_failed += 1
            print(f"client: full handshake {i} failed: {e}", file=sys.stderr)
    t_new = time.perf_counter() - t_new
    if a.pause_ms:
        time.sleep(a.pause_ms / 1000)
    if a.redis_port:
        ops.append(redis_ops(a.redis_port))
    t_back = time.perf_counter()
    order = list(range(len(sessions)))
    random.Random(a.seed).shuffle(order)
    resumed, not_resumed, failed, back_ms, resumed_ms, pids = 0, 0, 0, [], [], set()
    for n, i in enumerate(order):
        try:
            ms, reused, pid, _ = connect(ctx, a.host, back_ports[n % len(back_ports)], sessions[i], a.timeout)
        except Exception as e:
            failed += 1
            print(f"client: returning handshake {i} failed: {e}", file=sys.stderr)
            continue
        back_ms.append(ms)
        pids.add(pid)
        if reused:
            resumed += 1
            resumed_ms.append(ms)
        else:
            not_resumed += 1
    t_back = time.perf_counter() - t_back
    extra = {}
    if a.redis_port:
        ops.append(redis_ops(a.redis_port))
        extra = {"redis_ops_new": ops[1] - ops[0], "redis_ops_back": ops[2] - ops[1]}
    print(json.dumps({
        "clients": a.clients, "new_ok": len(sessions), "new_failed": new_failed, "resumed": resumed,
        "not_resumed": not_resumed, "failed": failed, "back_pids": len(pids),
        "rate": round(resumed / a.clients, 4) if a.clients else 0,
        "new_ms": pct(new_ms), "back_ms": pct(back_ms), "resumed_ms": pct(resumed_ms),
        "new_per_s": round(len(new_ms) / t_new, 1) if t_new > 0 else 0,
        "back_per_s": round(len(back_ms) / t_back, 1) if t_back > 0 else 0, **extra,
    }))


if __name__ == "__main__":
    main()
