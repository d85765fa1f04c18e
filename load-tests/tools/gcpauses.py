#!/usr/bin/env python3
"""Summarises the stop-the-world pauses of a HotSpot unified GC log.

Usage: gcpauses.py LOG [FROM_SECONDS]

LOG is written by the server JVM with, for example,
  -Xlog:gc*,gc+phases=debug,gc+age=trace:file=gc.log:uptime
(Bench passes such options to the server with --jvm=...). Only pauses that start at or after FROM_SECONDS of JVM
uptime count (default 0), so that start-up and warm-up can be left out. Prints the number of pauses, their median,
90th percentile, maximum and total, the share of wall time paused, and for G1 the medians of the two phases that
make up most of a young pause ("Scan Heap Roots": old objects that point at young ones; "Object Copy": live young
objects copied) and of the bytes that survived.
"""
import re
import statistics
import sys

PAUSE = re.compile(r"^\[(\d+\.\d+)s\] GC\((\d+)\) (Pause \S+.*?) (\d+)M->(\d+)M\((\d+)M\) (\d+\.\d+)ms$")
PHASE = re.compile(r"^\[(\d+\.\d+)s\] GC\((\d+)\)\s+(Scan Heap Roots|Object Copy) \(ms\):.*Avg:\s*([\d.]+)")
AGES = re.compile(r"^\[(\d+\.\d+)s\] GC\((\d+)\) - age\s+\d+:\s+\d+ bytes,\s+(\d+) total")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    pauses, phases, survived, first, last = {}, {}, {}, None, None
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            m = PAUSE.match(line.strip())
            if m:
                t, gc, ms = float(m.group(1)), int(m.group(2)), float(m.group(7))
                if t - ms / 1000 >= start:
                    pauses[gc] = (m.group(3), ms)
                    first = t if first is None else first
                    last = t
                continue
            m = PHASE.match(line.strip())
            if m:
                phases.setdefault(m.group(3), {})[int(m.group(2))] = float(m.group(4))
                continue
            m = AGES.match(line.strip())
            if m:
                survived[int(m.group(2))] = int(m.group(3))  # the last age line holds the running total
    if not pauses:
        sys.exit("no pause after %.0f s in %s" % (start, sys.argv[1]))
    ms = [p[1] for p in pauses.values()]
    span = (last - first) if last and first and last > first else None
    print("pauses %d  median %.1f ms  p90 %.1f ms  max %.1f ms  total %.2f s%s" % (
        len(ms), statistics.median(ms), pct(ms, 0.9), max(ms), sum(ms) / 1000,
        "  (%.1f %% of %.0f s)" % (100 * sum(ms) / 1000 / span, span) if span else ""))
    for name in ("Scan Heap Roots", "Object Copy"):
        vals = [v for gc, v in phases.get(name, {}).items() if gc in pauses]
        if vals:
            print("  %-16s median %.1f ms per worker" % (name, statistics.median(vals)))
    sv = [v for gc, v in survived.items() if gc in pauses]
    if sv:
        print("  survivors        median %.1f MB" % (statistics.median(sv) / 1e6))


if __name__ == "__main__":
    main()
