// Package optimum owns the exhaustive optima of the DRAM design space: for
// each DSE trace (stream, random, cloud-1, cloud-2) and each objective, the
// best of all 442,368 controller configurations as found by a full sweep
// (envs/exhaustive), shipped as small JSON files (embedded in the binary) so
// that any method's result can be scored by its regret at run time.
//
// The files in this directory are generated, never edited; each records the
// command that produced it:
//
//	commgraph dram sweep --trace NAME --out runs/sweep/dram-NAME.sweep --best-json envs/dram/optimum/NAME.json
package optimum
