package dram

import (
	"math/rand"
	"path/filepath"
	"slices"
	"testing"
)

// gappyTrace is a deterministic trace with reads and writes, runs of
// sequential addresses, random jumps and idle gaps long enough to leave
// the controller without work.
func gappyTrace(seed int64, n int) *Trace {
	rng := rand.New(rand.NewSource(seed))
	t := &Trace{Name: "gappy"}
	var cyc, addr uint64
	for range n {
		switch k := rng.Intn(40); {
		case k == 0:
			cyc += uint64(2000 + rng.Intn(20000)) // idle
		case k < 20:
			cyc += uint64(rng.Intn(3))
		default:
			cyc += uint64(rng.Intn(30))
		}
		if rng.Intn(3) == 0 {
			addr = rng.Uint64() & (1<<26 - 1)
		} else {
			addr += 64
		}
		t.Requests = append(t.Requests, Request{Cycle: cyc, Addr: addr &^ 63, Write: rng.Intn(4) == 0})
	}
	return t
}

// TestLeanMatchesFullSteps runs every device with and without the lean
// path (sim.go), which simulates the cycles with nothing but controller
// commands and request arrivals without full steps: makespan, energy,
// command counts and every request's completion time must agree, on
// random configurations and on traces with writes and idle gaps.
func TestLeanMatchesFullSteps(t *testing.T) {
	n, nCfg := 1500, 40
	if raceEnabled {
		n, nCfg = 200, 6
	}
	var traces []*Trace
	for _, name := range []string{"cloud-1", "random"} {
		tr, err := LoadTrace(name)
		if err != nil {
			t.Fatal(err)
		}
		tr = &Trace{Name: tr.Name, Requests: tr.Requests[:n]}
		traces = append(traces, tr)
	}
	traces = append(traces, gappyTrace(1, n))
	if tr, err := loadUnsortedTrace(filepath.Join(sharedDir(), "data", "traces", "ddr3_example.stl")); err == nil {
		traces = append(traces, tr)
	}
	for _, d := range []struct {
		name string
		spec *MemSpec
	}{{"ddr3", nil}, {"ddr4", mustEmbeddedMemSpec(ddr4MemSpecFile)}, {"lpddr4", mustEmbeddedMemSpec(lpddr4MemSpecFile)}} {
		lean, full := NewSimulator(d.spec, nil), NewSimulator(d.spec, nil)
		lean.RecordRequests, full.RecordRequests = true, true
		full.fullSteps = true
		rng := rand.New(rand.NewSource(7))
		cfgs := []Config{defaultConfig(), fastConfig()}
		for range nCfg {
			var c Config
			for k := range NumKnobs {
				c[k] = rng.Intn(len(knobs[k].Values))
			}
			cfgs = append(cfgs, c)
		}
		for i, c := range cfgs {
			tr := traces[i%len(traces)]
			a, err := lean.Run(tr, c)
			if err != nil {
				t.Fatal(err)
			}
			b, err := full.Run(tr, c)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Fatalf("%s %s %s: lean %+v, full steps %+v", d.name, tr.Name, c, a, b)
			}
			if !slices.Equal(lean.rec.done, full.rec.done) || !slices.Equal(lean.rec.issue, full.rec.issue) {
				t.Fatalf("%s %s %s: request times differ between lean and full steps", d.name, tr.Name, c)
			}
		}
	}
}

// TestSerialMatchesFullSteps covers the serial designs (serial.go) one by
// one: every page policy, scheduler, buffer type and response queue with a
// one-entry buffer, no refresh and the Simple arbiter, on every device,
// with the serial path and with full steps.
func TestSerialMatchesFullSteps(t *testing.T) {
	n := 1500
	if raceEnabled {
		n = 150
	}
	var traces []*Trace
	for _, name := range []string{"random", "cloud-2"} {
		tr, err := LoadTrace(name)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, &Trace{Name: tr.Name, Requests: tr.Requests[:n]})
	}
	traces = append(traces, gappyTrace(2, n))
	for _, d := range []struct {
		name string
		spec *MemSpec
	}{{"ddr3", nil}, {"ddr4", mustEmbeddedMemSpec(ddr4MemSpecFile)}, {"lpddr4", mustEmbeddedMemSpec(lpddr4MemSpecFile)}} {
		serial, full := NewSimulator(d.spec, nil), NewSimulator(d.spec, nil)
		serial.RecordRequests, full.RecordRequests = true, true
		full.fullSteps = true
		k := 0
		for page := range 4 {
			for sched := range 3 {
				for buf := range 3 {
					for resp := range 2 {
						c := Config{page, sched, buf, 0, resp, int(RefreshNone), k % 4, (k / 4) % 4, int(ArbSimple), k % 8}
						tr := traces[k%len(traces)]
						k++
						a, err := serial.Run(tr, c)
						if err != nil {
							t.Fatal(err)
						}
						if !serial.st.serial {
							t.Fatalf("%s %s: not run as a serial design", d.name, c)
						}
						b, err := full.Run(tr, c)
						if err != nil {
							t.Fatal(err)
						}
						if a != b {
							t.Fatalf("%s %s %s: serial %+v, full steps %+v", d.name, tr.Name, c, a, b)
						}
						if !slices.Equal(serial.rec.done, full.rec.done) || !slices.Equal(serial.rec.issue, full.rec.issue) {
							t.Fatalf("%s %s %s: request times differ between the serial path and full steps", d.name, tr.Name, c)
						}
					}
				}
			}
		}
	}
}

// TestOpenMatchesFullSteps covers the open-page designs (openlean.go):
// FrFcfs and Fifo with the Open page policy, every buffer type, buffer
// sizes from 2 to 128, both refresh policies and the Simple arbiter with a
// Fifo response queue, on every device, with leanOpen, with the general
// lean path and with full steps: results and every request's times agree.
func TestOpenMatchesFullSteps(t *testing.T) {
	n := 1500
	if raceEnabled {
		n = 150
	}
	var traces []*Trace
	for _, name := range []string{"cloud-1", "stream", "random"} {
		tr, err := LoadTrace(name)
		if err != nil {
			t.Fatal(err)
		}
		traces = append(traces, &Trace{Name: tr.Name, Requests: tr.Requests[:n]})
	}
	traces = append(traces, gappyTrace(3, n))
	for _, d := range []struct {
		name string
		spec *MemSpec
	}{{"ddr3", nil}, {"ddr4", mustEmbeddedMemSpec(ddr4MemSpecFile)}, {"lpddr4", mustEmbeddedMemSpec(lpddr4MemSpecFile)}} {
		open, general, full := NewSimulator(d.spec, nil), NewSimulator(d.spec, nil), NewSimulator(d.spec, nil)
		open.RecordRequests, general.RecordRequests, full.RecordRequests = true, true, true
		general.noOpenLean = true
		full.fullSteps = true
		k := 0
		for _, sched := range []Scheduler{SchedFrFcfs, SchedFifo} {
			for buf := range 3 {
				for size := 1; size < 8; size++ {
					for _, ref := range []RefreshPolicy{RefreshNone, RefreshAllBank} {
						c := Config{int(PageOpen), int(sched), buf, size, int(RespFifo), int(ref), k % 4, (k / 4) % 4, int(ArbSimple), k % 8}
						tr := traces[k%len(traces)]
						k++
						a, err := open.Run(tr, c)
						if err != nil {
							t.Fatal(err)
						}
						if !open.st.open || general.st.open {
							t.Fatalf("%s %s: open path %v, general %v", d.name, c, open.st.open, general.st.open)
						}
						g, err := general.Run(tr, c)
						if err != nil {
							t.Fatal(err)
						}
						b, err := full.Run(tr, c)
						if err != nil {
							t.Fatal(err)
						}
						if a != b || g != b {
							t.Fatalf("%s %s %s: leanOpen %+v, lean %+v, full steps %+v", d.name, tr.Name, c, a, g, b)
						}
						for _, s := range []*Simulator{open, general} {
							if !slices.Equal(s.rec.done, full.rec.done) || !slices.Equal(s.rec.issue, full.rec.issue) {
								t.Fatalf("%s %s %s: request times differ from full steps (open path %v)", d.name, tr.Name, c, s.st.open)
							}
						}
					}
				}
			}
		}
	}
}
