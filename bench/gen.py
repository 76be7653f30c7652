#!/usr/bin/python3
"""Seeded generator of EXP_CARDS benchmark files (Debian's python3, stdlib only).

Same seed, same bytes. Nothing generated here is committed: run.sh writes into a temporary
directory and removes it.

  gen.py shop    --out FILE.csv [--lines N | --bytes B] [--seed S] [--month AAAAMM]
  gen.py company --out FILE.csv [--lines N] [--seed S] [--month AAAAMM]
  gen.py many    --root DIR --shops N --lines L [--pattern '%s/expired'] [--seed S]
  gen.py rules   --out FILE.csv --rules plain|crafted [--lines N] [--seed S] [--month AAAAMM]

`rules` writes a shop file whose subscriptions all follow one family of rule (issue 13): `plain`,
monthly on a day 1-28 from effect dates spread over ten years; `crafted`, rules chosen to cost
a naive evaluation the most (never matching, matching once in decades, COUNT=999999999 or a COUNT
ending centuries after an effect date in the first millennium, INTERVALs that never reach the
allowed days), each with its own effect date, so no two (rule, effect date) pairs are alike.

File names follow the platform's (the parser picks the kind from the name): the path given to
`shop`/`company` should be AAAAMM.SHOP.EXP_CARDS.PDV.P.csv / AAAAMM.EXP_CARDS.ENS.P.csv.
`--lines` counts every line (header and trailer included), as `wc -l` does.

Shop detail lines look like the guide's example: every field quoted, a 32-hex alias, a
cardholder name with some accented (UTF-8) letters, an e-mail, REC_ subscription ids, an N/M
counter, one of the platform's documented RRULEs (with their `;`), effect date, amounts, and
an initial amount on one line in five: ~200 bytes a line, 1,000,000 lines ~ 200 MB.
Company lines are unquoted, as the guide's company example (~100 bytes a line).

Note: the trailer's detail count is n..6 in the guide, so a file of more than 999,999 details
cannot have a valid trailer; the generator writes the true count anyway (a 2,000,000-line
company file is then flagged by `expcards check`, which is the format's limit, not a bug).
"""
import argparse
import os
import random
import sys

FIRST = ["Jean", "Marie", "Élodie", "François", "Zoé", "Hélène", "Benoît", "Camille", "Lucas", "Inès",
         "Noémie", "Gaëlle", "Jérôme", "Léa", "Chloé", "Théo", "Anaïs", "Mathis", "Céline", "Raphaël",
         "Axel", "Sophie", "Nicolas", "Amélie", "Jürgen", "Ana", "Björn", "José", "Ørjan", "Margaux"]
LAST = ["Dupont", "Durant", "Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Müller", "Roux",
        "Fournier", "Lambert", "Bonnet", "François", "Mercier", "Garnier", "Faure", "Rousseau",
        "Blanc", "Guérin", "Boyer", "Perrin", "Morel", "Chevalier", "Kant", "Nguyen", "García",
        "De La Fontaine-Beaumarchais", "O'Connor", "Lemaître", "Gauthier"]
DOMAINS = ["e-mail.com", "gmail.com", "orange.fr", "free.fr", "laposte.net", "yahoo.fr",
           "hotmail.com", "sfr.fr", "example-merchant.eu", "wanadoo.fr"]
RULES = [
    "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12",
    "RRULE:FREQ=MONTHLY;COUNT=5;BYMONTHDAY=-1",
    "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10",
    "RRULE:FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=20271231",
    "RRULE:FREQ=WEEKLY;BYDAY=MO",
    "RRULE:FREQ=WEEKLY",
    "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO",
    "RRULE:FREQ=WEEKLY;INTERVAL=2;",
    "RRULE:FREQ=MONTHLY;COUNT=24;BYMONTHDAY=1",
    "RRULE:FREQ=MONTHLY;INTERVAL=3;COUNT=8;BYMONTHDAY=5",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=1",
]
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def month_end(y, m):
    d = MONTH_DAYS[m - 1]
    if m == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        d = 29
    return "%04d%02d%02d" % (y, m, d)


def add_months(y, m, k):
    t = y * 12 + (m - 1) + k
    return t // 12, t % 12 + 1


class Gen:
    def __init__(self, seed, month):
        self.r = random.Random(seed)
        self.y, self.m = int(month[:4]), int(month[4:6])
        self.month = month
        # Expiry dates: month ends from 3 months back to 9 months ahead, most within 2 months
        # (the platform lists cards about to expire), plus a few mid-month dates.
        self.expiries = []
        for k, w in [(-3, 2), (-2, 3), (-1, 6), (0, 20), (1, 25), (2, 22), (3, 8), (4, 5), (6, 3), (9, 2)]:
            yy, mm = add_months(self.y, self.m, k)
            self.expiries += [month_end(yy, mm)] * w
            self.expiries += ["%04d%02d%02d" % (yy, mm, 10 + k % 15)]
        self.effects = []
        for k in range(-24, 1):
            yy, mm = add_months(self.y, self.m, k)
            self.effects += ["%04d%02d%02d" % (yy, mm, d) for d in (1, 5, 10, 15, 28)]
        self.names = [(f, l) for f in FIRST for l in LAST]

    def alias(self):
        return "%032x" % self.r.getrandbits(128)

    def person(self):
        r = self.r
        f, l = r.choice(self.names)
        name = f + " " + l
        email = "%s.%s%d@%s" % (f.lower(), l.lower().replace(" ", "").replace("'", ""), r.randrange(1000), r.choice(DOMAINS))
        # E-mail addresses in ASCII, as most are.
        email = email.encode("ascii", "ignore").decode() if r.random() < 0.9 else email
        return name, email

    def created(self):
        return self.month + "01", "04%02d%02d" % (self.r.randrange(60), self.r.randrange(60))


CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def ymd(y, m, d):
    return "%04d%02d%02d" % (y, m, d)


def any_day(r, y0, y1):
    y, m = r.randint(y0, y1), r.randint(1, 12)
    return y, m, r.randint(1, int(month_end(y, m)[6:]))


def weekday(y, m, d):
    # ISO weekday 1..7 (Zeller-free: days from 0001-01-01, a Monday).
    days = sum(int(month_end(y, k)[6:]) for k in range(1, m)) + d - 1
    yy = y - 1
    return (365 * yy + yy // 4 - yy // 100 + yy // 400 + days) % 7 + 1


def plain_rule(r, g):
    y, m, d = any_day(r, g.y - 10, g.y)
    count = ";COUNT=%d" % r.choice((12, 24, 36, 120)) if r.random() < 0.5 else ""
    return "RRULE:FREQ=MONTHLY;BYMONTHDAY=%d%s" % (r.randint(1, 28), count), ymd(y, m, d)


def crafted_rule(r, g):
    k = r.randrange(12)
    y, m, d = any_day(r, 1, g.y)
    if k == 0:
        rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
    elif k == 1:
        y, m, d = any_day(r, 1, 100)
        rule = "FREQ=DAILY;COUNT=999999999"
    elif k == 2:
        # A COUNT that ends between the 17th and the 22nd century.
        y, m, d = any_day(r, 1, 50)
        rule = "FREQ=DAILY;COUNT=%d" % r.randint(600000, 800000)
    elif k == 3:
        rule = "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11"
    elif k == 4:
        rule = "FREQ=YEARLY;INTERVAL=%d;BYMONTH=2;BYMONTHDAY=29" % r.randint(1, 8)
    elif k == 5:
        rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=%s" % r.choice(CODES)
    elif k == 6:
        rule = "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3"
    elif k == 7:
        other = CODES[weekday(y, m, d) % 7]  # the next weekday: INTERVAL=7 never reaches it
        rule = "FREQ=DAILY;INTERVAL=7;BYDAY=%s" % other
    elif k == 8:
        y, m, d = any_day(r, 1, 1500)
        rule = "FREQ=MONTHLY;INTERVAL=%d;BYMONTHDAY=-1;COUNT=%d" % (r.randint(2, 5), r.randint(5000, 15000))
    elif k == 9:
        y, m, d = any_day(r, 1, 1500)
        rule = "FREQ=WEEKLY;INTERVAL=%d;BYDAY=SA;COUNT=%d" % (r.randint(1, 3), r.randint(20000, 60000))
    elif k == 10:
        rule = "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6"
    else:
        rule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=%s;COUNT=%d" % (r.choice(CODES), r.randint(1, 30))
    return "RRULE:" + rule, ymd(y, m, d)


def write_shop(path, shop, seed, month, lines=None, size=None, rules=None):
    g = Gen(seed, month)
    r = g.r
    date, time = g.created()
    out = open(path, "w", encoding="utf-8", newline="")
    head = '"00";"EXP_CARDS";"P";"%s";"%s";"%s"\r\n' % (shop, date, time)
    out.write(head)
    written = len(head.encode())
    details = 0
    aliases = set()
    pool = []  # aliases with more than one subscription in this shop
    target_details = None if lines is None else max(0, lines - 2)
    chunk = []
    while True:
        if target_details is not None and details >= target_details:
            break
        if size is not None and written >= size - 64:
            break
        if pool and r.random() < 0.2:
            a, name, email, exp = r.choice(pool)
        else:
            a = g.alias()
            name, email = g.person()
            exp = r.choice(g.expiries)
            if r.random() < 0.25:
                pool.append((a, name, email, exp))
                if len(pool) > 5000:
                    pool.pop(r.randrange(len(pool)))
        aliases.add(a)
        total = r.choice((0, 3, 6, 12, 12, 12, 24))
        counter = "%d/%d" % (r.randrange(total), total) if total else str(r.randrange(40))
        if r.random() < 0.2:
            init, ninit = str(r.randrange(100, 100000)), str(r.randrange(1, 4))
        else:
            init, ninit = "", "0"
        rule, effect = rules(r, g) if rules else (r.choice(RULES), r.choice(g.effects))
        line = '"02";"%s";"%s";"%s";"%s";"REC_%s_%d";"%s";"%s";"%s";"%d";"%s";"%s"\r\n' % (
            a, name, email, exp, a[:24], r.randrange(100), counter, rule, effect,
            r.randrange(100, 1000000), init, ninit)
        chunk.append(line)
        details += 1
        if size is not None:
            written += len(line.encode())
        if len(chunk) >= 10000:
            out.write("".join(chunk))
            chunk = []
    out.write("".join(chunk))
    out.write('"01";"%d";"%d";"%s";"%s"\r\n' % (details, len(aliases), date, "04%02d%02d" % (r.randrange(60), r.randrange(60))))
    out.close()
    return details


def write_company(path, seed, month, lines):
    g = Gen(seed, month)
    r = g.r
    date, time = g.created()
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("00;EXP_CARDS;P;%s;%s\n" % (date, time))
        details = max(0, lines - 2)
        chunk = []
        for _ in range(details):
            name, email = g.person()
            chunk.append("02;%s;%s;%s;%s;%d\n" % (g.alias(), name, email, r.choice(g.expiries), r.choice((0, 0, 0, 1, 1, 2, 3))))
            if len(chunk) >= 10000:
                out.write("".join(chunk))
                chunk = []
        out.write("".join(chunk))
        out.write("01;%d;%s;%s\n" % (details, date, "04%02d%02d" % (r.randrange(60), r.randrange(60))))
    return details


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["shop", "company", "many", "rules"])
    p.add_argument("--rules", choices=["plain", "crafted"], default="plain")
    p.add_argument("--out")
    p.add_argument("--root")
    p.add_argument("--lines", type=int)
    p.add_argument("--bytes", type=int)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--month", default="202511")
    p.add_argument("--shop", default="87654321")
    p.add_argument("--shops", type=int, default=200)
    p.add_argument("--first-shop", type=int, default=10000001)
    p.add_argument("--pattern", default="%s/expired")
    a = p.parse_args()
    if a.kind == "shop":
        write_shop(a.out, a.shop, a.seed, a.month, lines=a.lines, size=a.bytes)
    elif a.kind == "rules":
        write_shop(a.out, a.shop, a.seed, a.month, lines=a.lines or 20002,
                   rules=crafted_rule if a.rules == "crafted" else plain_rule)
    elif a.kind == "company":
        write_company(a.out, a.seed, a.month, a.lines or 2000000)
    else:
        for i in range(a.shops):
            shop = "%08d" % (a.first_shop + i)
            d = os.path.join(a.root, a.pattern.replace("%s", shop))
            os.makedirs(d, exist_ok=True)
            write_shop(os.path.join(d, "%s.%s.EXP_CARDS.SHOP%d.P.csv" % (a.month, shop, i)), shop, a.seed * 1000 + i, a.month, lines=a.lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
