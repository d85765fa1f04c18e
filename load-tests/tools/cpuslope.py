#!/usr/bin/env python3
"""CPU per event (µs) of each kind of process over the steady part of a run, from a cpurun.py trace (CPURUN_TRACE).
The window is the WINDOW seconds (default 80) ending END seconds (default 10) before the trace's last line: with
`Bench http --warmup=60 --rate=R --duration=90` that is the measured phase, after start-up, the warm-up and most of
the JIT's work, and before the final check and shutdown.
Usage: cpuslope.py TRACE RATE [WINDOW] [END]   (Python 3 standard library only)"""
import json, sys

if len(sys.argv) < 3:
    sys.exit(__doc__)
rows = [(float(l.split(' ', 1)[0]), json.loads(l.split(' ', 1)[1])) for l in open(sys.argv[1]) if l.strip()]
rate = float(sys.argv[2])
window = float(sys.argv[3]) if len(sys.argv) > 3 else 80
end = rows[-1][0] - (float(sys.argv[4]) if len(sys.argv) > 4 else 10)
a = min(rows, key=lambda r: abs(r[0] - (end - window)))
b = min(rows, key=lambda r: abs(r[0] - end))
if b[0] - a[0] < window / 2:
    sys.exit("trace too short for a %d s window" % window)
dt = b[0] - a[0]
out = {k: round((b[1].get(k, 0) - a[1].get(k, 0)) / dt / rate * 1e6, 1) for k in b[1]}
out['total'] = round(sum(v for k, v in out.items()), 1)
out['window_s'] = [a[0], b[0]]
print(json.dumps(out))
