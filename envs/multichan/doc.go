// Package multichan owns the multi-channel memory-system design space: C
// independent DDR3 channels (1 to 8; by default four, on the stream,
// random, cloud-1 and cloud-2 traces), each a controller with the 10 knobs
// of envs/dram serving its own trace, one agent per knob (40 at C = 4,
// about 3.8e22 designs: far too many to sweep). The system's makespan is the
// slowest channel's, its energy the channels' sum, its power their ratio.
//
// It also owns the exact optimum of every objective (Solve), computed from
// per-trace summaries of the exhaustive channel sweeps (every distinct
// (makespan, energy) pair a trace's 442,368 controllers reach, shipped in
// summaries/ and embedded), the run-file table of the task (EnvConfig),
// and the ground-truth interaction graph (Truth: within-channel pairs).
// The summaries are generated, never edited:
//
//	for t in stream random cloud-1 cloud-2; do commgraph dram sweep --trace $t --out runs/sweep/dram-$t.sweep; done
//	go test ./envs/multichan -run TestGenerateSummaries -sweeps runs/sweep
package multichan
