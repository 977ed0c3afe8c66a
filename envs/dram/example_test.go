package dram_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/dram"
)

// Simulate the embedded stream trace with every knob at its first value
// (the ArchGym starting point) and with a larger request buffer.
func Example() {
	tr, err := dram.LoadTrace("stream")
	if err != nil {
		panic(err)
	}
	sim := dram.NewSimulator(nil, nil) // embedded DDR3-1600 memspec and mapping
	for _, set := range [][]string{nil, {"RequestBufferSize=8"}} {
		cfg, err := dram.ParseConfig(set)
		if err != nil {
			panic(err)
		}
		res, err := sim.Run(tr, cfg)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %.0f ns, %.0f pJ, %.1f mW, %d ACT\n", cfg, res.TimeNS, res.EnergyPJ, res.PowerMW, res.NAct)
	}
	// Output:
	// Open/Fifo/Bankwise/1/Fifo/NoRefresh/1/1/Simple/1: 51595 ns, 85957050 pJ, 1666.0 mW, 79 ACT
	// Open/Fifo/Bankwise/8/Fifo/NoRefresh/1/1/Simple/1: 50025 ns, 85109250 pJ, 1701.3 mW, 79 ACT
}
