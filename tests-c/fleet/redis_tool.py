#!/usr/bin/env python3
"""Binary-safe Redis access for the fleet proof (RESP over a socket; redis-cli's arguments are
text). Every call has a socket timeout.

usage: redis_tool.py PORT keys PATTERN            names matching PATTERN, one a line (SCAN)
       redis_tool.py PORT get NAME FILE           the value, raw, into FILE
       redis_tool.py PORT set NAME FILE           SET NAME <FILE's bytes> EX 300
       redis_tool.py PORT plant NAME KIND [FILE]  replace NAME's value, keeping a 300 s TTL:
            garbage    random bytes of the current value's length
            tampered   the current value with its last byte (inside the AEAD tag) flipped
            header     the current value with a byte of its expiry (in the associated data) flipped
            truncated  the current value's first half
            oversized  the current value padded with random bytes to 20 KiB
            copy       FILE's bytes (a blob sealed under another key)
       redis_tool.py PORT ops                     total calls in INFO commandstats
"""
import os
import socket
import sys


def command(sock, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return reply(sock.makefile("rb"))


def reply(f):
    line = f.readline()
    if not line:
        raise EOFError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


def command_total(sock):
    """Calls of every command in INFO commandstats but the measurement's own (INFO, SCAN, CONFIG)."""
    info = command(sock, "INFO", "commandstats").decode()
    total = 0
    for line in info.splitlines():
        if line.startswith("cmdstat_") and "calls=" in line:
            name = line.split(":", 1)[0][len("cmdstat_"):]
            if name not in ("info", "scan", "config"):
                total += int(line.split("calls=", 1)[1].split(",", 1)[0])
    return total


def main():
    port, op, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if op == "keys":
        cursor = b"0"
        for _ in range(10000):
            cursor, names = command(sock, "SCAN", cursor, "MATCH", args[0], "COUNT", 1000)
            for n in names:
                print(n.decode())
            if cursor == b"0":
                break
    elif op == "get":
        value = command(sock, "GET", args[0])
        if value is None:
            sys.exit(f"redis_tool: no value at {args[0]}")
        open(args[1], "wb").write(value)
    elif op == "set":
        command(sock, "SET", args[0], open(args[1], "rb").read(), "EX", 300)
    elif op == "plant":
        name, kind = args[0], args[1]
        value = command(sock, "GET", name)
        if value is None:
            sys.exit(f"redis_tool: no value at {name}")
        if kind == "garbage":
            new = os.urandom(len(value))
        elif kind == "tampered":
            new = value[:-1] + bytes([value[-1] ^ 0x01])
        elif kind == "header":
            # b"SCF1" | key id (8) | expires_at (8, big endian): its lowest byte is at 19.
            new = value[:19] + bytes([value[19] ^ 0x01]) + value[20:]
        elif kind == "truncated":
            new = value[: len(value) // 2]
        elif kind == "oversized":
            new = value + os.urandom(20 * 1024 - len(value))
        elif kind == "copy":
            new = open(args[2], "rb").read()
        else:
            sys.exit(f"redis_tool: unknown kind {kind}")
        if new == value:
            sys.exit("redis_tool: the planted value equals the real one")
        command(sock, "SET", name, new, "EX", 300)
    elif op == "ops":
        print(command_total(sock))
    else:
        sys.exit(f"redis_tool: unknown operation {op}")


if __name__ == "__main__":
    main()
