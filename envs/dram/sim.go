package dram

import (
	"errors"
	"fmt"
)

// Result is the outcome of one simulation, in the units the reference prints.
type Result struct {
	TimeNS        float64 // makespan: the last response reaches the trace player
	EnergyPJ      float64 // total DRAM energy over the DIMM
	PowerMW       float64 // average power over the energy window
	BandwidthGbps float64 // bytes moved / makespan, in Gbit/s
	NAct, NPre    int64   // activates; precharges (PREA counts once per open bank; RDA/WRA count one)
	NRd, NWr      int64   // column reads and writes (RDA/WRA included)
	NRef          int64   // all-bank refreshes
	Requests      int     // requests simulated
	Cycles        int64   // makespan in memory clock cycles
}

// Simulator runs traces on one memory system. It owns all mutable state
// and reuses it between runs: one Simulator per goroutine.
type Simulator struct {
	spec *MemSpec
	am   *AddressMapping
	// PlayerClockMHz is the trace player clock (default 800 MHz).
	PlayerClockMHz float64
}

// NewSimulator returns a simulator for the given memspec and address
// mapping; nil selects the embedded DDR3-1600 defaults.
func NewSimulator(spec *MemSpec, am *AddressMapping) *Simulator {
	if spec == nil {
		spec = DefaultMemSpec()
	}
	if am == nil {
		am = DefaultAddressMapping()
	}
	return &Simulator{spec: spec, am: am, PlayerClockMHz: 800}
}

// MemSpec returns the simulator's memspec.
func (s *Simulator) MemSpec() *MemSpec { return s.spec }

// Run simulates trace t under configuration cfg.
func (s *Simulator) Run(t *Trace, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if t == nil || len(t.Requests) == 0 {
		return Result{}, errors.New("empty trace")
	}
	return Result{}, fmt.Errorf("dram: simulator not implemented yet")
}
