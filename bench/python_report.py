#!/usr/bin/python3
"""What ops would write instead of expcards: Python's csv module, the same statuses
(expired / expiring within N months / later, as of a date) grouped by status and expiry month,
with the trailer's count checked. No schedules. Prints JSON.

  python_report.py --as-of 2025-11-15 [--threshold 2] FILE...
"""
import argparse
import calendar
import csv
import json
import sys
from collections import Counter


def add_months(ymd, k):
    y, m, d = int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8])
    t = y * 12 + (m - 1) + k
    y, m = t // 12, t % 12 + 1
    d = min(d, calendar.monthrange(y, m)[1])
    return "%04d%02d%02d" % (y, m, d)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--as-of", required=True)
    p.add_argument("--threshold", type=int, default=2)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    as_of = a.as_of.replace("-", "")
    limit = add_months(as_of, a.threshold)
    out = {}
    for path in a.files:
        counts = Counter()
        details = 0
        trailer = None
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            for row in csv.reader(f, delimiter=";", quotechar='"'):
                if not row:
                    continue
                code = row[0]
                if code == "02":
                    details += 1
                    e = row[4]
                    status = "expired" if e < as_of else ("expiring" if e <= limit else "later")
                    counts[(status, e[:4] + "-" + e[4:6])] += 1
                elif code == "01":
                    trailer = int(row[1])
        groups = {}
        for (status, month), n in sorted(counts.items()):
            groups.setdefault(status, {})[month] = n
        out[path] = {"details": details, "trailerCount": trailer, "trailerOK": trailer == details, "byStatusAndMonth": groups}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
