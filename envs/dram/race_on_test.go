//go:build race

package dram

// raceEnabled: the race detector slows the simulator ~20x, so the long
// tests sample their work.
const raceEnabled = true
