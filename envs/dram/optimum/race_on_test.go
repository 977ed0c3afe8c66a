//go:build race

package optimum

// raceEnabled shrinks the simulation-heavy checks under the race detector
// (about 10x slower), which is there to find races, not to re-prove optima.
const raceEnabled = true
