// Package dram owns the embedded DDR3 memory-controller simulator of
// commgraph: the STL trace reader, the memspec and address-mapping loaders,
// a clock-exact, event-driven model of the DRAMSys 4.0 controller (page
// policies, schedulers, scheduler buffers, arbiters, response queues,
// all-bank refresh, the DDR3 timing checker and "Oldest" command selection),
// a DRAMPower-style energy model, and the validation of the model against
// reference runs of DRAMSys.
//
// The 10 controller knobs (Knobs) are the agents of the DRAM design-space
// exploration problem; a Config picks one value index per knob. A Simulator
// holds all mutable state of a run and is reused between runs so that the
// steady state allocates nothing; use one Simulator per goroutine.
//
// The behaviour reproduced is described in ../shared/spec/dram.md; the
// reference is DRAMSys (tukl-msd/DRAMSys, commit 460604a) with DRAMPower
// (tukl-msd/DRAMPower). Both were read to settle details; no code was copied.
package dram
