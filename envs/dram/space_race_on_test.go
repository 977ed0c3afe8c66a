//go:build race

package dram

// spaceRaceEnabled shrinks the simulation-heavy Space checks under the race
// detector.
const spaceRaceEnabled = true
