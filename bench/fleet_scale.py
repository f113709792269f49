#!/usr/bin/env python3
"""bench/fleet_scale.sh's helpers.

strip IN OUT: a session DER without its peer certificate ([3]): what a server keeps for a
    client that sent none.
summary OUT K P RATE SECONDS FLEET MEMORY [SUBSCRIBE]: the measured per-process and Redis costs, and the
    same costs extrapolated to FLEET processes each receiving RATE sessions a second.
"""
import glob
import json
import os
import sys

LIFETIME = 300  # seconds, as examples/fleet_scale.rs gives each session


def tlv(b, i):
    tag, length, j = b[i], b[i + 1], i + 2
    if length & 0x80:
        n = length & 0x7F
        length, j = int.from_bytes(b[j:j + n], "big"), j + n
    return tag, j, j + length


def der_length(n):
    if n < 128:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s


def strip(src, dst):
    b = open(src, "rb").read()
    tag, start, end = tlv(b, 0)
    body, i = b"", start
    while i < end:
        t, _, e = tlv(b, i)
        if t != 0xA3:
            body += b[i:e]
        i = e
    open(dst, "wb").write(bytes([tag]) + der_length(len(body)) + body)


def info(path):
    d = {}
    for line in open(path):
        if ":" in line and not line.startswith("#"):
            k, v = line.strip().split(":", 1)
            try:
                d[k] = float(v)
            except ValueError:
                d[k] = v
    return d


def delta(a, b, k):
    return b.get(k, 0) - a.get(k, 0)


def size(text):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


def summary(out, k, p, rate, seconds, fleet, memory, subscribe="sessions"):
    k, p, rate, seconds, fleet, memory = int(k), int(p), float(rate), float(seconds), int(fleet), size(memory)
    pull = subscribe == "removals"
    load = lambda pattern: [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, pattern)))
                            if os.path.getsize(f)]
    pubs, subs = load("pub*.json"), load("sub*.json")
    get = (load("get.json") or [None])[0]
    before, after = info(os.path.join(out, "before.info")), info(os.path.join(out, "after.info"))
    published = sum(x["fleet"]["published"] for x in pubs)
    pub_dropped = sum(x["fleet"]["publish_dropped"] for x in pubs)
    ders = sorted({d for x in pubs for d in x["der_bytes"]})
    pub_cpu = sum(x["cpu_secs"] for x in pubs)
    pub_caller = sum(x["caller_cpu_secs"] for x in pubs)
    send_secs = max(x["send_secs"] for x in pubs)
    w = print

    def bounded_get():
        if not get:
            return
        b2, a2 = info(os.path.join(out, "before-get.info")), info(os.path.join(out, "after-get.info"))
        gcpu = delta(b2, a2, "used_cpu_sys") + delta(b2, a2, "used_cpu_user")
        n = get["finds"]
        g = get["fleet"]
        w(f"bounded GET: {n} finds, {get['found']} found, {g['remote_timeouts']} over the budget, "
          f"{g['breaker_trips']} breaker trips; wait p50 {get['wait_us_p50']:.0f} us, p99 {get['wait_us_p99']:.0f} us; "
          f"client CPU {get['cpu_secs'] / n * 1e6:.1f} us/find, redis CPU {gcpu / n * 1e6:.1f} us/GET, "
          f"{delta(b2, a2, 'total_net_output_bytes') / n:.0f} B out + {delta(b2, a2, 'total_net_input_bytes') / n:.0f} B in per GET")

    w(f"setup: SESSCACHE_FLEET_SUBSCRIBE={subscribe}, {k} subscriber processes, {p} publisher(s), {rate:.0f} sessions/s for {seconds:.0f} s, "
      f"DER {ders} B, mirror cap {memory >> 20} MiB, {len(subs)} subscriber reports")
    w(f"publishers: {published} published in {send_secs:.1f} s ({published / send_secs:.0f}/s), "
      f"{pub_dropped} dropped; CPU {pub_cpu:.2f} s = {pub_cpu / published * 1e6:.1f} us/session "
      f"(calling thread {pub_caller / published * 1e6:.1f} us, fleet threads "
      f"{(pub_cpu - pub_caller) / published * 1e6:.1f} us)")
    recv = [s["fleet"]["received"] for s in subs]
    cpu = [s["cpu_secs"] for s in subs]
    per_msg = [c / r * 1e6 for c, r in zip(cpu, recv) if r]
    dropped = [published - r for r in recv]
    if pull:
        # Nothing is pushed: what a process pays is its idle subscription, over its whole run.
        listened = seconds + 8
        w(f"each subscriber: received {max(recv)} (pull mode), CPU {min(cpu):.3f}..{max(cpu):.3f} s in {listened:.0f} s "
          f"= {max(cpu) / listened * 100:.3f}% of a core")
        bounded_get()
        w(f"redis: CPU {delta(before, after, 'used_cpu_sys') + delta(before, after, 'used_cpu_user'):.2f} s for "
          f"{published} sessions (one SET each), in {delta(before, after, 'total_net_input_bytes') / published:.0f} B/session")
        return
    w(f"each subscriber: received {min(recv)}..{max(recv)} of {published} (missed {min(dropped)}..{max(dropped)}), "
      f"CPU {min(cpu):.2f}..{max(cpu):.2f} s = {min(per_msg):.2f}..{max(per_msg):.2f} us/message "
      f"(mean {sum(per_msg) / len(per_msg):.2f})")
    entries = [s["fleet"]["mirror_entries"] for s in subs]
    mbytes = [s["fleet"]["mirror_bytes"] for s in subs]
    evicted = [s["fleet"]["mirror_evicted"] for s in subs]
    rss_growth = [(s["hwm_kib"] - s["rss_started_kib"]) * 1024 for s in subs]
    per_entry = max(b / e for b, e in zip(mbytes, entries) if e)
    w(f"each mirror: {min(entries)}..{max(entries)} entries, {max(mbytes) / 2**20:.1f} MiB counted "
      f"({per_entry:.0f} B/entry), {min(evicted)}..{max(evicted)} evicted; RSS at start "
      f"{subs[0]['rss_started_kib'] / 1024:.1f} MiB, peak {max(s['hwm_kib'] for s in subs) / 1024:.1f} MiB "
      f"(growth {max(rss_growth) / 2**20:.1f} MiB = {max(rss_growth) / max(max(entries), 1):.0f} B/entry held)")
    rcpu = delta(before, after, "used_cpu_sys") + delta(before, after, "used_cpu_user")
    rin, rout = delta(before, after, "total_net_input_bytes"), delta(before, after, "total_net_output_bytes")
    # Every process subscribes, the publishers too (they hear their own sessions and skip them):
    # Redis delivers each session to K + P connections, as it would to every process of a fleet.
    deliveries = published * (k + p)
    dropped_clients = sum("output buffer limits" in line for line in open(os.path.join(out, "redis.log")))
    out_per_delivery = rout / max(deliveries, 1)
    mem_per_key = delta(before, after, "used_memory") / max(published, 1)
    w(f"redis: CPU {rcpu:.2f} s = {rcpu / published * 1e6:.1f} us/session published, "
      f"<= {rcpu / max(deliveries, 1) * 1e6:.2f} us/delivery; in {rin / published:.0f} B/session; "
      f"out {rout / max(deliveries, 1):.0f} B/delivery; memory {mem_per_key:.0f} B/stored session; "
      f"clients closed for their output buffers (redis.log): {dropped_clients}")
    bounded_get()
    sinks = load("sink.json")
    if sinks:
        sk = sinks[0]
        b3, a3 = info(os.path.join(out, "before-sink.info")), info(os.path.join(out, "after-sink.info"))
        spub = sum(x["fleet"]["published"] for x in load("sinkpub.json"))
        sdropped = sum(x["fleet"]["publish_dropped"] for x in load("sinkpub.json"))
        scpu = delta(b3, a3, "used_cpu_sys") + delta(b3, a3, "used_cpu_user")
        sdel = spub * (sk["connections"] + 1)
        expect = spub * out_per_delivery
        w(f"redis fan-out to {sk['connections']} raw subscriptions + the publisher: {spub} sessions "
          f"({sdropped} dropped by the publisher: Redis answered its pipelines too slowly), "
          f"each subscription got {min(sk['bytes']) / expect * 100:.1f}..{max(sk['bytes']) / expect * 100:.1f}% "
          f"of the bytes; redis CPU {scpu:.2f} s = {scpu / spub * 1e6:.1f} us/session = "
          f"{scpu / sdel * 1e6:.2f} us/delivery, {scpu / (spub / rate) * 100:.0f}% of a core at {rate:.0f}/s; "
          f"delivered over {sk['secs']:.1f} s (the publisher ran {load('sinkpub.json')[0]['send_secs']:.1f} s): "
          f"{sdel / max(sk['secs'], 1e-9):.0f} deliveries/s achieved")
    # The fleet: every process receives every other's sessions.
    each = rate * (fleet - 1) / fleet
    delivered = rate * fleet  # Redis sends every session to every process, its origin included
    mean_msg = sum(per_msg) / len(per_msg)
    out_per = rout / max(deliveries, 1)
    capacity = memory / per_entry
    w(f"\nextrapolated to {fleet} processes making {rate:.0f} sessions/s in all "
      f"(each receives {each:.0f}/s of the others'):")
    w(f"  per process: CPU {each:.0f} x {mean_msg:.2f} us = {each * mean_msg / 1e4:.1f}% of a core; "
      f"ingress {each:.0f} x {out_per:.0f} B = {each * out_per / 1e6:.2f} MB/s ({each * out_per * 8 / 1e6:.0f} Mbit/s); "
      f"mirror at {memory >> 20} MiB holds {capacity:.0f} sessions = {capacity / each:.1f} s of the fleet's "
      f"({capacity / each / LIFETIME * 100:.1f}% of a {LIFETIME} s lifetime); RSS ~ {memory * max(rss_growth) / max(max(mbytes), 1) / 2**20:.0f} MiB for it")
    w(f"  redis: {delivered:.0f} deliveries/s; egress {delivered * out_per / 1e6:.0f} MB/s "
      f"({delivered * out_per * 8 / 1e9:.2f} Gbit/s); ingress {rate * rin / published / 1e6:.1f} MB/s; "
      f"CPU <= {delivered * rcpu / max(deliveries, 1):.2f} cores (all of its CPU charged to deliveries); "
      f"memory {rate * LIFETIME * mem_per_key / 2**30:.2f} GiB for {rate * LIFETIME:.0f} live sessions")
    w(f"  per host of {fleet // 10 if fleet >= 10 else fleet} processes: CPU {fleet // 10 * each * mean_msg / 1e6:.2f} cores, "
      f"ingress {fleet // 10 * each * out_per * 8 / 1e6:.0f} Mbit/s, mirrors {fleet // 10 * memory >> 20} MiB")


def sink(port, n, seconds, out):
    """n raw subscriptions that only count bytes: Redis's fan-out cost without n processes'."""
    import selectors
    import socket
    import time
    port, n, seconds = int(port), int(n), float(seconds)
    sel = selectors.DefaultSelector()
    got = {}
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$18\r\nsesscache:sessions\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = 0
    # Until nothing came for 2 s after the first message (or `seconds` in all): the time from
    # the first byte to the last says whether Redis kept up with the publisher.
    end = time.monotonic() + seconds
    first = last = None
    while time.monotonic() < end and not (last and time.monotonic() - last > 2):
        for key, _ in sel.select(timeout=0.1):
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            got[key.fileobj] += len(data)
            last = time.monotonic()
            first = first or last
    with open(out, "w") as f:
        json.dump({"role": "sink", "connections": n, "bytes": sorted(got.values()),
                   "secs": (last - first) if first else 0}, f)


if __name__ == "__main__":
    {"strip": strip, "summary": summary, "sink": sink}[sys.argv[1]](*sys.argv[2:])
