package dram

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOtherTraces runs the traces with writes and idle gaps (not in the
// reference CSVs) under a spread of configurations: every run must finish,
// serve every request, and keep the command counts consistent.
func TestOtherTraces(t *testing.T) {
	dir := filepath.Join(sharedDir(), "data", "traces")
	names := []string{"ddr3_example.stl", "pct.stl", "chstone-adpcm_32.stl", "chstone-jpeg_32.stl", "chstone-mips_32.stl"}
	if _, err := os.Stat(filepath.Join(dir, names[0])); err != nil {
		t.Skipf("shared traces not available (set COMMGRAPH_SHARED): %v", err)
	}
	sim := NewSimulator(nil, nil)
	cfgs := []Config{defaultConfig(), fastConfig()}
	for k := range NumKnobs {
		for v := range knobs[k].Values {
			c := fastConfig()
			c[k] = v
			cfgs = append(cfgs, c)
			c = defaultConfig()
			c[KnobRefreshPolicy] = int(RefreshAllBank)
			c[k] = v
			cfgs = append(cfgs, c)
		}
	}
	for _, n := range names {
		tr, err := loadUnsortedTrace(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		w := int64(tr.NumWrites())
		for _, c := range cfgs {
			res, err := sim.Run(tr, c)
			if err != nil {
				t.Fatalf("%s %s: %v", n, c, err)
			}
			if res.NWr != w || res.NRd != int64(len(tr.Requests))-w {
				t.Fatalf("%s %s: %d RD %d WR, want %d and %d", n, c, res.NRd, res.NWr, int64(len(tr.Requests))-w, w)
			}
			if res.NPre > res.NAct || res.NAct-res.NPre > 8 {
				t.Fatalf("%s %s: %d ACT vs %d PRE", n, c, res.NAct, res.NPre)
			}
			if res.TimeNS <= 0 || res.EnergyPJ <= 0 {
				t.Fatalf("%s %s: %+v", n, c, res)
			}
		}
		res, _ := sim.Run(tr, defaultConfig())
		t.Logf("%s: %d requests (%d writes): base %.0f ns %.0f pJ %.1f mW", n, len(tr.Requests), w, res.TimeNS, res.EnergyPJ, res.PowerMW)
	}
}

// TestResponsesAhead: computing Simple-arbiter responses at their column
// command gives exactly the event-by-event result.
func TestResponsesAhead(t *testing.T) {
	var traces []*Trace
	for _, n := range []string{"cloud-1", "random"} {
		tr, err := LoadTrace(n)
		if err != nil {
			t.Fatal(err)
		}
		tr.Requests = tr.Requests[:3000]
		if raceEnabled {
			tr.Requests = tr.Requests[:300]
		}
		traces = append(traces, tr)
	}
	if tr, err := loadUnsortedTrace(filepath.Join(sharedDir(), "data", "traces", "ddr3_example.stl")); err == nil {
		traces = append(traces, tr)
	}
	ahead, events := NewSimulator(nil, nil), NewSimulator(nil, nil)
	events.eventResponses = true
	for _, tr := range traces {
		for page := range 4 {
			for sched := range 3 {
				for _, size := range []int{0, 3, 7} {
					for resp := range 2 {
						for ref := range 2 {
							c := Config{page, sched, (page + sched) % 3, size, resp, ref, 1, 2, int(ArbSimple), 0}
							a, err := ahead.Run(tr, c)
							if err != nil {
								t.Fatal(err)
							}
							e, err := events.Run(tr, c)
							if err != nil {
								t.Fatal(err)
							}
							if a != e {
								t.Fatalf("%s %s: ahead %+v, events %+v", tr.Name, c, a, e)
							}
						}
					}
				}
			}
		}
	}
}

// loadUnsortedTrace reads an .stl file whose timestamps may decrease, as
// DRAMSys's ddr3_example.stl does (LoadTrace refuses it).
func loadUnsortedTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := readTrace(f, path, false, false)
	if err != nil {
		return nil, err
	}
	t.Name = strings.TrimSuffix(filepath.Base(path), ".stl")
	return t, nil
}
