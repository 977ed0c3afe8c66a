package envs

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// NewPolySpace exposes the test space to the external contract tests.
func NewPolySpace() DesignSpace { return &polySpace{} }

func newObs(s Spec) ([][]float32, []float32) {
	obs := make([][]float32, len(s.Agents))
	for i, a := range s.Agents {
		obs[i] = make([]float32, a.ObsSize)
	}
	return obs, make([]float32, len(s.Agents))
}

func TestSpaceEnvMatchesEvaluate(t *testing.T) {
	p := &polySpace{}
	obj, err := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"time_ns"}}.Bind(p.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewSpaceEnv(p, SpaceEnvConfig{Objective: obj, EpisodeLength: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Spec()
	wantNA := []int{4, 3, 5}
	for i, a := range s.Agents {
		if a.Name != p.Knobs()[i].Name || a.NumActions != wantNA[i] || a.ObsSize != 2+5+1 {
			t.Fatalf("agent %d spec %+v", i, a)
		}
	}
	if s.MaxSteps != 3 {
		t.Fatalf("MaxSteps %d", s.MaxSteps)
	}
	start := make([]float64, 2)
	_ = p.Evaluate([]int{0, 0, 0}, start)
	obs, rew := newObs(s)
	e.Reset(1, obs)
	for i := range obs {
		want := []float32{0, 0, 0, 0, 0, 0, 0, 0}
		want[2] = 1 // value 0 of every knob
		if !slices.Equal(obs[i], want) {
			t.Fatalf("reset obs[%d] = %v, want %v", i, obs[i], want)
		}
	}
	for step, cfg := range [][]int{{3, 2, 4}, {1, 0, 2}, {2, 1, 3}} {
		r := e.Step(cfg, obs, rew)
		want := make([]float64, 2)
		if err := p.Evaluate(cfg, want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(e.Metrics(), want) || !slices.Equal(e.Design(), cfg) {
			t.Fatalf("step %d: metrics %v design %v, direct evaluation %v", step, e.Metrics(), e.Design(), want)
		}
		wantR := float32(-math.Log(want[0] / start[0]))
		for i := range rew {
			if rew[i] != wantR {
				t.Fatalf("step %d: reward[%d] %v, want %v", step, i, rew[i], wantR)
			}
		}
		for i := range obs {
			for j := range 2 {
				if got, w := obs[i][j], float32(math.Log(want[j]/start[j])); math.Abs(float64(got-w)) > 1e-6 {
					t.Fatalf("step %d: agent %d metric obs %v, want %v", step, i, got, w)
				}
			}
			for v := range 5 {
				w := float32(0)
				if v == cfg[i] {
					w = 1
				}
				if obs[i][2+v] != w {
					t.Fatalf("step %d: agent %d one-hot %v", step, i, obs[i][2:7])
				}
			}
			if obs[i][7] != float32(step+1)/3 {
				t.Fatalf("step fraction %v", obs[i][7])
			}
		}
		if r.Truncated || r.Terminated != (step == 2) {
			t.Fatalf("step %d flags %+v", step, r)
		}
	}
}

func TestSpaceEnvBudget(t *testing.T) {
	c := NewCounted(&polySpace{})
	c.SetBudget(2) // the start design and one more
	obj, _ := ObjectiveConfig{Kind: KindTarget, Metrics: []string{"power_mW"}, Targets: []float64{600}, Cap: DefaultTargetCap}.Bind(c.MetricNames())
	e, err := NewSpaceEnv(c, SpaceEnvConfig{Objective: obj, EpisodeLength: 5, TruncateAtEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	obs, rew := newObs(e.Spec())
	e.Reset(0, obs)
	if r := e.Step([]int{1, 1, 1}, obs, rew); r.Done() || rew[0] <= 0 {
		t.Fatalf("first step %+v %v", r, rew)
	}
	if r := e.Step([]int{2, 2, 2}, obs, rew); !r.Terminated || rew[0] != 0 || !errors.Is(e.Err(), ErrBudgetExhausted) {
		t.Fatalf("over budget: %+v rewards %v err %v", r, rew, e.Err())
	}
	if !slices.Equal(e.Design(), []int{1, 1, 1}) {
		t.Fatalf("design after failure %v, want the last good one", e.Design())
	}
	// Cached designs still work after the budget is spent.
	e.Reset(0, obs)
	if r := e.Step([]int{1, 1, 1}, obs, rew); r.Done() || e.Err() != nil {
		t.Fatalf("cached design: %+v %v", r, e.Err())
	}
	if c.Unique() != 2 {
		t.Fatalf("unique %d", c.Unique())
	}
}

func TestSpaceEnvErrors(t *testing.T) {
	p := &polySpace{}
	obj := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"time_ns"}}
	o, _ := obj.Bind(p.MetricNames())
	if _, err := NewSpaceEnv(p, SpaceEnvConfig{}); err == nil {
		t.Error("nil objective accepted")
	}
	if _, err := NewSpaceEnv(p, SpaceEnvConfig{Objective: o, EpisodeLength: 1, Start: []int{9, 0, 0}}); err == nil {
		t.Error("bad start accepted")
	}
	for _, n := range []int{-1, 0} { // 0 is not "the default": there is none
		if _, err := NewSpaceEnv(p, SpaceEnvConfig{Objective: o, EpisodeLength: n}); err == nil {
			t.Errorf("episode length %d accepted", n)
		}
	}
}

func TestSpaceEnvObsMetrics(t *testing.T) {
	p := &polySpace{}
	o, _ := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{"power_mW"}}.Bind(p.MetricNames())
	e, err := NewSpaceEnv(p, SpaceEnvConfig{Objective: o, EpisodeLength: 1, ObsMetrics: []string{"power_mW"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Spec().Agents[0].ObsSize != 1+5+1 {
		t.Fatalf("obs size %d", e.Spec().Agents[0].ObsSize)
	}
	obs, rew := newObs(e.Spec())
	e.Reset(0, obs)
	e.Step([]int{0, 2, 4}, obs, rew)
	want := make([]float64, 2)
	_ = p.Evaluate([]int{0, 2, 4}, want)
	if got, w := obs[0][0], float32(math.Log(want[1]/e.StartMetrics()[1])); math.Abs(float64(got-w)) > 1e-6 {
		t.Fatalf("observed power %v, want %v", got, w)
	}
	if _, err := NewSpaceEnv(p, SpaceEnvConfig{Objective: o, EpisodeLength: 1, ObsMetrics: []string{"nope"}}); err == nil {
		t.Fatal("unknown observed metric accepted")
	}
}
