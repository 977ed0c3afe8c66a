#!/usr/bin/env python3
"""Per task, every method's evaluations to the regret threshold and which method is fewest.

Reads sweep directories whose task directories end in _kind-<kind> (one sweep may hold
several kinds), takes each seed's evaluations to the threshold as form_ratio.py does
("never" = 3,001), and prints per task a row of IQM [95% percentile-bootstrap CI] per
method, with the method of the fewest IQM. Methods are named LABEL=DIR or LABEL=DIR:KIND
(KIND selects the kind's tasks in DIR; without it DIR holds one method).

Usage: fewest.py FIRST_SEED LAST_SEED LABEL=DIR[:KIND] ...
(e.g. python3 docs/tools/fewest.py 71 80 C=runs/s21C AB=runs/s21AB GA=runs/s21base:genetic)
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from form_ratio import evals, interval, iqm, short  # noqa: E402


def tasks_of(root, kind):
    out = {}
    for t in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, t)):
            continue
        base, sep, k = t.rpartition("_kind-")
        if not sep:
            continue
        if kind is None or k == kind:
            out[short(base + "_kind-commformer")] = t
    return out


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    lo, hi = int(argv[1]), int(argv[2])
    seeds = range(lo, hi + 1)
    methods = []
    for spec in argv[3:]:
        label, _, where = spec.partition("=")
        root, _, kind = where.partition(":")
        if not label or not root or not os.path.isdir(root):
            sys.exit("bad method %r: want LABEL=DIR[:KIND] with an existing DIR" % spec)
        methods.append((label, root, tasks_of(root, kind or None)))
    names = sorted(set().union(*(m[2].keys() for m in methods)))
    rng = random.Random(1)
    print("| task | " + " | ".join(m[0] for m in methods) + " | fewest |")
    print("|---|" + "---|" * (len(methods) + 1))
    for name in names:
        cells, best = [], None
        for label, root, tasks in methods:
            t = tasks.get(name)
            xs = [] if t is None else [x for x in (evals(root, t, s) for s in seeds) if x is not None]
            if len(xs) < len(seeds):
                cells.append("%d of %d seeds" % (len(xs), len(seeds)))
                continue
            v, ci = iqm(xs), interval(xs, rng)
            cells.append("%.3g [%.3g, %.3g]" % (v, ci[0], ci[1]))
            if best is None or v < best[0]:
                best = (v, label)
        print("| %s | %s | %s |" % (name, " | ".join(cells), best[1] if best else "-"))


if __name__ == "__main__":
    main(sys.argv)
