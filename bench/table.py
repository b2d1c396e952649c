#!/usr/bin/python3
"""Prints the results table of one recorded benchmark run as Markdown, for
the README: bench/table.py bench/results/bench-<time>.json

Each figure is the median of its runs with their min-max, the ratio that of
the medians with its min-max over the pairs of runs (pg_dash and its peer or
limit ran in turns, A B A B A B), and the load: the 1-minute load average
when the runs started / the cores other processes used meanwhile."""
import json
import sys


def num(v):
    """A figure as the README writes it."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def with_range(v, r, unit):
    """'v unit (min–max)'."""
    if v is None or v == "":
        return ""
    s = num(v) + (" " + unit if unit and not isinstance(v, str) else "")
    if r and not isinstance(v, str):
        s += " (%s–%s)" % (num(r[0]), num(r[1]))
    return s


def short_load(note):
    """'load average 1.2 (...), other processes 0.05 cores (...)' -> '1.2 / 0.05'."""
    if not note:
        return ""
    try:
        la = note.split("load average ")[1].split(" ")[0]
        oc = note.split("other processes ")[1].split(" ")[0]
        return "%s / %s" % (la, oc)
    except IndexError:
        return ""


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/table.py bench/results/bench-<time>.json")
    with open(sys.argv[1]) as f:
        res = json.load(f)
    m = res.get("machine", {})
    print("**Run `%s`** (%s, %s, %d CPUs, %s): %s runs per figure, pg_dash and its peer or limit in turns; "
          "median (min–max); ratio > 1 means pg_dash is better. *Load*: the 1-minute load average when the runs "
          "started / the cores other processes used meanwhile." % (
              res.get("run", sys.argv[1]), res.get("date", "?"),
              "commit " + res["commit"] if res.get("commit") else "commit unknown",
              m.get("cpus", 0), m.get("cpu", "?"), res.get("config", {}).get("runs", "?")))
    print()
    print("| figure | pg_dash | peer or limit | ratio | target | load |")
    print("|---|---|---|---|---|---|")
    for f in res["figures"]:
        other = ""
        if f.get("other_label") or f.get("other") not in (None, ""):
            other = ("%s %s" % (f.get("other_label") or "", with_range(f.get("other"), f.get("other_range"),
                                                                      f["unit"]))).strip()
        ratio = f.get("ratio")
        rs = ""
        if isinstance(ratio, (int, float)):
            rs = "%.2fx" % ratio
            if f.get("ratio_range"):
                rs += " (%.2f–%.2f)" % tuple(f["ratio_range"])
        elif ratio:
            rs = str(ratio)
        print("| %s | %s | %s | %s | %s | %s |" % (
            f["figure"], with_range(f.get("pg_dash"), f.get("pg_dash_range"), f["unit"]), other, rs,
            f.get("target") or "", short_load(f.get("load"))))
    notes = [f for f in res["figures"] if f.get("note")]
    if notes:
        print()
        for f in notes:
            print("- %s: %s" % (f["figure"], f["note"].strip().rstrip(";")))


if __name__ == "__main__":
    main()
