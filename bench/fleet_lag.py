#!/usr/bin/env python3
"""Replication lag for bench/fleet.sh: how long after a full handshake at a fleet server its
session's message reaches another subscriber of the fleet channel (what every other process
hears). A subscriber thread (RESP over a socket) timestamps each message; the main thread makes
K full handshakes one after the other (tests-c/fleet/client.py's connect) and timestamps the end
of each. Message i belongs to handshake i (one session each, in order). Prints one JSON line:
{"handshakes", "messages", "lag_ms": [p50, p99, max]} where lag = arrival - end of the client's
handshake (negative: the server published before its answer reached the client).

usage: fleet_lag.py SERVER_PORT REDIS_PORT K [CHANNEL]
"""
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests-c", "fleet"))
import client  # noqa: E402
import redis_tool  # noqa: E402


def main():
    port, rport, k = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    channel = sys.argv[4] if len(sys.argv) > 4 else "sesscache:sessions"
    sub = socket.create_connection(("127.0.0.1", rport), timeout=10)
    assert redis_tool.command(sub, "SUBSCRIBE", channel)[0] == b"subscribe"
    arrivals = []
    f = sub.makefile("rb")

    def listen():
        try:
            while len(arrivals) < k:
                msg = redis_tool.reply(f)
                if msg and msg[0] == b"message" and msg[2][:1] == b"S":
                    arrivals.append(time.perf_counter())
        except (OSError, EOFError):
            pass

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    ctx = client.context(12)
    ends = []
    for _ in range(k):
        client.connect(ctx, "127.0.0.1", port, None, 10)
        ends.append(time.perf_counter())
        time.sleep(0.005)  # one session in flight at a time
    t.join(5)
    lags = [(a - e) * 1000 for a, e in zip(arrivals, ends)]
    print(json.dumps({"handshakes": k, "messages": len(arrivals), "lag_ms": client.pct(lags)}))


if __name__ == "__main__":
    main()
