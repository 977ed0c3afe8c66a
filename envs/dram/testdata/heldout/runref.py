#!/usr/bin/env python3
"""Run DRAMSys (commit 460604a, the reference of envs/dram) on held-out
designs and traces and write a reference CSV that `commgraph dram validate`
reads.

usage:
  runref.py --dramsys BIN --resources DIR --device DEV --traces T1,T2,... \\
            --designs N --seed S --out FILE.csv [--jobs 2]
  runref.py --dramsys BIN --resources DIR --device DEV --reproduce REF.csv \\
            --rows 2,3,4 --out FILE.csv

DEV is ddr3-1600, ddr4-2400, ddr4-1866 or lpddr4-3200. DIR is a scratch resource
directory; the memspecs and address mappings are copied into it from
--data (default: envs/dram/data, the embedded copies), traces from
--trace-dirs (comma-separated, first match wins; default: traces/ here).
Per trace, the first design is every knob at its first value, the others are drawn uniformly from the 10 knobs' value sets (seeded).
The fixed settings are the reference's: trace player at 800 MHz, CmdMux
Oldest, PowerDownPolicy NoPowerDown, PowerAnalysis on for DDR4 (DRAMSys
refuses it for LPDDR4: those rows are time only).
"""
import argparse
import concurrent.futures
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
from decimal import Decimal

KNOBS = [
    ("PagePolicy", ["Open", "OpenAdaptive", "Closed", "ClosedAdaptive"]),
    ("Scheduler", ["Fifo", "FrFcfsGrp", "FrFcfs"]),
    ("SchedulerBuffer", ["Bankwise", "ReadWrite", "Shared"]),
    ("RequestBufferSize", [1, 2, 4, 8, 16, 32, 64, 128]),
    ("RespQueue", ["Fifo", "Reorder"]),
    ("RefreshPolicy", ["NoRefresh", "AllBank"]),
    ("RefreshMaxPostponed", [1, 2, 4, 8]),
    ("RefreshMaxPulledin", [1, 2, 4, 8]),
    ("Arbiter", ["Simple", "Fifo", "Reorder"]),
    ("MaxActiveTransactions", [1, 2, 4, 8, 16, 32, 64, 128]),
]

DEVICES = {
    "ddr3-1600": ("MICRON_1Gb_DDR3-1600_8bit_G.json", "am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json", True),
    "ddr4-2400": ("JEDEC_4Gb_DDR4-2400_8bit_A.json", "am_ddr4_8x4Gbx8_dimm_p1KB_brc.json", True),
    "ddr4-1866": ("JEDEC_4Gb_DDR4-1866_8bit_A.json", "am_ddr4_8x4Gbx8_dimm_p1KB_brc.json", True),
    "lpddr4-3200": ("JEDEC_8Gb_LPDDR4-3200_16bit.json", "am_lpddr4_8Gbx16_brc.json", False),
}

HEADER = ["trace"] + [k for k, _ in KNOBS] + ["energy_pJ", "power_mW", "time_ns"]
UNITS = {"fs": Decimal("1e-6"), "ps": Decimal("1e-3"), "ns": Decimal(1), "us": Decimal(1000), "ms": Decimal(10**6), "s": Decimal(10**9)}


def setup(res, data, thermal_src, device):
    memspec, mapping, power = DEVICES[device]
    for d in ("memspecs", "amconfigs", "mcconfigs", "simulator", "thermalsim"):
        os.makedirs(os.path.join(res, "configs", d), exist_ok=True)
    os.makedirs(os.path.join(res, "traces"), exist_ok=True)
    os.makedirs(os.path.join(res, "sims"), exist_ok=True)
    shutil.copy(os.path.join(data, memspec), os.path.join(res, "configs", "memspecs", memspec))
    shutil.copy(os.path.join(data, mapping), os.path.join(res, "configs", "amconfigs", mapping))
    for f in os.listdir(thermal_src):  # read at start-up, unused (ThermalSimulation off)
        shutil.copy(os.path.join(thermal_src, f), os.path.join(res, "configs", "thermalsim", f))
    sim = {"simconfig": {
        "AddressOffset": 0, "CheckTLM2Protocol": False, "DatabaseRecording": False, "Debug": False,
        "ECCControllerMode": "Disabled", "EnableWindowing": False, "ErrorCSVFile": "", "ErrorChipSeed": 42,
        "PowerAnalysis": power, "SimulationName": device, "SimulationProgressBar": False,
        "StoreMode": "NoStorage", "ThermalSimulation": False, "UseMalloc": False, "WindowSize": 1000}}
    with open(os.path.join(res, "configs", "simulator", device + ".json"), "w") as f:
        json.dump(sim, f, indent=1)


def write_sim(res, device, name, trace, design):
    """Writes the mcconfig and simulation files of one run (trace player at 800 MHz,
    CmdMux Oldest, no power-down) and returns the simulation file's path."""
    memspec, mapping, _ = DEVICES[device]
    mc = dict(design)
    mc["CmdMux"] = "Oldest"
    mc["PowerDownPolicy"] = "NoPowerDown"
    with open(os.path.join(res, "configs", "mcconfigs", name + ".json"), "w") as f:
        json.dump({"mcconfig": mc}, f)
    simfile = os.path.join(res, "sims", name + ".json")
    with open(simfile, "w") as f:
        json.dump({"simulation": {
            "addressmapping": mapping, "mcconfig": name + ".json", "memspec": memspec,
            "simconfig": device + ".json", "simulationid": name, "thermalconfig": "config.json",
            "tracesetup": [{"clkMhz": 800, "name": trace}]}}, f)
    return simfile


def run_one(args, res, device, idx, trace, design):
    simfile = write_sim(res, device, "%s-%05d" % (device, idx), trace, design)
    p = subprocess.run(["nice", "-n", "10", args.dramsys, simfile, res + "/"], capture_output=True, text=True)
    out = p.stdout
    m = re.search(r"^(\d+(?:\.\d+)?) (fs|ps|ns|us|ms|s) \S+ terminated", out, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError("%s on %s %s: exit %d\n%s\n%s" % (device, trace, design, p.returncode, out[-2000:], p.stderr[-2000:]))
    t = Decimal(m.group(1)) * UNITS[m.group(2)]
    e = re.search(r"Total Energy:\s+([0-9.]+) pJ", out)
    w = re.search(r"Average Power:\s+([0-9.]+) mW", out)
    row = [trace] + [design[k] for k, _ in KNOBS]
    row += [e.group(1) if e else "", w.group(1) if w else "", format(t.normalize(), "f")]
    return row


def find_trace(dirs, name):
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    sys.exit("trace %s not found in %s" % (name, dirs))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--dramsys", required=True)
    ap.add_argument("--resources", required=True)
    ap.add_argument("--thermal", required=True, help="DRAMSys/library/resources/configs/thermalsim of the DRAMSys tree (read at start-up, unused)")
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "data"))
    ap.add_argument("--trace-dirs", default=os.path.join(here, "traces"))
    ap.add_argument("--device", required=True, choices=sorted(DEVICES))
    ap.add_argument("--traces", default="")
    ap.add_argument("--designs", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reproduce")
    ap.add_argument("--rows", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    res = os.path.abspath(args.resources)
    setup(res, args.data, args.thermal, args.device)
    dirs = args.trace_dirs.split(",")
    runs = []
    if args.reproduce:
        want = {int(x) for x in args.rows.split(",") if x}
        with open(args.reproduce) as f:
            for line, rec in enumerate(csv.DictReader(f), start=2):
                if not want or line in want:
                    d = {k: (int(rec[k]) if isinstance(vals[0], int) else rec[k]) for k, vals in KNOBS}
                    runs.append((rec["trace"], d))
    else:
        rng = random.Random(args.seed)
        for tr in args.traces.split(","):
            for i in range(args.designs):
                if i == 0:
                    d = {k: vals[0] for k, vals in KNOBS}
                else:
                    d = {k: rng.choice(vals) for k, vals in KNOBS}
                runs.append((tr, d))
    for tr in {t for t, _ in runs}:
        shutil.copy(find_trace(dirs, tr), os.path.join(res, "traces", tr))
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        rows = list(ex.map(lambda a: run_one(args, res, args.device, a[0], a[1][0], a[1][1]), enumerate(runs)))
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    print("%d runs -> %s" % (len(rows), args.out))


if __name__ == "__main__":
    main()
