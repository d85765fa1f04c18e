#!/usr/bin/env python3
"""How long a durable commit's disk flush takes on this machine: appends 8 KiB and calls fdatasync, as PostgreSQL's
WAL writer does at each commit, N times, and prints the latency percentiles (ms). Usage: fsyncprobe.py DIR [N]"""
import os
import sys
import tempfile
import time

d = sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
block = os.urandom(8192)
fd, path = tempfile.mkstemp(dir=d, prefix="fsyncprobe-")
try:
    lat = []
    for i in range(n):
        os.write(fd, block)
        t = time.perf_counter()
        os.fdatasync(fd)
        lat.append((time.perf_counter() - t) * 1000)
        if i % 256 == 255:
            os.lseek(fd, 0, os.SEEK_SET)  # a 2 MiB ring, like a WAL segment being rewritten
    lat.sort()
    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    print("fdatasync of 8 KiB in %s, %d calls: p50 %.2f ms, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f" % (
        d, n, pct(50), pct(90), pct(99), pct(99.9), lat[-1]))
finally:
    os.close(fd)
    os.unlink(path)
