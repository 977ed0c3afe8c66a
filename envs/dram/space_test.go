package dram

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

func TestSpaceKnobsAndSize(t *testing.T) {
	s, err := NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "dram/stream" {
		t.Fatalf("name %q", s.Name())
	}
	want := []string{"PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "RespQueue",
		"RefreshPolicy", "RefreshMaxPostponed", "RefreshMaxPulledin", "Arbiter", "MaxActiveTransactions"}
	var names []string
	var counts []int
	for _, k := range s.Knobs() {
		names = append(names, k.Name)
		counts = append(counts, len(k.Values))
	}
	if !slices.Equal(names, want) {
		t.Fatalf("knobs %v, want %v", names, want)
	}
	if !slices.Equal(counts, []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8}) {
		t.Fatalf("value counts %v", counts)
	}
	if n := envs.Size(s); n != 442368 {
		t.Fatalf("%d configurations, want 442,368", n)
	}
	if m := s.MetricNames(); !slices.Equal(m, []string{"time_ns", "energy_pJ", "power_mW"}) {
		t.Fatalf("metrics %v", m)
	}
}

func TestSpaceRejectsBadConfigurations(t *testing.T) {
	s, _ := NewTraceSpace("stream")
	out := make([]float64, 3)
	for _, cfg := range [][]int{{0, 0}, {4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, -1}} {
		if err := s.Evaluate(cfg, out); err == nil {
			t.Errorf("Evaluate(%v) accepted", cfg)
		}
		if err := s.NewEvaluator()(cfg, out); err == nil {
			t.Errorf("evaluator(%v) accepted", cfg)
		}
	}
	if _, err := newSpace(&Trace{Name: "empty"}, spaceOptions{}); err == nil {
		t.Error("empty trace accepted")
	}
	if _, err := NewTraceSpace("no-such-trace"); err == nil {
		t.Error("unknown trace accepted")
	}
}

var (
	_ exhaustive.EvaluatorMaker = (*Space)(nil)
	_ exhaustive.Canonicalizer  = (*Space)(nil)
)

// TestSpaceEvaluateMatchesSimulator: Evaluate, the per-goroutine evaluator
// and the simulator agree bit for bit, and the spec's anchors come out.
func TestSpaceEvaluateMatchesSimulator(t *testing.T) {
	s, err := NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 3)
	if err := s.Evaluate(make([]int, NumKnobs), out); err != nil {
		t.Fatal(err)
	}
	if out[0] != 51595 || out[1] != 85957050 {
		t.Fatalf("stream default: %v ns, %v pJ; want 51,595 ns and 85,957,050 pJ", out[0], out[1])
	}
	ev := s.NewEvaluator()
	rng := rand.New(rand.NewPCG(3, 1))
	sim := NewSimulator(nil, nil)
	for range 5 {
		var c Config
		for k := range c {
			c[k] = rng.IntN(len(knobs[k].Values))
		}
		r, err := sim.Run(s.Trace(), c)
		if err != nil {
			t.Fatal(err)
		}
		a, b := make([]float64, 3), make([]float64, 3)
		if err := s.Evaluate(c[:], a); err != nil {
			t.Fatal(err)
		}
		if err := ev(c[:], b); err != nil {
			t.Fatal(err)
		}
		want := []float64{r.TimeNS, r.EnergyPJ, r.PowerMW}
		if !slices.Equal(a, want) || !slices.Equal(b, want) {
			t.Fatalf("%s: Evaluate %v, evaluator %v, simulator %v", c, a, b, want)
		}
	}
}

// TestSpaceCanonicalEquivalences checks on every DSE trace, for seeded
// random configurations that are not their own representative, that the
// representative simulates to exactly the same metrics.
func TestSpaceCanonicalEquivalences(t *testing.T) {
	n := 12
	if testing.Short() || spaceRaceEnabled {
		n = 3
	}
	for _, name := range []string{"stream", "random", "cloud-1", "cloud-2"} {
		s, err := NewTraceSpace(name)
		if err != nil {
			t.Fatal(err)
		}
		ev := s.NewEvaluator()
		rng := rand.New(rand.NewPCG(7, uint64(len(name))))
		cfg, rep := make([]int, NumKnobs), make([]int, NumKnobs)
		a, b := make([]float64, 3), make([]float64, 3)
		for found := 0; found < n; {
			for k := range cfg {
				cfg[k] = rng.IntN(len(knobs[k].Values))
			}
			s.Canonical(cfg, rep)
			if slices.Equal(cfg, rep) {
				continue
			}
			found++
			ri, _ := exhaustive.Encode(rep, sizes())
			ci, _ := exhaustive.Encode(cfg, sizes())
			if ri > ci {
				t.Fatalf("representative %v comes after %v", rep, cfg)
			}
			if err := ev(cfg, a); err != nil {
				t.Fatal(err)
			}
			if err := ev(rep, b); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Fatalf("%s: %v gives %v but its representative %v gives %v", name, cfg, a, rep, b)
			}
		}
	}
	// Traces with writes keep Scheduler and SchedulerBuffer apart.
	w := &Space{readOnly: false}
	cfg := []int{0, int(SchedFrFcfs), int(BufShared), 0, 0, 1, 0, 0, 1, 0}
	rep := make([]int, NumKnobs)
	w.Canonical(cfg, rep)
	if !slices.Equal(cfg, rep) {
		t.Fatalf("write trace: %v mapped to %v", cfg, rep)
	}
}

func sizes() []int {
	r := make([]int, NumKnobs)
	for k := range r {
		r[k] = len(knobs[k].Values)
	}
	return r
}

func TestSpaceContract(t *testing.T) {
	s, err := NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	envtest.DesignSpace(t, s)
}

// TestSpaceEnvView: the multi-agent view of the DRAM space (envs.SpaceEnv
// over a Counted space) has one agent per knob with the knob's value count
// as action count, and stepping with a configuration yields the metrics
// and reward of evaluating that configuration directly.
func TestSpaceEnvView(t *testing.T) {
	s, err := NewTraceSpace("cloud-1")
	if err != nil {
		t.Fatal(err)
	}
	oc, err := envs.ObjectivePreset("edp")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := oc.Bind(s.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	counted := envs.NewCounted(s)
	env, err := envs.NewSpaceEnv(counted, envs.SpaceEnvConfig{Objective: obj, EpisodeLength: 3})
	if err != nil {
		t.Fatal(err)
	}
	spec := env.Spec()
	var counts []int
	for i, a := range spec.Agents {
		counts = append(counts, a.NumActions)
		if a.Name != knobs[i].Name {
			t.Fatalf("agent %d is %q, want %q", i, a.Name, knobs[i].Name)
		}
	}
	if len(spec.Agents) != 10 || !slices.Equal(counts, []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8}) {
		t.Fatalf("%d agents with action counts %v", len(spec.Agents), counts)
	}
	obs := make([][]float32, len(spec.Agents))
	for i, a := range spec.Agents {
		obs[i] = make([]float32, a.ObsSize)
	}
	rewards := make([]float32, len(spec.Agents))
	env.Reset(1, obs)
	rng := rand.New(rand.NewPCG(9, 9))
	direct := make([]float64, 3)
	for step := range 3 {
		cfg := make([]int, NumKnobs)
		for k := range cfg {
			cfg[k] = rng.IntN(len(knobs[k].Values))
		}
		res := env.Step(cfg, obs, rewards)
		if err := env.Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.Evaluate(cfg, direct); err != nil {
			t.Fatal(err)
		}
		if got := env.Metrics(); !slices.Equal(got, direct) {
			t.Fatalf("step %d %v: env metrics %v, direct %v", step, cfg, got, direct)
		}
		if want := float32(env.Objective().Reward(direct)); rewards[0] != want || rewards[9] != want {
			t.Fatalf("step %d: rewards %v, want %v for every agent", step, rewards, want)
		}
		if res.Done() != (step == 2) {
			t.Fatalf("step %d: done = %v", step, res.Done())
		}
	}
	if u := counted.Unique(); u != 4 { // start design + 3 steps
		t.Fatalf("Counted charged %d unique evaluations, want 4", u)
	}
}

// TestSpaceSweepResumeEqualsUninterrupted sweeps a 256-configuration
// sub-space of stream (64 with -short or -race) twice, once interrupted midway and resumed, and
// requires byte-identical files (the full-space check is a command; see
// docs/interactions.md).
func TestSpaceSweepResumeEqualsUninterrupted(t *testing.T) {
	s, err := NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	fix := map[string]string{"Scheduler": "FrFcfs", "SchedulerBuffer": "Shared", "RespQueue": "Fifo",
		"RefreshPolicy": "AllBank", "RefreshMaxPostponed": "8", "RefreshMaxPulledin": "8", "Arbiter": "Reorder"}
	size, cut := 256, int64(100)
	if testing.Short() || spaceRaceEnabled {
		fix["PagePolicy"] = "OpenAdaptive"
		size, cut = 64, 30
	}
	sub, err := exhaustive.Restrict(s, fix)
	if err != nil {
		t.Fatal(err)
	}
	if envs.Size(sub) != size {
		t.Fatalf("sub-space of %d configurations", envs.Size(sub))
	}
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.sweep")
	if _, err := exhaustive.Run(context.Background(), sub, ref, exhaustive.Options{ChunkSize: 16}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "int.sweep")
	ctx, cancel := context.WithCancel(context.Background())
	_, err = exhaustive.Run(ctx, sub, path, exhaustive.Options{Jobs: 1, ChunkSize: 8, Progress: func(p exhaustive.Progress) {
		if p.Done >= cut {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: %v", err)
	}
	st, err := exhaustive.Run(context.Background(), sub, path, exhaustive.Options{ChunkSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if st.Resumed < cut || st.Resumed+st.Evaluated != int64(size) {
		t.Fatalf("resume stats %+v", st)
	}
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(path)
	if !bytes.Equal(a, b) {
		t.Fatal("resumed DRAM sweep differs from the uninterrupted one")
	}
}
