// Package dram owns the embedded memory-controller simulator of commgraph:
// the STL trace reader, the memspec and address-mapping loaders, a
// clock-exact, event-driven model of the DRAMSys 4.0 controller (page
// policies, schedulers, scheduler buffers, arbiters, response queues,
// all-bank refresh, the timing checker of the device's standard and
// "Oldest" command selection), a DRAMPower-style energy model, and the
// validation of the model against reference runs of DRAMSys.
//
// Devices are data: the memspec's memoryType selects DDR3, DDR4 (bank
// groups with the long and short tCCD, tRRD and tWTR; DRAMPower's DDR4
// energy) or LPDDR4 (its command set with multi-cycle commands; time only,
// as the reference's DRAMPower has no LPDDR4 model). The DDR3-1600,
// DDR4-2400, DDR4-1866 and LPDDR4-3200 memspecs of the reference data and
// their address mappings are embedded (LoadMemSpec, LoadAddressMapping and
// LoadSystem find them by name).
//
// The 10 controller knobs (Knobs) are the agents of the DRAM design-space
// exploration problem; a Config picks one value index per knob (ParseConfig
// reads "Knob=Value" pairs). LoadTrace resolves a trace by file path, by
// name in given directories, or among the embedded DSE traces (stream,
// random, cloud-1, cloud-2). A Simulator holds all mutable state of a run
// and reuses it, so the steady state allocates nothing; use one Simulator
// per goroutine. Validate replays a reference CSV in parallel and reports
// per-trace error statistics (the `commgraph dram validate` command).
//
// The model advances straight to the next cycle at which anything can
// change (a command becoming legal, an arrival, a response, a refresh
// deadline) and evaluates the controller in the order the reference's
// SystemC processes run within a cycle, so it reproduces the reference
// cycle for cycle: all 1,824 DDR3 and 404 DDR4 reference runs in
// ../shared/data/dramsys are matched exactly in time and energy
// (TestFidelity, TestFidelityDevices), and 241 of the 244 LPDDR4 runs
// exactly in time (the others within 0.33%). Memspecs describing
// impossible devices are refused by field when loaded, and a watchdog ends
// any run in which waiting requests stop being served with an error.
//
// The behaviour reproduced is described in ../shared/spec/dram.md; the
// reference is DRAMSys (tukl-msd/DRAMSys, commit 460604a) with DRAMPower
// (tukl-msd/DRAMPower, commit 1ddc48a). Their sources were read to settle
// details; no code was copied.
package dram
