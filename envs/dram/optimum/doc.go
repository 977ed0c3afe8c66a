// Package optimum owns the exhaustive optima of the DRAM design space: for
// each DSE trace (stream, random, cloud-1, cloud-2) and each objective, the
// best of all 442,368 controller configurations as found by a full sweep
// (envs/exhaustive), shipped as small JSON files (embedded in the binary) so
// that any method's result can be scored by its regret at run time.
//
// Files are keyed by the design space's name without "dram/": stream.json
// is the embedded DDR3-1600 DIMM, stream@MICRON_4Gb_DDR4-2400_8bit_A.json
// the embedded DDR4-2400 DIMM and stream@JEDEC_8Gb_LPDDR4-3200_16bit.json
// the embedded LPDDR4-3200 channel (time only: latency and archgym_latency,
// TimeObjectiveNames). ForSystem finds the file of a trace on a memory
// system and refuses any system that is not exactly an embedded device
// with its default mapping.
//
// The files in this directory are generated, never edited; each records the
// command that produced it:
//
//	commgraph dram sweep --trace NAME --out runs/sweep/dram-NAME.sweep --best-json envs/dram/optimum/NAME.json
//	commgraph dram sweep --trace NAME --memspec JEDEC_4Gb_DDR4-2400_8bit_A --best-json envs/dram/optimum/NAME@MICRON_4Gb_DDR4-2400_8bit_A.json
package optimum
