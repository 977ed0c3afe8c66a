package dram

import "testing"

func TestAnchors(t *testing.T) {
	sim := NewSimulator(nil, nil)
	for _, c := range []struct {
		trace  string
		timeNS float64
		energy float64
	}{
		{"stream", 51595, 85957050},
		{"random", 287980, 354964950},
	} {
		tr, err := LoadTrace(c.trace)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(tr, defaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", c.trace, res)
		if res.TimeNS != c.timeNS || res.EnergyPJ != c.energy {
			t.Errorf("%s: got %v ns %v pJ, want %v ns %v pJ", c.trace, res.TimeNS, res.EnergyPJ, c.timeNS, c.energy)
		}
	}
}
