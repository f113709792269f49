#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays every byte by DELAY_MS in each direction, in order: a
stand-in for `tc qdisc ... netem delay` where the kernel has no sch_netem (bench/fleet.sh's 1 ms),
and a slow Redis for run.sh's faults. Stops after LIFETIME seconds.

usage: delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS [LIFETIME]
"""
import asyncio
import sys
import time


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()

    async def read():
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def write():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, OSError):
        writer.close()


async def main():
    listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 600

    async def handle(cr, cw):
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, tw, delay), pipe(tr, cw, delay), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print("ready", flush=True)
    async with server:
        await asyncio.sleep(lifetime)


if __name__ == "__main__":
    asyncio.run(main())
