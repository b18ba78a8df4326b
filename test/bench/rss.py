#!/usr/bin/python3
"""rss.py OUT COMMAND [ARG...]: run COMMAND, write its peak resident set
size in KiB to OUT, and exit with its status.  run.sh uses it for nudge's
peak RSS when GNU time (/usr/bin/time -f %M) is not installed."""
import resource
import subprocess
import sys

if len(sys.argv) < 3:
    sys.exit(__doc__.splitlines()[0])
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    # Linux reports ru_maxrss in KiB; the largest of the waited-for children.
    f.write(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\n")
sys.exit(rc if rc >= 0 else 128 - rc)
