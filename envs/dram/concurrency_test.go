package dram

import (
	"sync"
	"testing"
)

// TestConcurrentSimulators runs one Simulator per goroutine on shared
// traces (read-only) and checks every result equals the sequential one.
func TestConcurrentSimulators(t *testing.T) {
	tr, err := LoadTrace("cloud-2")
	if err != nil {
		t.Fatal(err)
	}
	tr.Requests = tr.Requests[:2000] // keep -race fast
	cfgs := []Config{defaultConfig(), fastConfig(), {int(PageClosedAdaptive), int(SchedFrFcfsGrp), int(BufShared), 4, int(RespReorder), int(RefreshAllBank), 2, 3, int(ArbReorder), 3}}
	want := make([]Result, len(cfgs))
	seq := NewSimulator(nil, nil)
	for i, c := range cfgs {
		if want[i], err = seq.Run(tr, c); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sim := NewSimulator(nil, nil)
			for k := range 2 * len(cfgs) {
				i := (g + k) % len(cfgs)
				got, err := sim.Run(tr, cfgs[i])
				if err != nil || got != want[i] {
					errs <- cfgs[i].String()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent run of %s differs from the sequential one", e)
	}
}
