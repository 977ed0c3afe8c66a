package main

import (
	"flag"
	"math"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/experiments"
)

// maxMemoryFlag defines --max-memory (GiB) on fs: the memory a command may
// plan to use; work estimated above it is refused before it starts.
func maxMemoryFlag(fs *flag.FlagSet) *float64 {
	return fs.Float64("max-memory", float64(experiments.DefaultMaxMemory)/(1<<30), "memory limit in GiB: work estimated to need more is refused before it starts")
}

// memoryLimit converts a --max-memory value to bytes.
func memoryLimit(gib float64) (int64, error) {
	if !(gib > 0) || math.IsInf(gib, 0) || gib > 1<<32 {
		return 0, usageErrorf("--max-memory %v: want a positive number of GiB", gib)
	}
	return int64(gib * (1 << 30)), nil
}

// pngMemory estimates the bytes of rendering a width x height PNG: the RGBA
// canvas (4 bytes a pixel) about three times over (the canvas, the
// rasteriser's buffers and the encoder's copy).
func pngMemory(width, height int) float64 {
	return float64(width) * float64(height) * 4 * 3
}

// gifMemory estimates the bytes an animated GIF of frames snapshots needs:
// every frame is held (one palette index per pixel) until the GIF is
// encoded, plus the PNG each frame is rendered from.
func gifMemory(width, height, frames int) float64 {
	return pngMemory(width, height) + float64(frames)*float64(width)*float64(height)
}

// checkTraceFile refuses a trace file (flag --trace) whose loading and
// simulation on sims simulators would exceed limit, before reading it
// (dram.TraceFileMemory; embedded traces pass).
func checkTraceFile(name string, sims int, limit int64, dirs ...string) error {
	path, est := dram.TraceFileMemory(name, sims, dirs...)
	if path == "" || est <= float64(limit) {
		return nil
	}
	return usageErrorf("--trace %s: loading and simulating it on %d simulators would need about %s of memory, above the limit of %s: use a shorter trace, or raise the limit with --max-memory GiB",
		path, sims, experiments.GiB(est), experiments.GiB(float64(limit)))
}
