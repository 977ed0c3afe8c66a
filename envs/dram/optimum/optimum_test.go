package optimum

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// sampleSize is the number of seeded random configurations per shipped
// file that must not beat its optimum: 5,000 on stream (the acceptance
// check), 500 on the slower traces, 100 on the other devices (the DDR4 and
// LPDDR4 files: their re-simulation is the main check);
// -short uses at most 200 and the race detector 40.
func sampleSize(key string) int {
	n := 500
	switch {
	case strings.Contains(key, "@"):
		n = 100
	case key == "stream":
		n = 5000
	}
	switch {
	case raceEnabled:
		return min(n, 40)
	case testing.Short():
		return min(n, 200)
	}
	return n
}

// shippedSpace returns the design space a shipped key (trace or
// trace@memoryId) was swept on and the objectives its file must have.
func shippedSpace(t *testing.T, key string) (*dram.Space, []string) {
	t.Helper()
	trace, id, onDevice := strings.Cut(key, "@")
	if !onDevice {
		s, err := dram.NewTraceSpace(trace)
		if err != nil {
			t.Fatal(err)
		}
		return s, ObjectiveNames()
	}
	spec, am, ok := dram.EmbeddedSystem(id)
	if !ok {
		t.Fatalf("%s: no embedded device %q", key, id)
	}
	s, err := dram.NewTraceSpaceOn(trace, spec, am)
	if err != nil {
		t.Fatal(err)
	}
	if "dram/"+key != s.Name() {
		t.Fatalf("%s: space %s", key, s.Name())
	}
	if !spec.HasEnergy() {
		return s, TimeObjectiveNames()
	}
	return s, ObjectiveNames()
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
		if _, want := shippedSpace(t, tr); !slices.Equal(names, want) {
			t.Fatalf("%s: objectives %v, want %v", tr, names, want)
		}
	}
	// ForSystem finds every shipped device file from its trace and device.
	for _, tr := range traces {
		trace, id, ok := strings.Cut(tr, "@")
		if !ok {
			continue
		}
		spec, am, _ := dram.EmbeddedSystem(id)
		if f, err := ForSystem(trace, spec, am); err != nil || f.Trace != tr {
			t.Fatalf("ForSystem(%s, %s): %v", trace, id, err)
		}
	}
	if f, err := ForSystem("stream", nil, nil); err != nil || f.Trace != "stream" {
		t.Fatalf("ForSystem(stream, default): %v", err)
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
		space, _ := shippedSpace(t, tr)
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

// TestForSystemRefusesOtherSystems: a memspec that keeps an embedded
// memoryId but changes a timing, or an embedded device on another mapping,
// gets no shipped optimum (it would be another device's).
func TestForSystemRefusesOtherSystems(t *testing.T) {
	spec, am, ok := dram.EmbeddedSystem("MICRON_4Gb_DDR4-2400_8bit_A")
	if !ok {
		t.Fatal("embedded DDR4-2400 not found")
	}
	if _, err := ForSystem("random", spec, am); err != nil {
		t.Fatal(err)
	}
	slower := *spec
	slower.Timing.RCD++
	if _, err := ForSystem("random", &slower, am); err == nil || !strings.Contains(err.Error(), "random@MICRON_4Gb_DDR4-2400_8bit_A") {
		t.Fatalf("changed tRCD under the embedded memoryId: %v", err)
	}
	_, ddr3Map, _ := dram.EmbeddedSystem("MICRON_1Gb_DDR3-1600_8bit_G")
	other := *am
	other.RowBits = slices.Clone(am.RowBits)
	other.RowBits[0], other.RowBits[1] = other.RowBits[1], other.RowBits[0]
	if _, err := ForSystem("random", spec, &other); err == nil {
		t.Fatal("a permuted mapping got the shipped optimum")
	}
	if _, err := ForSystem("random", nil, ddr3Map); err != nil {
		t.Fatalf("the DDR3 default mapping given explicitly: %v", err)
	}
	if _, _, ok := dram.EmbeddedSystem("NO_SUCH_DEVICE"); ok {
		t.Fatal("EmbeddedSystem found an unknown id")
	}
}
