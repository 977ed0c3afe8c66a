#!/bin/bash
# Side by side in CPU time, as in docs/results.md (issue 13, rounds 6-7): our
# BenchmarkSimulate (DDR3-1600; base and fast designs on the stream, random,
# cloud-1 and cloud-2 traces) for two builds against the DRAMSys 4.0 reference
# binary on the same eight cases, N cycles alternating.
#
# Ours: each build's test binary, GOMAXPROCS=1 ./x.test -test.run '^$'
#   -test.bench 'BenchmarkSimulate$' -test.benchtime $BENCHTIME -test.cpu 1;
#   the figure is the benchmark's cpu-ns/op (process CPU time per evaluation).
# DRAMSys: the binary driven as envs/dram/testdata/heldout/runref.py drives it
#   (its setup(); the same simulation and mcconfig files as run_one, DDR3-1600,
#   trace player at 800 MHz, CmdMux Oldest, NoPowerDown, PowerAnalysis on); the
#   figure is the child process's user + system CPU time per evaluation.
# A cycle is DRAMSys (all 8 cases), build A, DRAMSys, build B, with A and B
# swapping every cycle (odd cycles OLD first, even cycles NEW first).
# "paired" compares each of our runs of a case with the DRAMSys run of that
# case just before it.
#
# usage: docs/bench/sidebyside_dram.sh [N]   (N cycles, default 100)
# environment (defaults in brackets):
#   OLD [main], NEW [sim]        git revisions of the two builds (test binaries
#                                are built from `git archive` exports; the
#                                working trees are not touched)
#   DRAMSYS [/work/ref/build/simulator/DRAMSys]
#   DRAMSYS_SRC [/work/ref/DRAMSys]  (for the thermalsim configs runref needs)
#   NICE [0]                     nice level of every measured process (the
#                                builds always run at nice 19)
#   BENCHTIME [50x]              -test.benchtime of our benchmark runs
#   OUT [tmp/sbs-<date>]         directory for binaries, DRAMSys resources and
#                                the raw results (raw.csv) and table (table.md)
set -euo pipefail

N=${1:-100}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OLD=${OLD:-main}
NEW=${NEW:-sim}
DRAMSYS=${DRAMSYS:-/work/ref/build/simulator/DRAMSys}
DRAMSYS_SRC=${DRAMSYS_SRC:-/work/ref/DRAMSys}
NICE=${NICE:-0}
BENCHTIME=${BENCHTIME:-50x}
OUT=${OUT:-$REPO/tmp/sbs-$(date +%Y%m%d-%H%M%S)}

[ -x "$DRAMSYS" ] || { echo "no DRAMSys binary at $DRAMSYS" >&2; exit 1; }
THERMAL=$DRAMSYS_SRC/DRAMSys/library/resources/configs/thermalsim
[ -d "$THERMAL" ] || { echo "no thermalsim configs at $THERMAL" >&2; exit 1; }
mkdir -p "$OUT"

# Build the two test binaries (not measured: nice 19).
for which in old new; do
	if [ $which = old ]; then rev=$OLD; else rev=$NEW; fi
	commit=$(git -C "$REPO" rev-parse --verify "$rev^{commit}")
	src=$OUT/src-$which
	rm -rf "$src" && mkdir -p "$src"
	git -C "$REPO" archive "$commit" | tar -x -C "$src"
	(cd "$src/envs/dram" && nice -n 19 go test -c -o "$OUT/$which.test" .)
	echo "$which = $rev ($commit)"
	echo "$which $rev $commit" >>"$OUT/builds.txt"
done

export SBS_N=$N SBS_OUT=$OUT SBS_DRAMSYS=$DRAMSYS SBS_THERMAL=$THERMAL SBS_NICE=$NICE \
	SBS_BENCHTIME=$BENCHTIME SBS_HELDOUT=$REPO/envs/dram/testdata/heldout \
	SBS_DATA=$REPO/envs/dram/data
exec python3 - <<'PY'
import csv, json, os, re, resource, statistics, subprocess, sys, time

N = int(os.environ["SBS_N"])
out = os.environ["SBS_OUT"]
dramsys = os.environ["SBS_DRAMSYS"]
nice = os.environ["SBS_NICE"]
benchtime = os.environ["SBS_BENCHTIME"]
sys.path.insert(0, os.environ["SBS_HELDOUT"])
import runref  # setup(), DEVICES, KNOBS: the reference's fixed settings

DEVICE = "ddr3-1600"
TRACES = ["stream", "random", "cloud-1", "cloud-2"]
# defaultConfig and fastConfig (envs/dram/config.go), in runref's knob order
DESIGNS = {
    "base": ["Open", "Fifo", "Bankwise", 1, "Fifo", "NoRefresh", 1, 1, "Simple", 1],
    "fast": ["Open", "FrFcfs", "Bankwise", 128, "Fifo", "AllBank", 1, 1, "Simple", 128],
}
CASES = ["%s/%s" % (t, d) for t in TRACES for d in ("base", "fast")]

res = os.path.join(out, "dramsys-res")
runref.setup(res, os.environ["SBS_DATA"], os.environ["SBS_THERMAL"], DEVICE)
simfiles = {}
for t in TRACES:
    src = os.path.join(os.environ["SBS_DATA"], t + ".stl")  # the embedded copies of the DSE traces
    with open(src, "rb") as fi, open(os.path.join(res, "traces", t + ".stl"), "wb") as fo:
        fo.write(fi.read())
for case in CASES:
    t, d = case.split("/")
    design = {k: v for (k, _), v in zip(runref.KNOBS, DESIGNS[d])}
    simfiles[case] = runref.write_sim(res, DEVICE, "sbs-%s-%s" % (t, d), t + ".stl", design)


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_dramsys(case):
    """One DRAMSys evaluation: its CPU time in ms (user + system of the child)."""
    c0 = child_cpu()
    p = subprocess.run(["nice", "-n", nice, dramsys, simfiles[case], res + "/"], capture_output=True, text=True)
    c1 = child_cpu()
    if p.returncode != 0 or not re.search(r"^\d+(?:\.\d+)? (fs|ps|ns|us|ms|s) \S+ terminated", p.stdout, re.M):
        sys.exit("DRAMSys failed on %s: exit %d\n%s\n%s" % (case, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return (c1 - c0) * 1e3


BENCH = re.compile(r"^BenchmarkSimulate/(\S+?)(?:-\d+)?\s+\d+\s+.*?([0-9.]+) cpu-ns/op", re.M)


def run_ours(which):
    """One run of build `which`'s benchmark: CPU ms per evaluation by case."""
    env = dict(os.environ, GOMAXPROCS="1")
    p = subprocess.run(["nice", "-n", nice, os.path.join(out, which + ".test"), "-test.run", "^$",
                        "-test.bench", "BenchmarkSimulate$", "-test.benchtime", benchtime, "-test.cpu", "1"],
                       capture_output=True, text=True, env=env, cwd=os.path.join(out, "src-" + which, "envs", "dram"))
    got = {m.group(1): float(m.group(2)) / 1e6 for m in BENCH.finditer(p.stdout)}
    if p.returncode != 0 or set(got) != set(CASES):
        sys.exit("benchmark of %s failed: exit %d\n%s\n%s" % (which, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return got


rows = []  # (cycle, seq, who, case, ms, paired DRAMSys ms)
t0 = time.time()
print("load average at start: %s" % open("/proc/loadavg").read().split()[:3], flush=True)
with open(os.path.join(out, "raw.csv"), "w", newline="") as fraw:
    w = csv.writer(fraw, lineterminator="\n")
    w.writerow(["cycle", "seq", "who", "case", "cpu_ms", "dramsys_before_ms"])
    seq = 0
    for cyc in range(1, N + 1):
        order = ["old", "new"] if cyc % 2 == 1 else ["new", "old"]
        for which in order:
            ref = {}
            for case in CASES:
                ms = run_dramsys(case)
                ref[case] = ms
                seq += 1
                w.writerow([cyc, seq, "dramsys", case, "%.4f" % ms, ""])
                rows.append((cyc, seq, "dramsys", case, ms, None))
            got = run_ours(which)
            seq += 1
            for case in CASES:
                w.writerow([cyc, seq, which, case, "%.5f" % got[case], "%.4f" % ref[case]])
                rows.append((cyc, seq, which, case, got[case], ref[case]))
        fraw.flush()
        print("cycle %d/%d done (%.0f s)" % (cyc, N, time.time() - t0), flush=True)
print("load average at end: %s" % open("/proc/loadavg").read().split()[:3], flush=True)


def p10(xs):
    xs = sorted(xs)
    return xs[max(0, -(-len(xs) // 10) - 1)]  # nearest rank


lines = []
lines.append("%d cycles, nice %s, benchtime %s; builds: %s" % (
    N, nice, benchtime, "; ".join(l.strip() for l in open(os.path.join(out, "builds.txt")))))
lines.append("")
lines.append("| case | ours old, ms (median; p10) | ours new, ms (median; p10) | DRAMSys, ms (median; p10) "
             "| old x DRAMSys, medians | new x DRAMSys, medians | new x DRAMSys, p10 "
             "| new paired: median; p10; runs >= 100x | old/new, medians | 100x (new) |")
lines.append("|---|---|---|---|---|---|---|---|---|---|")
for case in CASES:
    d = [r[4] for r in rows if r[2] == "dramsys" and r[3] == case]
    o = [r[4] for r in rows if r[2] == "old" and r[3] == case]
    n = [r[4] for r in rows if r[2] == "new" and r[3] == case]
    pn = [r[5] / r[4] for r in rows if r[2] == "new" and r[3] == case]
    md, mo, mn = statistics.median(d), statistics.median(o), statistics.median(n)
    xn = md / mn
    lines.append("| %s | %.3f; %.3f | %.3f; %.3f | %.1f; %.1f | %.0fx | %.0fx | %.0fx | %.0fx; %.0fx; %d/%d | %.3fx | %s |" % (
        case, mo, p10(o), mn, p10(n), md, p10(d), md / mo, xn, p10(d) / p10(n),
        statistics.median(pn), p10(pn), sum(x >= 100 for x in pn), len(pn), mo / mn,
        "yes" if xn >= 100 else "no"))
table = "\n".join(lines)
print()
print(table)
with open(os.path.join(out, "table.md"), "w") as f:
    f.write(table + "\n")
print("\nraw results: %s/raw.csv" % out)
PY
