#!/usr/bin/env python3
"""Compare two forms of the DSE study by the rule the sessions fix before their runs.

For every task (run directory) present in both sweeps, take each seed's evaluations to the
study's regret threshold (summary.json, final.evals_to_threshold; a run that never reached
it counts as 3,001, one more than the budget), the interquartile mean over the seeds and a
95% percentile-bootstrap interval (2,000 resamples, fixed seed, so the output is
reproducible), and the ratio candidate / reference. The last line is the geometric mean of
the ratios over the complete tasks, then its 95% paired, stratified-bootstrap interval (each
resample redraws every task's seeds within that task, the same seeds for both forms, whose
runs of one seed share their start and first generation; 2,000 resamples from a second
fixed seed, so the lines above are as before). Tasks missing seeds
are listed and left out.

Usage: form_ratio.py CANDIDATE_DIR REFERENCE_DIR FIRST_SEED LAST_SEED
       form_ratio.py CANDIDATE_DIR REFERENCE_DIR SEEDS
(e.g. python3 docs/tools/form_ratio.py runs/s19K runs/s19AB 41 50). Rounds run as separate
sweeps are pooled by giving comma-separated directories, each seed read from the first
directory that has it, and SEEDS as comma-separated ranges (e.g. runs/s22study,runs/s23study
runs/s22nograph,runs/s23nograph 91-100,137-146).
"""
import json
import math
import os
import random
import sys

NEVER = 3001.0


def iqm(xs):
    xs = sorted(xs)
    cut = len(xs) // 4
    mid = xs[cut:len(xs) - cut]
    return sum(mid) / len(mid)


def evals(roots, task, seed):
    for root in roots:
        path = os.path.join(root, task, "seed-%d" % seed, "summary.json")
        if os.path.exists(path):
            break
    else:
        return None
    with open(path) as f:
        v = json.load(f)["final"].get("evals_to_threshold")
    if v is None or (isinstance(v, float) and math.isnan(v)) or v < 0:
        return NEVER
    return float(v)


def interval(xs, rng, resamples=2000):
    stats = sorted(iqm([rng.choice(xs) for _ in xs]) for _ in range(resamples))
    return stats[int(0.025 * resamples)], stats[int(0.975 * resamples) - 1]


def short(task):
    t = task.replace("_kind-commformer", "").replace("traces-_stream_random_cloud-1_cloud-2_", "four-channel")
    return t.replace("traces-_", "").replace("__objective-", " ").replace("_objective-", " ")


def parse_seeds(spec):
    seeds = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        try:
            seeds.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            sys.exit("seeds %s: %r is not a seed or a range such as 91-100" % (spec, part))
    if len(set(seeds)) != len(seeds):
        sys.exit("seeds %s: a seed listed twice" % spec)
    return seeds


def main(argv):
    if len(argv) == 5:
        seeds = list(range(int(argv[3]), int(argv[4]) + 1))
    elif len(argv) == 4:
        seeds = parse_seeds(argv[3])
    else:
        sys.exit(__doc__)
    cand, ref = argv[1].split(","), argv[2].split(",")
    rng = random.Random(1)
    tasks = sorted({t for r in ref for t in os.listdir(r) if os.path.isdir(os.path.join(r, t))})
    logs = []
    pairs = []
    print("| task | reference IQM [95% CI] | candidate IQM [95% CI] | candidate / reference |")
    print("|---|---|---|---|")
    for t in tasks:
        a = [x for x in (evals(ref, t, s) for s in seeds) if x is not None]
        b = [x for x in (evals(cand, t, s) for s in seeds) if x is not None]
        if len(a) < len(seeds) or len(b) < len(seeds):
            print("| %s | incomplete: %d and %d of %d seeds |" % (short(t), len(a), len(b), len(seeds)))
            continue
        ia, ib = iqm(a), iqm(b)
        logs.append(math.log(ib / ia))
        pairs.append((a, b))
        ca, cb = interval(a, rng), interval(b, rng)
        print("| %s | %.3g [%.3g, %.3g] | %.3g [%.3g, %.3g] | %.2f |" % (short(t), ia, ca[0], ca[1], ib, cb[0], cb[1], ib / ia))
    if logs:
        print("tasks %d, geometric mean candidate / reference = %.5f" % (len(logs), math.exp(sum(logs) / len(logs))))
        brng = random.Random(2)
        gms = []
        for _ in range(2000):
            tot = 0.0
            for a, b in pairs:
                idx = [brng.randrange(len(a)) for _ in a]
                tot += math.log(iqm([b[i] for i in idx]) / iqm([a[i] for i in idx]))
            gms.append(math.exp(tot / len(pairs)))
        gms.sort()
        print("95%% paired stratified bootstrap interval of the geometric mean: [%.3f, %.3f]" % (gms[50], gms[1949]))


if __name__ == "__main__":
    main(sys.argv)
