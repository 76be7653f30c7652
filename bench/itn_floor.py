"""The floor for `itn import` in make bench: each line read with json.loads and appended to a
file, as a quick script would do it (no validation, no duplicate check, one fsync at the end)."""
import json
import os
import sys

with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        if line.strip():
            out.write(json.dumps(json.loads(line)) + "\n")
    out.flush()
    os.fsync(out.fileno())
