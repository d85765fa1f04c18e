#!/usr/bin/env python3
"""API calls while a benchmark ingests: after START seconds, every EVERY seconds (COUNT rounds), call the default
(to = now) GET /v1/insights, GET /v1/metrics/usage and GET /v1/insights?wait=true of the Tally that Bench started,
and print each call's status and latency.

usage: apipoll.py START EVERY COUNT [--url=http://127.0.0.1:PORT] [--key=dev-read-key]
Without --url the port is read from the server log Bench writes (load-tests/target/tally-PORT.log), waiting for it.
"""
import glob
import json
import re
import sys
import time
import urllib.request


def main():
    pos = [a for a in sys.argv[1:] if not a.startswith('--')]
    opt = dict(a[2:].split('=', 1) for a in sys.argv[1:] if a.startswith('--') and '=' in a)
    if len(pos) != 3:
        sys.exit(__doc__)
    start, every, count = float(pos[0]), float(pos[1]), int(pos[2])
    key = opt.get('key', 'dev-read-key')
    time.sleep(start)
    url = opt.get('url')
    for _ in range(120):
        if url:
            break
        logs = glob.glob('load-tests/target/tally-*.log')
        if logs:
            url = 'http://127.0.0.1:' + re.search(r'tally-(\d+)\.log', logs[0]).group(1)
        else:
            time.sleep(1)
    if not url:
        sys.exit('no server log under load-tests/target; pass --url')
    paths = ['/v1/insights', '/v1/metrics/usage', '/v1/insights?wait=true']
    for _ in range(count):
        t0 = time.time()
        for p in paths:
            a = time.time()
            try:
                req = urllib.request.Request(url + p, headers={'Authorization': 'Bearer ' + key})
                with urllib.request.urlopen(req, timeout=60) as r:
                    body = json.loads(r.read())
                    status = r.status
                extra = 'pending=%s' % body.get('pending', []) if 'insights' in p else ''
            except Exception as e:  # a failed call is reported, not fatal
                status, extra = 'ERR', str(e)[:100]
            print('%s %-26s %s %7.0f ms %s' % (time.strftime('%H:%M:%S'), p, status, (time.time() - a) * 1000, extra),
                  flush=True)
        time.sleep(max(0.0, every - (time.time() - t0)))


if __name__ == '__main__':
    main()
