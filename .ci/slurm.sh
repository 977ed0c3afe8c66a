#!/usr/bin/env bash
# Submits the Slurm job array that `commgraph sweep --emit slurm` writes to a
# real single-node Slurm (Debian's slurm-wlm: munged, slurmctld and slurmd
# on this machine, configured here in a temporary directory) and checks
# that every array task finished its trial: exit code 0 in its Slurm log, a
# DONE marker and a summary.json with a best design per trial, and a
# report over the sweep. The sweep is .ci/slurm/sweep.toml (three trials of
# a few seconds each). The binary is installed with `go install`, as the
# README says, into a temporary GOBIN on the PATH the job inherits.
#
# Needs root (the daemons run as root) and apt-get when slurm-wlm is not
# installed. Every wait is bounded; on failure the daemons' logs are
# printed. Daemons started here are stopped by their pids on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

start=$SECONDS
phase() { echo "slurm CI [$((SECONDS - start)) s]: $*"; }
fail() {
	echo "slurm CI: $*" >&2
	exit 1
}

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
	[ "$(id -u)" = 0 ] || fail "slurm-wlm and munge are not installed and this is not root"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null ||
		fail "apt-get install slurm-wlm munge failed"
fi
[ "$(id -u)" = 0 ] || fail "the test daemons run as root; run as root (CI containers do)"

work="$(mktemp -d /tmp/commgraph-slurm.XXXXXX)"
pids=()
cleanup() {
	status=$?
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	# Let them finish writing their state before it is removed.
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do
			st="$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)"
			if [ -z "$st" ] || [ "$st" = Z ]; then break; fi
			sleep 0.2
		done
	done
	if [ "$status" != 0 ]; then
		for f in "$work"/log/*.log "$work"/runs/ci_slurm/slurm/*.out; do
			[ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
		done
	fi
	rm -rf "$work" || echo "slurm CI: could not remove $work" >&2
	exit "$status"
}
trap cleanup EXIT
mkdir -p "$work"/{bin,log,state,spool,munge,runs}

phase "installing commgraph"
# The binary, as the README installs it.
GOBIN="$work/bin" go install ./cmd/commgraph
export PATH="$work/bin:$PATH"

# munge: a private key and socket, so no system munged is needed or touched.
key="$work/munge/munge.key"
dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
chmod 600 "$key"
sock="$work/munge/munge.socket"
munged --force --key-file="$key" --socket="$sock" --pid-file="$work/munge/munged.pid" \
	--log-file="$work/log/munged.log" --seed-file="$work/munge/seed" ||
	fail "munged did not start"
pids+=("$(cat "$work/munge/munged.pid")")

phase "starting slurmctld and slurmd"
host="$(hostname -s)"
cpus="$(nproc)"
mem_mb="$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)"
conf="$work/slurm.conf"
cat >"$conf" <<EOF
ClusterName=commgraph-ci
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=60
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=00:10:00 State=UP
EOF
export SLURM_CONF="$conf"

slurmctld -f "$conf" -i || fail "slurmctld did not start (log: $work/log/slurmctld.log)"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.2; done
[ -s "$work/slurmctld.pid" ] || fail "slurmctld wrote no pid file in 10 s"
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$conf" || fail "slurmd did not start (log: $work/log/slurmd.log)"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.2; done
[ -s "$work/slurmd.pid" ] || fail "slurmd wrote no pid file in 10 s"
pids+=("$(cat "$work/slurmd.pid")")

# Wait for the node to be usable.
state=""
for _ in $(seq 60); do
	state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
	case "$state" in idle | mix | alloc) break ;; esac
	sleep 0.5
done
case "$state" in idle | mix | alloc) ;; *) fail "node $host not idle after 30 s (state '$state'; sinfo: $(sinfo 2>&1 | tr '\n' ' '))" ;; esac

phase "node $host is $state; submitting the array"
# Emit the array exactly as a user would, into the temporary output root,
# and submit it; --wait returns when every task has ended.
script="$work/ci_slurm.sbatch"
commgraph sweep .ci/slurm/sweep.toml --set "out_dir=$work/runs" --emit slurm --out "$script" >/dev/null ||
	fail "commgraph sweep --emit slurm failed"
grep -q -- '--array=0-2' "$script" || fail "emitted script has no --array=0-2: $(cat "$script")"
jid="$(timeout 300 sbatch --wait --parsable "$script")" ||
	fail "the job array ${jid:-} failed or did not end within 300 s"

phase "array ended; checking the trials"
# Every trial: its task's log, its DONE marker, a best design.
trials=(objective-latency objective-energy objective-p99_read_latency)
for t in "${trials[@]}"; do
	d="$work/runs/ci_slurm/$t/seed-1"
	[ -f "$d/DONE" ] || fail "trial $t: no DONE in $d"
	grep -q '"best_design"' "$d/summary.json" || fail "trial $t: summary.json has no best design"
done
grep -q '"best_read_latency_p99_ns"' "$work/runs/ci_slurm/objective-p99_read_latency/seed-1/summary.json" ||
	fail "trial objective-p99_read_latency: summary.json lacks read_latency_p99_ns"
logs="$work/runs/ci_slurm/slurm"
nlogs="$(ls "$logs/${jid}"_*.out 2>/dev/null | wc -l)"
[ "$nlogs" = 3 ] || fail "$nlogs Slurm task logs of job $jid, want 3"
[ "$(grep -l '1 ran, 0 already done, 0 failed' "$logs/${jid}"_*.out | wc -l)" = 3 ] ||
	fail "not every task of job $jid ran its trial"
commgraph report "$work/runs/ci_slurm" --format csv --out "$work/report" >/dev/null 2>&1 ||
	fail "commgraph report over the Slurm sweep failed"
phase "re-submitting"
# Re-submitting skips the finished trials (the documented resume path).
jid2="$(timeout 120 sbatch --wait --parsable "$script")" || fail "the re-submitted array failed"
[ "$(grep -l '0 ran, 1 already done, 0 failed' "$logs/${jid2}"_*.out | wc -l)" = 3 ] ||
	fail "the re-submitted array $jid2 did not skip every finished trial"
phase "3 of 3 array tasks finished their trials on $host ($(sinfo -V)); a re-submission skipped them"
