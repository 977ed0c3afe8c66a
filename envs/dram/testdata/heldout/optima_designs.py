#!/usr/bin/env python3
"""Write one CSV per device with every distinct design of the shipped
exhaustive optima (envs/dram/optimum/*.json), as input for
`runref.py --reproduce` (its metric columns hold the model's values).

usage: optima_designs.py OPTIMUM_DIR OUT_PREFIX   (writes OUT_PREFIX<device>.csv)
"""
import csv
import glob
import json
import os
import sys

KNOBS = ["PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue",
         "RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"]
DEVICES = {"": "ddr3-1600", "MICRON_4Gb_DDR4-2400_8bit_A": "ddr4-2400", "JEDEC_8Gb_LPDDR4-3200_16bit": "lpddr4-3200"}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: optima_designs.py OPTIMUM_DIR OUT_PREFIX")
    rows = {d: [] for d in DEVICES.values()}
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        trace, _, dev = os.path.basename(f)[:-5].partition("@")
        seen = set()
        for o in json.load(open(f))["objectives"]:
            key = tuple(o["config"][k] for k in KNOBS)
            if key not in seen:
                seen.add(key)
                m = o["metrics"]
                rows[DEVICES[dev]].append([trace + ".stl"] + list(key) + [m.get("energy_pJ", ""), "", m["time_ns"]])
    for dev, rs in rows.items():
        with open(sys.argv[2] + dev + ".csv", "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["trace"] + KNOBS + ["energy_pJ", "power_mW", "time_ns"])
            w.writerows(rs)
        print(dev, len(rs))


if __name__ == "__main__":
    main()
