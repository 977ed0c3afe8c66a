package envs

import "math"

// Knob is one named design parameter with a finite, ordered list of values.
type Knob struct {
	Name   string
	Values []string
}

// DesignSpace is a finite design space: a configuration picks one value index
// per knob, and Evaluate maps it to metrics in physical units whose names
// MetricNames lists (for the DRAM space: time_ns, energy_pJ, power_mW).
//
// Implementations must be safe for concurrent use.
type DesignSpace interface {
	Name() string
	Knobs() []Knob
	MetricNames() []string
	// Evaluate writes len(MetricNames()) values into out.
	Evaluate(cfg []int, out []float64) error
}

// Size returns the number of configurations of the space.
func Size(ds DesignSpace) int {
	n := 1
	for _, k := range ds.Knobs() {
		v := len(k.Values)
		if v > 0 && n > math.MaxInt/v {
			return math.MaxInt // saturates: more designs than an int counts
		}
		n *= v
	}
	return n
}
