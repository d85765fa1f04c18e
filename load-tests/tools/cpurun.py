#!/usr/bin/env python3
"""Runs one command (a Bench run) and samples, every 0.5 s, the CPU time (user + system, own + reaped children) of
the processes owned by user $CPURUN_USER (default tally), by kind: PostgreSQL, the Tally server JVM (java -jar), Redis, the load generator.
Prints, per kind, the highest total seen (reached just before the servers stop).
With CPURUN_TRACE=FILE it also writes, every 5 s, the seconds since start and the totals so far (one JSON per line):
tools/cpuslope.py turns that into CPU per event over the steady part of the run, without start-up and JIT.
Usage: cpurun.py OUTPUT_LOG COMMAND [ARG ...]   (Python 3 standard library only; Linux /proc)"""
import os, sys, subprocess, time, pwd, json
uid = pwd.getpwnam(os.environ.get("CPURUN_USER", "tally")).pw_uid
tck = os.sysconf('SC_CLK_TCK')
best = {}
other = {}
def sample():
    tot = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            if os.stat('/proc/' + p).st_uid != uid:
                continue
            st = open('/proc/%s/stat' % p).read()
            cmd = open('/proc/%s/cmdline' % p).read().replace('\0', ' ')
        except Exception:
            continue
        f = st[st.rindex(')') + 2:].split()
        if not cmd:
            continue  # a zombie
        own = (int(f[11]) + int(f[12])) / tck
        cpu = own
        if 'postgres' in cmd or 'pg_ctl' in cmd or 'initdb' in cmd:
            k = 'postgres'
            cpu = own + (int(f[13]) + int(f[14])) / tck  # backends that exited were reaped by the postmaster
        elif 'redis' in cmd:
            k = 'redis'
        elif ' -jar ' in cmd:
            k = 'tally'
        elif 'loadtest.Bench' in cmd:
            k = 'bench'
        else:
            k = 'other'
            other[cmd[:80]] = cpu
        tot[k] = tot.get(k, 0) + cpu
    for k, v in tot.items():
        best[k] = max(best.get(k, 0), v)
proc = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1], 'w'), stderr=subprocess.STDOUT)
trace = open(os.environ['CPURUN_TRACE'], 'w') if os.environ.get('CPURUN_TRACE') else None
t0 = time.time()
next_trace = 0
while proc.poll() is None:
    sample()
    if trace and time.time() - t0 >= next_trace:
        trace.write("%.1f %s\n" % (time.time() - t0, json.dumps({k: round(v, 2) for k, v in sorted(best.items())})))
        trace.flush()
        next_trace += 5
    time.sleep(0.5)
print(json.dumps({k: round(v, 1) for k, v in sorted(best.items())}))
if os.environ.get('CPURUN_DEBUG'):
    print(other)
