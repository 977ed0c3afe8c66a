#!/bin/bash
# Runs four short configurations with two commgraph binaries and compares every metric
# value but the throughput and timing columns, to check that a speed-only change leaves
# the results bit for bit unchanged (session 21). Run from the repository root:
#   docs/tools/same_results.sh OLD_BINARY NEW_BINARY OUT_DIR
# Prints, per configuration, the rows, the values compared and the differing ones.
set -u
if [ $# -ne 3 ] || [ -z "$3" ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "usage: $0 OLD_BINARY NEW_BINARY OUT_DIR (OUT_DIR is replaced)" >&2
  exit 2
fi
A=$1; B=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
run() { # name config sets...
  local name=$1 cfg=$2; shift 2
  for bin in A B; do
    local exe=$A; [ $bin = B ] && exe=$B
    $exe run $cfg --quiet --out $OUT/$bin/$name "$@" > $OUT/$bin.$name.log 2>&1 || echo "FAIL $bin $name"
  done
  local fa=$(find $OUT/A/$name -name metrics.jsonl | sort) fb=$(find $OUT/B/$name -name metrics.jsonl | sort)
  python3 - "$fa" "$fb" "$name" <<'PY'
import json,sys
fa,fb,name=sys.argv[1].split(),sys.argv[2].split(),sys.argv[3]
def load(fs):
    rows=[]
    for f in fs:
        for l in open(f):
            d=json.loads(l)
            rows.append({k:v for k,v in d.items() if not any(s in k for s in ('time','wall','sec','_s','per_s','rate','elapsed'))})
    return rows
a,b=load(fa),load(fb)
diff=[(i,k) for i,(x,y) in enumerate(zip(a,b)) for k in x if x.get(k)!=y.get(k)]
print(f"{name}: rows {len(a)} / {len(b)}, values {sum(len(x) for x in a)}, differing {len(diff)}", diff[:5])
PY
  for f in $(cd $OUT/A/$name && find . -name '*.dot' -o -name '*.json' -path '*graph*' | sort); do cmp -s $OUT/A/$name/$f $OUT/B/$name/$f || echo "  graph file differs: $f"; done
}
run capture_gate configs/predprey_capture.toml --set budget.iterations=6 --set algorithm.commformer.warmup=2 --set algorithm.commformer.gating=true --set algorithm.commformer.gate_estimator=score --set algorithm.commformer.gate_entropy=0.01 --set algorithm.commformer.gate_start=2 --set algorithm.commformer.gate_cost=0.1 --set algorithm.commformer.alpha_lr=1e-2 --set algorithm.commformer.alpha_every=1
run dram_latency configs/dram_latency.toml --set budget.iterations=8
run planted10 configs/recover_planted10.toml --set budget.iterations=8 --set algorithm.commformer.warmup=3 --set algorithm.commformer.influence_every=1
run ch4 configs/dram_channels4_latency.toml --set budget.iterations=8
