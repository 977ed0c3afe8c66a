#!/usr/bin/env python3
"""Write the seeded held-out traces (writes, bursts, idle gaps) in STL format.

usage: gentraces.py OUTDIR

Each trace is written twice: NAME.stl with 32-bit addresses (DDR4: the
4 GiB DIMM, bank and bank-group bits 28-31) and NAME-lp.stl with the same
requests masked to 30 bits (LPDDR4-3200: a 1 GiB device), so that no
address is out of range for the device it runs on. Times are player
clocks (800 MHz in every reference run). Deterministic: the seeds are fixed.
"""
import os
import random
import sys


def addr_stream(rng, mode, base, i):
    if mode == "seq":
        return base + 64 * i
    if mode == "rows":  # revisit a few rows in a few banks: hits, misses, conflicts
        return base + rng.choice((0, 1, 2, 3)) * (1 << 28) + rng.choice((0, 1, 2)) * (1 << 13) + 64 * rng.randrange(128)
    return rng.randrange(1 << 26) * 64  # random over 4 GiB


def burst_rw(rng):
    """2,000 requests in bursts of 16-256 (one per 1-3 clocks), idle gaps of
    200-30,000 clocks, 35% writes, sequential / row-local / random bursts."""
    out, t = [], 0
    while len(out) < 2000:
        n = rng.randint(16, 256)
        mode = rng.choice(("seq", "rows", "rand"))
        base = rng.randrange(1 << 26) * 64
        step = rng.choice((1, 1, 2, 3))
        for i in range(n):
            out.append((t, "write" if rng.random() < 0.35 else "read", addr_stream(rng, mode, base, i)))
            t += step
        t += rng.randint(200, 30000)
    return out[:2000]


def write_heavy(rng):
    """2,000 requests, 75% writes, dense (one per clock) with occasional
    gaps; addresses in 64 rows so reads often follow writes to the same
    row (and sometimes the same address)."""
    rows = [rng.randrange(1 << 26) * 64 & ~0x1FFF for _ in range(64)]
    out, t, recent = [], 0, []
    for _ in range(2000):
        if recent and rng.random() < 0.1:
            a = rng.choice(recent)
        else:
            a = rng.choice(rows) + 64 * rng.randrange(128)
        out.append((t, "write" if rng.random() < 0.75 else "read", a))
        recent = (recent + [a])[-16:]
        t += 1 if rng.random() < 0.97 else rng.randint(50, 3000)
    return out


def sparse(rng):
    """800 requests with exponential gaps (mean 2,500 clocks, some over
    tREFI): refresh while idle, pulled-in refreshes, half writes."""
    out, t = [], 0
    for _ in range(800):
        out.append((t, "write" if rng.random() < 0.5 else "read", addr_stream(rng, rng.choice(("rows", "rand")), 0, 0)))
        t += 1 + int(rng.expovariate(1 / 2500.0))
    return out


def dense_mixed(rng):
    """2,500 requests, one per clock, half writes, random addresses:
    saturating, with read/write turnarounds everywhere."""
    return [(t, "write" if rng.random() < 0.5 else "read", rng.randrange(1 << 26) * 64) for t in range(2500)]


TRACES = {
    "gen-burst-rw": (burst_rw, 101),
    "gen-write-heavy": (write_heavy, 102),
    "gen-sparse": (sparse, 103),
    "gen-dense-mixed": (dense_mixed, 104),
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gentraces.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name, (gen, seed) in TRACES.items():
        reqs = gen(random.Random(seed))
        for suffix, mask in (("", (1 << 32) - 1), ("-lp", (1 << 30) - 1)):
            with open(os.path.join(outdir, name + suffix + ".stl"), "w") as f:
                f.write("# %s (seed %d), written by gentraces.py\n" % (name, seed))
                for t, cmd, a in reqs:
                    f.write("%d:\t%s\t0x%x\n" % (t, cmd, a & mask))


if __name__ == "__main__":
    main()
