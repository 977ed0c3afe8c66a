package optimum

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// sampleSize is the number of seeded random configurations per trace that
// must not beat the shipped optimum: 5,000 on stream (the acceptance
// check), 500 on the slower traces; -short uses 200 everywhere and the
// race detector 40.
func sampleSize(trace string) int {
	switch {
	case raceEnabled:
		return 40
	case testing.Short():
		return 200
	case trace == "stream":
		return 5000
	}
	return 500
}

func TestShippedOptimaCoverTracesAndObjectives(t *testing.T) {
	traces := Traces()
	if len(traces) == 0 {
		t.Fatal("no optimum shipped")
	}
	for _, tr := range traces {
		f, err := Load(tr)
		if err != nil {
			t.Fatal(err)
		}
		if f.Trace != tr || f.Configs != 442368 || f.Command == "" {
			t.Fatalf("%s: trace %q, %d configs, command %q", tr, f.Trace, f.Configs, f.Command)
		}
		var names []string
		for _, e := range f.Objectives {
			names = append(names, e.Objective)
		}
		if !slices.Equal(names, ObjectiveNames()) {
			t.Fatalf("%s: objectives %v, want %v", tr, names, ObjectiveNames())
		}
	}
	if _, err := Load("no-such"); err == nil {
		t.Fatal("Load of an unknown trace succeeded")
	}
}

// TestShippedOptimaResimulateAndAreUnbeaten re-simulates every shipped
// optimum (the metrics must come out bit for bit) and checks that no
// configuration of a seeded random sample does better on any objective.
func TestShippedOptimaResimulateAndAreUnbeaten(t *testing.T) {
	radices := make([]int, dram.NumKnobs)
	for k, kn := range dram.Knobs() {
		radices[k] = len(kn.Values)
	}
	for _, tr := range Traces() {
		f, err := Load(tr)
		if err != nil {
			t.Fatal(err)
		}
		space, err := dram.NewTraceSpace(tr)
		if err != nil {
			t.Fatal(err)
		}
		objs := make([]*entryObjective, len(f.Objectives))
		out := make([]float64, 3)
		for i := range f.Objectives {
			e := &f.Objectives[i]
			c, err := e.DramConfig()
			if err != nil {
				t.Fatal(err)
			}
			if idx, _ := exhaustive.Encode(e.Values, radices); int(idx) != e.Index {
				t.Fatalf("%s/%s: index %d but values %v encode to %d", tr, e.Objective, e.Index, e.Values, idx)
			}
			if err := space.Evaluate(c[:], out); err != nil {
				t.Fatal(err)
			}
			m := e.Metrics
			if out[0] != m.TimeNS || out[1] != m.EnergyPJ || out[2] != m.PowerMW || m.EDP != m.TimeNS*m.EnergyPJ {
				t.Fatalf("%s/%s: %s re-simulates to %v, shipped %+v", tr, e.Objective, c, out, m)
			}
			o, err := Bind(e.Objective)
			if err != nil {
				t.Fatal(err)
			}
			if v := o.Value(out); v != e.Value {
				t.Fatalf("%s/%s: value %v, shipped %v", tr, e.Objective, v, e.Value)
			}
			objs[i] = &entryObjective{e: e, value: o.Value}
		}

		// Seeded sample, evaluated on all cores (one simulator each).
		n := sampleSize(tr)
		rng := rand.New(rand.NewPCG(2026, uint64(len(tr))))
		cfgs := make([][]int, n)
		for i := range cfgs {
			cfgs[i] = make([]int, dram.NumKnobs)
			for k := range cfgs[i] {
				cfgs[i][k] = rng.IntN(radices[k])
			}
		}
		res := make([][]float64, n)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		workers := 4
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := space.NewEvaluator()
				for i := w; i < n; i += workers {
					res[i] = make([]float64, 3)
					if err := ev(cfgs[i], res[i]); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			t.Fatal(firstErr)
		}
		for i, m := range res {
			for _, o := range objs {
				if v := o.value(m); v < o.e.Value || math.IsNaN(v) {
					t.Fatalf("%s/%s: sampled configuration %v has value %v, better than the shipped optimum %v",
						tr, o.e.Objective, cfgs[i], v, o.e.Value)
				}
			}
		}
	}
}

type entryObjective struct {
	e     *Entry
	value func([]float64) float64
}
