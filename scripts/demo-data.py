#!/usr/bin/python3
"""Writes a realistic, seeded sample of the platform's EXP_CARDS files for the demo.

    /usr/bin/python3 scripts/demo-data.py TREE [--seed N] [--today YYYY-MM-DD]

TREE gets the layout of the platform's SFTP login directory:

    TREE/ROOT/expired/AAAAMM.EXP_CARDS.<ENS>.<T|P>.csv[.gz]           the company's files
    TREE/<shopId>/expired/AAAAMM.<shopId>.EXP_CARDS.<PDV>.<T|P>.csv[.gz]  each shop's files

One company, three shops, test and production files, the last three months relative to today
(UTC); the oldest month is gzipped (.csv.gz), as the platform does 7 days after publication.
A few hundred aliases with accented UTF-8 names and subscriptions with varied RRULEs
(MONTHLY BYMONTHDAY, last day of the month with BYSETPOS=-1, BYMONTHDAY=-1, WEEKLY, YEARLY,
some with COUNT or UNTIL, some with initial amounts); expiry dates spread over expired, within
two months and later relative to each file's month. Shop files are quoted like the guide's
example, the company file is not; the company file's recurrence counts match the shop files.
Exactly one file is damaged on purpose: the newest production file of one shop has a trailer
whose detail count does not match its details (the report must show PROBLEMS for it).

Prints one line per file written, then `damaged: <path relative to TREE>`.
Standard library only; the same seed and day give the same bytes.
"""

import argparse
import calendar
import datetime as dt
import gzip
import io
import os
import random
import sys
import unicodedata

COMPANY = "ATELIERS-BEAUREGARD"
SHOPS = [  # (shop id, label, typical amounts in cents)
    ("31415926", "BOUTIQUE-LYON", [1490, 1990, 2490, 2990]),
    ("27182818", "BOUTIQUE-NANTES", [990, 1290, 1500, 3500]),
    ("16180339", "VENTE-EN-LIGNE", [499, 799, 999, 4990, 11900]),
]
DAMAGED_SHOP = "27182818"
MONTHS = 3

FIRST_NAMES = [
    "Élodie", "Zoé", "Chloé", "Hélène", "Benoît", "François", "Jérôme", "Gaëlle", "Noël", "Anaïs",
    "Loïc", "Maël", "Inès", "Léa", "Théo", "Raphaël", "Clément", "Cécile", "Aurélien", "Stéphane",
    "Océane", "Joël", "Hervé", "Agnès", "Renée", "Mathéo", "Françoise", "Björn", "José", "Søren",
    "Camille", "Louis", "Manon", "Hugo", "Jules", "Emma", "Nicolas", "Sophie", "Marie-Thérèse",
    "Jean-Loup", "Ève", "Aïcha", "Şeyma", "Łukasz", "Ana-María", "Frédérique", "Gérald", "Médéric",
]
LAST_NAMES = [
    "Müller", "Lefèvre", "Dubois", "Gauthier", "Bélanger", "Lemaître", "Giraud", "Faure", "Rousseau",
    "Chevalier", "Garçon", "Brûlé", "Le Bihan", "d'Alembert", "Nguyễn", "Şahin", "Caillé", "Mercier",
    "Ødegaard", "Peña", "Côté", "Lévêque", "Martin", "Bernard", "Petit", "Durand", "Moreau", "Fontaine",
    "Bonnaire", "Lacôte", "Béranger", "Dupré", "Lemoine", "Ibáñez", "Kowalczyk", "Große", "O'Brien",
    "Thérond", "Rémy", "Vénard", "Saint-Aubin", "Hébert", "Després", "Laurençon",
]
DOMAINS = ["exemple.fr", "example.com", "courriel.fr", "mail.example.org", "exemple.be", "exemple.ch"]
FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "Ł": "L", "'": "", " ": "-"})

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def add_months(year, month, n):
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def month_end(year, month):
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def ascii_fold(text):
    text = unicodedata.normalize("NFKD", text.translate(FOLD))
    return "".join(c for c in text if ord(c) < 128).lower()


class Subscription:
    """One subscription: its rule, effect date, amounts, and (roughly) when it ends."""

    def __init__(self, rnd, shop, alias, newest):
        self.shop_id, _, amounts = shop
        self.id = rnd.choice(["REC_" + alias[:24], "SUB-%06d" % rnd.randrange(10**6), "ABO%08X" % rnd.getrandbits(32)])
        self.amount = rnd.choice(amounts)
        if rnd.random() < 0.18:
            self.initial_amount = str(rnd.choice([100, 490, self.amount // 2 or 1]))
            self.initial_number = rnd.randint(1, 3)
        else:
            self.initial_amount, self.initial_number = "", 0
        newest_start = dt.date(newest[0], newest[1], 1)
        kind = rnd.choices(
            ["monthly", "monthly-count", "last-day", "last-day-count", "minus-one-count", "weekly",
             "biweekly-count", "yearly", "quarterly-until", "every-3-months-until"],
            weights=[28, 14, 8, 6, 4, 8, 5, 8, 5, 4])[0]
        day = rnd.randint(1, 28)
        # period in days (roughly) and the number of charges, None when unlimited
        if kind == "monthly":
            rule, period, count = "FREQ=MONTHLY;BYMONTHDAY=%d" % day, 30.4, None
        elif kind == "monthly-count":
            count = rnd.choice([6, 10, 12, 24])
            rule, period = "FREQ=MONTHLY;COUNT=%d;BYMONTHDAY=%d" % (count, day), 30.4
        elif kind == "last-day":
            rule, period, count = "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", 30.4, None
        elif kind == "last-day-count":
            count = rnd.choice([12, 18, 36])
            rule, period = "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=%d" % count, 30.4
        elif kind == "minus-one-count":
            count = rnd.choice([5, 10])
            rule, period = "FREQ=MONTHLY;COUNT=%d;BYMONTHDAY=-1" % count, 30.4
        elif kind == "weekly":
            rule, period, count = "FREQ=WEEKLY;BYDAY=%s" % rnd.choice(WEEKDAYS[:5]), 7, None
        elif kind == "biweekly-count":
            count = rnd.choice([13, 26])
            rule, period = "FREQ=WEEKLY;INTERVAL=2;COUNT=%d;BYDAY=%s" % (count, rnd.choice(WEEKDAYS)), 14
        elif kind == "yearly":
            month = rnd.randint(1, 12)
            rule, period, count = "FREQ=YEARLY;BYMONTH=%d;BYMONTHDAY=%d" % (month, day), 365, None
        else:
            until_year, until_month = add_months(newest[0], newest[1], rnd.randint(3, 30))
            until = month_end(until_year, until_month)
            if kind == "quarterly-until":
                rule = "FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=%s" % until.strftime("%Y%m%d")
            else:
                rule = "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=%d;UNTIL=%s" % (day, until.strftime("%Y%m%d"))
            period, count = 91, None
        self.rule = "RRULE:" + rule
        self.count = count
        # Effect date: in the past; a counted subscription still runs for at least two more
        # months after the newest file, so it is active (and listed) in every month's files.
        if count is None:
            back_days = rnd.randint(20, 900)
        else:
            back_days = rnd.randint(10, max(11, int(count * period) - 95 - MONTHS * 31))
        self.effect = newest_start - dt.timedelta(days=back_days + MONTHS * 31)
        self.period = period

    def counter(self, on):
        done = max(0, int((on - self.effect).days / self.period))
        if self.count is None:
            return str(done)
        return "%d/%d" % (min(done, self.count), self.count)


class Alias:
    def __init__(self, rnd, newest, test=False):
        self.id = "%032x" % rnd.getrandbits(128)
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        if test:
            last = rnd.choice(["Test", "Recette", "Essai"]) + " " + last
        self.name = "%s %s" % (first, last)
        sep = rnd.choice([".", "-", "_", ""])
        self.email = "%s%s%s%s@%s" % (ascii_fold(first), sep, ascii_fold(last),
                                       rnd.choice(["", "", str(rnd.randint(1, 99))]), rnd.choice(DOMAINS))
        # Expiry: a month end from 5 months before to 9 months after the newest month.
        self.expiry_offset = rnd.randint(-5, 9)
        self.expiry = month_end(*add_months(newest[0], newest[1], self.expiry_offset))
        n = rnd.choices([0, 1, 2, 3], weights=[30, 48, 17, 5])[0]
        self.subscriptions = [Subscription(rnd, rnd.choice(SHOPS), self.id, newest) for _ in range(n)]

    def listed_in(self, month_offset):
        """The platform lists a card from 6 months before its expiry to 3 months after."""
        return month_offset - 3 <= self.expiry_offset <= month_offset + 6


def quoted(fields):
    return ";".join('"%s"' % f.replace('"', '""') for f in fields)


def plain(fields):
    for f in fields:
        assert ";" not in f and '"' not in f and "\n" not in f, f
    return ";".join(fields)


def write_file(tree, relative, text, published, compress):
    data = text.encode("utf-8")
    path = os.path.join(tree, relative)
    if compress:
        path += ".gz"
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=int(published.timestamp())) as z:
            z.write(data)
        data = buffer.getvalue()
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    stamp = published.timestamp() + (7 * 86400 if compress else 0)
    os.utime(path, (stamp, stamp))
    return os.path.relpath(path, tree)


def generate(tree, seed, today):
    rnd = random.Random(seed)
    newest = (today.year, today.month)
    production = [Alias(rnd, newest) for _ in range(420)]
    test = [Alias(rnd, newest, test=True) for _ in range(30)]
    written, damaged = [], None
    for offset in range(-(MONTHS - 1), 1):
        year, month = add_months(newest[0], newest[1], offset)
        compress = offset == -(MONTHS - 1)
        published = dt.datetime(year, month, 1, 4, 0, 0, tzinfo=dt.timezone.utc)
        for env, population in (("P", production), ("T", test)):
            aliases = sorted((a for a in population if a.listed_in(offset)), key=lambda a: a.id)
            created = published + dt.timedelta(minutes=rnd.randint(1, 20), seconds=rnd.randint(0, 59))
            day, start = created.strftime("%Y%m%d"), created.strftime("%H%M%S")
            end = (created + dt.timedelta(seconds=rnd.randint(2, 40))).strftime("%H%M%S")
            # The company file: every listed alias once, with its count of active recurrences.
            lines = [plain(["00", "EXP_CARDS", env, day, start])]
            for a in aliases:
                lines.append(plain(["02", a.id, a.name, a.email, a.expiry.strftime("%Y%m%d"), str(len(a.subscriptions))]))
            lines.append(plain(["01", str(len(aliases)), day, end]))
            name = "%04d%02d.EXP_CARDS.%s.%s.csv" % (year, month, COMPANY, env)
            written.append(write_file(tree, "ROOT/expired/" + name, "\r\n".join(lines) + "\r\n", published, compress))
            # Each shop's file: one detail per subscription of a listed alias in that shop.
            for shop_id, label, _ in SHOPS:
                details = [(a, s) for a in aliases for s in a.subscriptions if s.shop_id == shop_id]
                lines = [quoted(["00", "EXP_CARDS", env, shop_id, day, start])]
                for a, s in details:
                    lines.append(quoted([
                        "02", a.id, a.name, a.email, a.expiry.strftime("%Y%m%d"), s.id,
                        s.counter(published.date()), s.rule, s.effect.strftime("%Y%m%d"), str(s.amount),
                        s.initial_amount, str(s.initial_number)]))
                count = len(details)
                broken = offset == 0 and env == "P" and shop_id == DAMAGED_SHOP
                if broken:
                    count += 3  # as if three details had been lost on the way
                distinct = len({a.id for a, _ in details})
                lines.append(quoted(["01", str(count), str(distinct), day, end]))
                name = "%04d%02d.%s.EXP_CARDS.%s.%s.csv" % (year, month, shop_id, label, env)
                path = write_file(tree, "%s/expired/%s" % (shop_id, name), "\n".join(lines) + "\n", published, compress)
                written.append(path)
                if broken:
                    damaged = path
    return written, damaged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tree", help="the directory to fill (the SFTP login directory)")
    parser.add_argument("--seed", type=int, default=20181022)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.datetime.now(dt.timezone.utc).date(),
                        help="the reference day (default: today in UTC)")
    args = parser.parse_args()
    written, damaged = generate(args.tree, args.seed, args.today)
    for path in written:
        print(path)
    print("damaged: %s" % damaged)
    return 0


if __name__ == "__main__":
    sys.exit(main())
