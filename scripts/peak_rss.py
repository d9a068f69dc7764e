#!/usr/bin/python3
"""Runs a command and reports its wall time and peak resident memory: `peak_rss.py REPORT.json -- CMD ARGS...`.

The command's stdout and stderr pass through. REPORT.json gets {"rc", "seconds", "peak_rss_kb"}, where
peak_rss_kb is getrusage(RUSAGE_CHILDREN).ru_maxrss after the wait: the VmHWM of the largest process waited for
(the command, or one of its own children), counted by the kernel, so nothing samples and nothing is missed.
Used by the benchmark (bench/MlffData.Bench) for every child process it measures.
"""
import json
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__.splitlines()[0])
    start = time.perf_counter()
    rc = subprocess.run(sys.argv[3:]).returncode
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(sys.argv[1], "w") as f:
        json.dump({"rc": rc, "seconds": round(seconds, 4), "peak_rss_kb": peak}, f)
    sys.exit(rc)


if __name__ == "__main__":
    main()
