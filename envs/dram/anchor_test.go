package dram

import (
	"math"
	"testing"
)

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

// TestDeviceAnchors pins a few DRAMSys reference runs of the embedded DDR4
// and LPDDR4 devices (ddr4_2400_samples.csv and lpddr4_3200_samples.csv,
// line numbers given), so that the device models are checked without the
// shared data: time to the picosecond, energy to the printed 0.01 pJ
// (LPDDR4: time only).
func TestDeviceAnchors(t *testing.T) {
	ddr4, lp := mustEmbeddedMemSpec(ddr4MemSpecFile), mustEmbeddedMemSpec(lpddr4MemSpecFile)
	for _, c := range []struct {
		line   string
		spec   *MemSpec
		trace  string
		cfg    []string
		timeNS float64
		energy float64
	}{
		{"ddr4:305", ddr4, "stream", nil, 52474.002, 68006885.5},
		{"ddr4:204", ddr4, "random", nil, 321877.031, 299145128.0},
		{"ddr4:105", ddr4, "cloud-2", []string{"PagePolicy=OpenAdaptive", "Scheduler=FrFcfs", "SchedulerBuffer=ReadWrite",
			"RequestBufferSize=8", "RespQueue=Reorder", "RefreshPolicy=AllBank", "RefreshMaxPulledin=2", "MaxActiveTransactions=2"}, 97253.583, 147853134.0},
		{"ddr4:110", ddr4, "cloud-2", []string{"PagePolicy=Closed", "Scheduler=FrFcfsGrp", "RequestBufferSize=2", "RespQueue=Reorder",
			"RefreshPolicy=AllBank", "RefreshMaxPostponed=4", "Arbiter=Fifo", "MaxActiveTransactions=128"}, 325144.89, 303521436.5},
		{"lpddr4:185", lp, "stream", nil, 62131.25, 0},
		{"lpddr4:124", lp, "random", nil, 405695.625, 0},
		{"lpddr4:126", lp, "random", []string{"Scheduler=FrFcfs", "RequestBufferSize=128", "RefreshPolicy=AllBank", "RefreshMaxPostponed=8",
			"RefreshMaxPulledin=8", "Arbiter=Reorder", "MaxActiveTransactions=64"}, 110999.375, 0},
		{"lpddr4:186", lp, "stream", []string{"PagePolicy=Closed", "Scheduler=FrFcfsGrp", "SchedulerBuffer=ReadWrite", "RequestBufferSize=8",
			"RespQueue=Reorder", "RefreshPolicy=AllBank", "RefreshMaxPostponed=8", "MaxActiveTransactions=4"}, 653178.125, 0},
	} {
		cfg, err := ParseConfig(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := LoadTrace(c.trace)
		if err != nil {
			t.Fatal(err)
		}
		res, err := NewSimulator(c.spec, nil).Run(tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.TimeNS-c.timeNS) > 1e-6 || math.Abs(res.EnergyPJ-c.energy) > 0.005 {
			t.Errorf("%s: got %v ns %v pJ, want %v ns %v pJ", c.line, res.TimeNS, res.EnergyPJ, c.timeNS, c.energy)
		}
	}
}
