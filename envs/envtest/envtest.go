// Package envtest provides contract tests that every envs.Env and every
// envs.DesignSpace implementation must pass, in the manner of gonum's
// graph/testgraph: an implementation's own test calls
//
//	envtest.Env(t, func() envs.Env { return mypkg.New(...) })
//	envtest.DesignSpace(t, mypkg.NewSpace(...))
//
// The checks are behavioural (spec sanity, buffer contracts, determinism from
// the seed, Clone independence, truncation at the step cap, error handling,
// concurrent use) and fast: a few hundred steps or a handful of evaluations.
package envtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

// reporter is the part of *testing.T the checks use (so the checks
// themselves can be tested against deliberately broken implementations).
type reporter interface {
	Error(args ...any)
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// EnvOptions tunes Env. The zero value is the default.
type EnvOptions struct {
	// Steps is the number of random-policy steps per check (default 300).
	Steps int
	// SeedInsensitive marks environments whose episodes do not depend on the
	// reset seed (e.g. a design space with a fixed starting design); the
	// "different seeds differ" check is then skipped.
	SeedInsensitive bool
	// ZeroAllocStep requires Step (without episode end) to allocate nothing.
	ZeroAllocStep bool
}

// Env runs the environment contract with default options.
func Env(t *testing.T, newEnv func() envs.Env) {
	t.Helper()
	EnvWith(t, newEnv, EnvOptions{})
}

// EnvWith runs the environment contract. newEnv must return a fresh,
// independent environment on each call.
func EnvWith(t *testing.T, newEnv func() envs.Env, o EnvOptions) {
	t.Helper()
	if o.Steps <= 0 {
		o.Steps = 300
	}
	t.Run("Spec", func(t *testing.T) { checkSpec(t, newEnv().Spec()) })
	t.Run("ObsFilled", func(t *testing.T) { checkObsFilled(t, newEnv, o) })
	t.Run("Deterministic", func(t *testing.T) { checkDeterministic(t, newEnv, o) })
	t.Run("CloneIndependent", func(t *testing.T) { checkClone(t, newEnv, o) })
	t.Run("Truncation", func(t *testing.T) { checkTruncation(t, newEnv, o) })
	t.Run("Vectorised", func(t *testing.T) { checkVec(t, newEnv, o) })
	if o.ZeroAllocStep {
		t.Run("ZeroAllocStep", func(t *testing.T) { checkAllocs(t, newEnv) })
	}
}

func checkSpec(t reporter, s envs.Spec) {
	if s.Name == "" {
		t.Error("Spec.Name is empty")
	}
	if len(s.Agents) == 0 {
		t.Fatal("Spec has no agents")
	}
	names := map[string]bool{}
	for i, a := range s.Agents {
		if a.Name == "" {
			t.Errorf("agent %d has an empty name", i)
		}
		if names[a.Name] {
			t.Errorf("agent name %q repeated", a.Name)
		}
		names[a.Name] = true
		if a.ObsSize <= 0 {
			t.Errorf("agent %q: ObsSize %d", a.Name, a.ObsSize)
		}
		if a.NumActions <= 0 {
			t.Errorf("agent %q: NumActions %d", a.Name, a.NumActions)
		}
	}
	if s.StateSize < 0 {
		t.Errorf("StateSize %d < 0", s.StateSize)
	}
	if s.MaxSteps <= 0 {
		t.Errorf("MaxSteps %d: every environment needs a step cap", s.MaxSteps)
	}
}

// buffers returns per-agent observation buffers filled with NaN (so an
// entry the environment forgets to write is detected) and a reward buffer.
func buffers(s envs.Spec) ([][]float32, []float32) {
	obs := make([][]float32, len(s.Agents))
	for i, a := range s.Agents {
		obs[i] = make([]float32, a.ObsSize)
	}
	poison(obs)
	rew := make([]float32, len(s.Agents))
	for i := range rew {
		rew[i] = float32(math.NaN())
	}
	return obs, rew
}

func poison(obs [][]float32) {
	for _, o := range obs {
		for j := range o {
			o[j] = float32(math.NaN())
		}
	}
}

func finite(xs []float32) bool {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func randomActions(s envs.Spec, r *rand.Rand, a []int) {
	for i, ag := range s.Agents {
		a[i] = r.IntN(ag.NumActions)
	}
}

// trajectory is everything observable from a run, flattened.
type trajectory struct {
	obs, rew []float32
	flags    []int8 // 0 running, 1 terminated, 2 truncated
}

func (a trajectory) equal(b trajectory) bool {
	return slices.Equal(a.obs, b.obs) && slices.Equal(a.rew, b.rew) && slices.Equal(a.flags, b.flags)
}

func flag(r envs.StepResult) int8 {
	switch {
	case r.Terminated:
		return 1
	case r.Truncated:
		return 2
	}
	return 0
}

// play resets e (seed, then seed+1, ... on each episode end) and takes n
// steps with actions from policy seed ps.
func play(e envs.Env, seed uint64, ps uint64, n int) trajectory {
	s := e.Spec()
	obs, rew := buffers(s)
	act := make([]int, len(s.Agents))
	r := rand.New(rand.NewPCG(ps, 0))
	var tr trajectory
	e.Reset(seed, obs)
	for _, o := range obs {
		tr.obs = append(tr.obs, o...)
	}
	for range n {
		randomActions(s, r, act)
		res := e.Step(act, obs, rew)
		for _, o := range obs {
			tr.obs = append(tr.obs, o...)
		}
		tr.rew = append(tr.rew, rew...)
		tr.flags = append(tr.flags, flag(res))
		if res.Done() {
			seed++
			e.Reset(seed, obs)
			for _, o := range obs {
				tr.obs = append(tr.obs, o...)
			}
		}
	}
	return tr
}

func checkObsFilled(t reporter, newEnv func() envs.Env, o EnvOptions) {
	e := newEnv()
	s := e.Spec()
	obs, rew := buffers(s)
	act := make([]int, len(s.Agents))
	r := rand.New(rand.NewPCG(1, 2))
	e.Reset(7, obs)
	for i := range obs {
		if !finite(obs[i]) {
			t.Fatalf("after Reset, agent %q observation has unwritten or non-finite entries: %v", s.Agents[i].Name, obs[i])
		}
	}
	for step := range o.Steps {
		randomActions(s, r, act)
		poison(obs)
		for i := range rew {
			rew[i] = float32(math.NaN())
		}
		res := e.Step(act, obs, rew)
		for i := range obs {
			if !finite(obs[i]) {
				t.Fatalf("step %d: agent %q observation has unwritten or non-finite entries", step, s.Agents[i].Name)
			}
		}
		if !finite(rew) {
			t.Fatalf("step %d: rewards %v not all written or not finite", step, rew)
		}
		if res.Terminated && res.Truncated {
			t.Fatalf("step %d: both Terminated and Truncated (termination takes precedence)", step)
		}
		for k, v := range res.Info {
			if math.IsNaN(v) {
				t.Errorf("step %d: Info[%q] is NaN", step, k)
			}
		}
		if res.Done() {
			poison(obs)
			e.Reset(uint64(step), obs)
			for i := range obs {
				if !finite(obs[i]) {
					t.Fatalf("after Reset at step %d, agent %d observation not fully written", step, i)
				}
			}
		}
	}
}

func checkDeterministic(t reporter, newEnv func() envs.Env, o EnvOptions) {
	a := play(newEnv(), 42, 3, o.Steps)
	b := play(newEnv(), 42, 3, o.Steps)
	if !a.equal(b) {
		t.Fatal("two fresh environments with the same seed and actions diverged")
	}
	// Reusing an environment after other episodes must not change anything:
	// all state comes from the seed.
	e := newEnv()
	play(e, 1000, 9, o.Steps/2)
	c := play(e, 42, 3, o.Steps)
	if !c.equal(a) {
		t.Fatal("an environment reset with the same seed after other episodes behaves differently: state leaks across Reset")
	}
	if !o.SeedInsensitive {
		s := newEnv().Spec()
		first := func(seed uint64) []float32 {
			obs, _ := buffers(s)
			e := newEnv()
			e.Reset(seed, obs)
			var out []float32
			for _, x := range obs {
				out = append(out, x...)
			}
			return out
		}
		f0 := first(0)
		differ := false
		for seed := uint64(1); seed < 20 && !differ; seed++ {
			differ = !slices.Equal(first(seed), f0)
		}
		if !differ {
			t.Error("20 different seeds all gave the same initial observation (set SeedInsensitive if intended)")
		}
	}
}

func checkClone(t reporter, newEnv func() envs.Env, o EnvOptions) {
	e := newEnv()
	s := e.Spec()
	obs, rew := buffers(s)
	act := make([]int, len(s.Agents))
	e.Reset(5, obs)
	r := rand.New(rand.NewPCG(4, 4))
	// Advance a few steps (stopping before the episode can end).
	for range min(s.MaxSteps-1, 3) {
		randomActions(s, r, act)
		if e.Step(act, obs, rew).Done() {
			e.Reset(6, obs)
		}
	}
	c1, c2 := e.Clone(), e.Clone()
	// Drive the original hard; the clones must not notice.
	play(e, 77, 8, o.Steps/2)
	run := func(env envs.Env) trajectory {
		obs, rew := buffers(s)
		act := make([]int, len(s.Agents))
		r := rand.New(rand.NewPCG(10, 10))
		var tr trajectory
		for range s.MaxSteps {
			randomActions(s, r, act)
			res := env.Step(act, obs, rew)
			for _, x := range obs {
				tr.obs = append(tr.obs, x...)
			}
			tr.rew = append(tr.rew, rew...)
			tr.flags = append(tr.flags, flag(res))
			if res.Done() {
				break
			}
		}
		return tr
	}
	t1 := run(c1)
	// c1 has now been stepped; c2 must still be at the cloned state.
	if t2 := run(c2); !t2.equal(t1) {
		t.Fatal("two clones of the same state diverged: clones share state with the original or with each other")
	}
}

func checkTruncation(t reporter, newEnv func() envs.Env, o EnvOptions) {
	e := newEnv()
	s := e.Spec()
	obs, rew := buffers(s)
	act := make([]int, len(s.Agents))
	r := rand.New(rand.NewPCG(12, 12))
	seed := uint64(100)
	e.Reset(seed, obs)
	steps, episodes, truncs := 0, 0, 0
	for range max(o.Steps, 3*s.MaxSteps) {
		randomActions(s, r, act)
		res := e.Step(act, obs, rew)
		steps++
		if res.Truncated && steps != s.MaxSteps {
			t.Fatalf("truncated after %d steps, cap is %d", steps, s.MaxSteps)
		}
		if !res.Done() && steps >= s.MaxSteps {
			t.Fatalf("episode still running after %d steps, cap is %d", steps, s.MaxSteps)
		}
		if res.Done() {
			episodes++
			if res.Truncated {
				truncs++
			}
			steps = 0
			seed++
			e.Reset(seed, obs)
		}
	}
	// Holding "stay"-like action 0 for a whole episode usually cannot finish
	// it, but that is environment-specific; only report what was seen.
	t.Logf("%d episodes, %d truncated", episodes, truncs)
}

// checkVec runs the environment through envs.Vec with one and with three
// workers; the outputs must be identical (run it under -race too).
func checkVec(t reporter, newEnv func() envs.Env, o EnvOptions) {
	run := func(workers int) []float32 {
		v := envs.NewVec(newEnv(), 3, envs.VecConfig{Seed: 9, Workers: workers})
		defer v.Close()
		b := v.NewBuffers()
		v.Reset(b)
		s := v.Spec()
		r := rand.New(rand.NewPCG(5, 5))
		out := slices.Clone(b.Obs)
		for range max(o.Steps/3, 2*s.MaxSteps) {
			for k := range 3 {
				randomActions(s, r, b.Actions[k*len(s.Agents):(k+1)*len(s.Agents)])
			}
			v.Step(b)
			out = append(out, b.Obs...)
			out = append(out, b.Rewards...)
			for k, res := range b.Results {
				if res.Done() {
					out = append(out, float32(flag(res)), float32(k))
				}
			}
		}
		return out
	}
	if !slices.Equal(run(1), run(3)) {
		t.Fatal("envs.Vec gives different results with 1 and 3 workers")
	}
}

func checkAllocs(t reporter, newEnv func() envs.Env) {
	e := newEnv()
	s := e.Spec()
	obs, rew := buffers(s)
	act := make([]int, len(s.Agents))
	e.Reset(1, obs)
	a := testing.AllocsPerRun(50, func() {
		if e.Step(act, obs, rew).Done() {
			e.Reset(1, obs)
		}
	})
	if a != 0 {
		t.Errorf("Step allocates %v objects per call", a)
	}
}

// DesignSpaceOptions tunes DesignSpace. The zero value is the default.
type DesignSpaceOptions struct {
	// Samples is the number of random configurations evaluated (default 6,
	// plus the first and last configuration).
	Samples int
	// Goroutines evaluating concurrently (default 4).
	Goroutines int
}

// DesignSpace runs the design-space contract with default options.
func DesignSpace(t *testing.T, ds envs.DesignSpace) {
	t.Helper()
	DesignSpaceWith(t, ds, DesignSpaceOptions{})
}

// DesignSpaceWith runs the design-space contract: knob and metric naming,
// finite and deterministic Evaluate, errors (not panics) for malformed
// configurations, and identical results under concurrent evaluation.
func DesignSpaceWith(t *testing.T, ds envs.DesignSpace, o DesignSpaceOptions) {
	t.Helper()
	if o.Samples <= 0 {
		o.Samples = 6
	}
	if o.Goroutines <= 0 {
		o.Goroutines = 4
	}
	t.Run("Names", func(t *testing.T) { checkNames(t, ds) })
	if len(ds.Knobs()) == 0 || len(ds.MetricNames()) == 0 {
		return
	}
	cfgs := sampleConfigs(ds.Knobs(), o.Samples)
	var want [][]float64
	t.Run("Evaluate", func(t *testing.T) { want = checkEvaluate(t, ds, cfgs) })
	t.Run("BadConfig", func(t *testing.T) { checkBadConfig(t, ds) })
	if want == nil {
		return
	}
	t.Run("Concurrent", func(t *testing.T) { checkConcurrent(t, ds, cfgs, want, o.Goroutines) })
}

func checkNames(t reporter, ds envs.DesignSpace) {
	knobs, metrics := ds.Knobs(), ds.MetricNames()
	if ds.Name() == "" {
		t.Error("Name is empty")
	}
	if len(knobs) == 0 {
		t.Fatal("no knobs")
	}
	seen := map[string]bool{}
	for i, k := range knobs {
		if k.Name == "" || seen[k.Name] {
			t.Errorf("knob %d name %q empty or repeated", i, k.Name)
		}
		seen[k.Name] = true
		if len(k.Values) == 0 {
			t.Errorf("knob %q has no values", k.Name)
		}
		vals := map[string]bool{}
		for _, v := range k.Values {
			if v == "" || vals[v] {
				t.Errorf("knob %q value %q empty or repeated", k.Name, v)
			}
			vals[v] = true
		}
	}
	if len(metrics) == 0 {
		t.Fatal("no metrics")
	}
	seen = map[string]bool{}
	for _, m := range metrics {
		if m == "" || seen[m] {
			t.Errorf("metric name %q empty or repeated", m)
		}
		seen[m] = true
	}
}

// checkEvaluate evaluates every configuration twice and returns the
// results (nil after a fatal failure).
func checkEvaluate(t reporter, ds envs.DesignSpace, cfgs [][]int) [][]float64 {
	metrics := ds.MetricNames()
	want := make([][]float64, len(cfgs))
	for i, c := range cfgs {
		out := make([]float64, len(metrics))
		if err := ds.Evaluate(slices.Clone(c), out); err != nil {
			t.Fatalf("Evaluate(%v): %v", c, err)
		}
		for j, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("Evaluate(%v): metric %q = %v", c, metrics[j], v)
			}
		}
		again := make([]float64, len(metrics))
		if err := ds.Evaluate(slices.Clone(c), again); err != nil {
			t.Fatalf("second Evaluate(%v): %v", c, err)
		}
		if !slices.Equal(out, again) {
			t.Errorf("Evaluate(%v) not deterministic: %v then %v", c, out, again)
		}
		want[i] = out
	}
	return want
}

func checkBadConfig(t reporter, ds envs.DesignSpace) {
	knobs := ds.Knobs()
	out := make([]float64, len(ds.MetricNames()))
	over := make([]int, len(knobs))
	over[len(knobs)-1] = len(knobs[len(knobs)-1].Values)
	bad := []struct {
		name string
		cfg  []int
	}{
		{"short", make([]int, len(knobs)-1)},
		{"long", make([]int, len(knobs)+1)},
		{"negative", slices.Repeat([]int{-1}, len(knobs))},
		{"out of range", over},
	}
	for _, b := range bad {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s config %v: Evaluate panicked: %v", b.name, b.cfg, r)
				}
			}()
			if err := ds.Evaluate(b.cfg, out); err == nil {
				t.Errorf("%s config %v: Evaluate returned no error", b.name, b.cfg)
			}
		}()
	}
}

func checkConcurrent(t reporter, ds envs.DesignSpace, cfgs [][]int, want [][]float64, goroutines int) {
	nm := len(ds.MetricNames())
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*len(cfgs))
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]float64, nm)
			for j := range cfgs {
				i := (j + g) % len(cfgs) // different orders per goroutine
				if err := ds.Evaluate(slices.Clone(cfgs[i]), out); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(out, want[i]) {
					errs <- fmt.Errorf("concurrent Evaluate(%v) = %v, sequential gave %v", cfgs[i], out, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sampleConfigs returns the first and last configuration and n seeded random
// ones.
func sampleConfigs(knobs []envs.Knob, n int) [][]int {
	first := make([]int, len(knobs))
	last := make([]int, len(knobs))
	for i, k := range knobs {
		last[i] = max(len(k.Values)-1, 0)
	}
	out := [][]int{first, last}
	r := rand.New(rand.NewPCG(2024, 11))
	for range n {
		c := make([]int, len(knobs))
		for i, k := range knobs {
			c[i] = r.IntN(max(len(k.Values), 1))
		}
		out = append(out, c)
	}
	return out
}
