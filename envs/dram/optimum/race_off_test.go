//go:build !race

package optimum

const raceEnabled = false
