package predprey

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
)

func bufs(e *Env) ([][]float32, []float32, []int) {
	s := e.Spec()
	obs := make([][]float32, len(s.Agents))
	for i := range obs {
		obs[i] = make([]float32, s.Agents[i].ObsSize)
	}
	return obs, make([]float32, len(s.Agents)), make([]int, len(s.Agents))
}

func TestPresets(t *testing.T) {
	cases := []struct {
		name            string
		agents, obs, na int
		cap             int
	}{
		{"easy", 3, 261, 5, 20}, // 9 cells x (25+4): the reference's 261
		{"medium", 5, 9 * 104, 5, 40},
		{"hard", 10, 9 * 404, 5, 80},
		{"capture", 3, 261, 6, 20},
	}
	for _, c := range cases {
		cfg, err := Preset(c.name)
		if err != nil {
			t.Fatal(err)
		}
		s := MustNew(cfg).Spec()
		if len(s.Agents) != c.agents || s.MaxObs() != c.obs || s.MaxActions() != c.na || s.MaxSteps != c.cap {
			t.Errorf("%s: agents %d obs %d actions %d cap %d, want %d %d %d %d", c.name,
				len(s.Agents), s.MaxObs(), s.MaxActions(), s.MaxSteps, c.agents, c.obs, c.na, c.cap)
		}
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	for _, bad := range []Config{{Dim: 1, Predators: 1, MaxSteps: 1}, {Dim: 2, Predators: 4, MaxSteps: 1},
		{Dim: 5, Predators: 17, MaxSteps: 1}, {Dim: 5, MaxSteps: 1}, {Dim: 5, Predators: 1, Vision: -1, MaxSteps: 1},
		{Dim: 5, Predators: 1}} {
		if _, err := New(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestContract(t *testing.T) {
	for _, name := range PresetNames() {
		cfg, _ := Preset(name)
		t.Run(name, func(t *testing.T) {
			envtest.EnvWith(t, func() envs.Env { return MustNew(cfg) }, envtest.EnvOptions{ZeroAllocStep: true, Steps: 200})
		})
	}
}

// cell returns the D^2+4 vector of window cell (dr, dc) (offsets from the
// agent, each in [-v, v]) of agent i.
func cell(cfg Config, obs [][]float32, i, dr, dc int) []float32 {
	w := 2*cfg.Vision + 1
	k := (dr+cfg.Vision)*w + dc + cfg.Vision
	cs := cfg.CellSize()
	return obs[i][k*cs : (k+1)*cs]
}

// want builds a cell vector: one-hot index (or -1 for outside) and the four
// class channels (capturers, outside, prey, predators).
func want(cfg Config, idx int, classes [4]float32) []float32 {
	v := make([]float32, cfg.CellSize())
	if idx >= 0 {
		v[idx] = 1
	}
	copy(v[cfg.Dim*cfg.Dim:], classes[:])
	return v
}

func eq(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestObservationCells(t *testing.T) {
	cfg := Easy()
	e := MustNew(cfg)
	obs, _, _ := bufs(e)
	// Predator 0 in the top-left corner, predator 1 right next to it,
	// predator 2 on the same cell as predator 1, prey diagonal from 0.
	//   row 0: P0 P1P2 .
	//   row 1: .  prey .
	if err := e.SetPositions([]Pos{{0, 0}, {0, 1}, {0, 1}}, Pos{1, 1}, obs); err != nil {
		t.Fatal(err)
	}
	out := want(cfg, -1, [4]float32{0, 1, 0, 0})
	checks := []struct {
		agent, dr, dc int
		want          []float32
	}{
		{0, -1, -1, out},
		{0, -1, 0, out},
		{0, -1, 1, out},
		{0, 0, -1, out},
		{0, 1, -1, out},
		{0, 0, 0, want(cfg, 0, [4]float32{0, 0, 0, 1})},  // itself at index 0
		{0, 0, 1, want(cfg, 1, [4]float32{0, 0, 0, 2})},  // two predators at (0,1)
		{0, 1, 0, want(cfg, 5, [4]float32{0, 0, 0, 0})},  // (1,0): empty
		{0, 1, 1, want(cfg, 6, [4]float32{0, 0, 1, 0})},  // (1,1): prey
		{1, 1, 0, want(cfg, 6, [4]float32{0, 0, 1, 0})},  // prey below predator 1
		{1, 0, -1, want(cfg, 0, [4]float32{0, 0, 0, 1})}, // predator 0 left of it
		{2, -1, 1, out},
		{2, 1, 1, want(cfg, 7, [4]float32{0, 0, 0, 0})},
	}
	for _, c := range checks {
		if got := cell(cfg, obs, c.agent, c.dr, c.dc); !eq(got, c.want) {
			t.Errorf("agent %d cell (%d,%d) = %v, want %v", c.agent, c.dr, c.dc, got, c.want)
		}
	}
	// Agents 1 and 2 share a cell, so they see the same window.
	if !eq(obs[1], obs[2]) {
		t.Error("co-located predators see different windows")
	}
}

func TestCaptureObservationBlind(t *testing.T) {
	cfg := CaptureEasy()
	e := MustNew(cfg)
	obs, _, _ := bufs(e)
	// Capture agent (index 2) at (4,4) next to the prey at (4,3); predator 0
	// at (3,3) sees both.
	if err := e.SetPositions([]Pos{{3, 3}, {0, 0}, {4, 4}}, Pos{4, 3}, obs); err != nil {
		t.Fatal(err)
	}
	blind := func(idx int) []float32 { return want(cfg, idx, [4]float32{-1, -1, -1, -1}) }
	if got := cell(cfg, obs, 2, 0, -1); !eq(got, blind(23)) {
		t.Errorf("capturer sees prey cell as %v, want position only", got)
	}
	if got := cell(cfg, obs, 2, 1, 1); !eq(got, blind(-1)) {
		t.Errorf("capturer outside cell %v", got)
	}
	if got := cell(cfg, obs, 0, 1, 1); !eq(got, want(cfg, 24, [4]float32{1, 0, 0, 0})) {
		t.Errorf("predator sees capturer cell as %v", got)
	}
	if got := cell(cfg, obs, 0, 1, 0); !eq(got, want(cfg, 23, [4]float32{0, 0, 1, 0})) {
		t.Errorf("predator sees prey cell as %v", got)
	}
}

func TestMovesAndFreeze(t *testing.T) {
	e := MustNew(Config{Dim: 3, Predators: 1, Vision: 0, MaxSteps: 50})
	obs, rew, act := bufs(e)
	_ = e.SetPositions([]Pos{{0, 0}}, Pos{2, 2}, obs)
	step := func(a int) envs.StepResult { act[0] = a; return e.Step(act, obs, rew) }
	for _, c := range []struct {
		a   int
		pos Pos
	}{{Up, Pos{0, 0}}, {Left, Pos{0, 0}}, {Right, Pos{0, 1}}, {Down, Pos{1, 1}}, {Stay, Pos{1, 1}}, {Left, Pos{1, 0}}, {Up, Pos{0, 0}}} {
		if r := step(c.a); r.Done() || rew[0] != StepPenalty {
			t.Fatalf("action %d: done %v reward %v", c.a, r.Done(), rew[0])
		}
		if e.Agent(0) != c.pos {
			t.Fatalf("after action %d at %v, want %v", c.a, e.Agent(0), c.pos)
		}
	}
	// vision 0: the single cell is the agent's own, one-hot (0,0), predator count 1
	if got := obs[0]; got[0] != 1 || got[9+3] != 1 || got[9+2] != 0 {
		t.Fatalf("vision-0 obs %v", got)
	}
}

// greedy is the scripted optimal policy for predators: close the row gap,
// then the column gap; capture agents capture once they stand on the prey.
func greedy(e *Env, act []int) {
	p := e.Prey()
	for i := range act {
		a := e.Agent(i)
		switch {
		case a.Row > p.Row:
			act[i] = Up
		case a.Row < p.Row:
			act[i] = Down
		case a.Col > p.Col:
			act[i] = Left
		case a.Col < p.Col:
			act[i] = Right
		case e.IsCapturer(i):
			act[i] = Capture
		default:
			act[i] = Stay
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestScriptedOptimal: the greedy policy finishes every episode in exactly
// the largest Manhattan distance (plus one capture step for the capture
// agent), which is the minimum possible, and rewards follow the rules.
func TestScriptedOptimal(t *testing.T) {
	for _, name := range PresetNames() {
		cfg, _ := Preset(name)
		e := MustNew(cfg)
		obs, rew, act := bufs(e)
		for ep := range uint64(200) {
			e.Reset(ep, obs)
			need := 0
			for i := range e.n {
				d := abs(e.Agent(i).Row-e.Prey().Row) + abs(e.Agent(i).Col-e.Prey().Col)
				if e.IsCapturer(i) {
					d++
				}
				need = max(need, d)
			}
			var total float32
			for step := 1; ; step++ {
				greedy(e, act)
				r := e.Step(act, obs, rew)
				for i, x := range rew {
					total += x
					wantR := float32(StepPenalty)
					if e.Reached(i) && (!e.IsCapturer(i) || e.Captured(i)) {
						wantR = 0
					}
					if x != wantR {
						t.Fatalf("%s ep %d step %d agent %d reward %v want %v", name, ep, step, i, x, wantR)
					}
				}
				if r.Truncated {
					if need <= cfg.MaxSteps {
						t.Fatalf("%s ep %d: truncated but reachable in %d", name, ep, need)
					}
					break
				}
				if r.Terminated {
					if step != need {
						t.Fatalf("%s ep %d finished in %d steps, optimum %d", name, ep, step, need)
					}
					break
				}
			}
		}
	}
}

func TestCaptureNeedsExtraStep(t *testing.T) {
	e := MustNew(CaptureEasy())
	obs, rew, act := bufs(e)
	_ = e.SetPositions([]Pos{{2, 1}, {1, 2}, {2, 3}}, Pos{2, 2}, obs)
	// Capturing away from the prey does nothing.
	act[0], act[1], act[2] = Right, Down, Capture
	r := e.Step(act, obs, rew)
	if r.Done() || e.Captured(2) || rew[0] != 0 || rew[1] != 0 || rew[2] != StepPenalty {
		t.Fatalf("step 1: done %v captured %v rewards %v", r.Done(), e.Captured(2), rew)
	}
	// Arriving on the prey is not capturing; the capturer still pays.
	act[2] = Left
	if r = e.Step(act, obs, rew); r.Done() || !e.Reached(2) || rew[2] != StepPenalty {
		t.Fatalf("step 2: done %v reached %v rewards %v", r.Done(), e.Reached(2), rew)
	}
	// Moving away once there is impossible (frozen).
	act[2] = Up
	if r = e.Step(act, obs, rew); r.Done() || e.Agent(2) != (Pos{2, 2}) {
		t.Fatalf("step 3: capturer moved to %v", e.Agent(2))
	}
	act[2] = Capture
	if r = e.Step(act, obs, rew); !r.Terminated || rew[2] != 0 || e.Steps() != 4 {
		t.Fatalf("step 4: %+v rewards %v", r, rew)
	}
}

// TestRandomWalkMean checks the dynamics against a Markov chain solved by
// hand. One predator on a 2x2 grid under the uniform random policy: from a
// cell next to the prey it reaches it w.p. 1/5, moves to the far corner
// w.p. 1/5 and stays w.p. 3/5; from the far corner it moves next to the prey
// w.p. 2/5. Hence E_adj = 7.5, E_far = 10, and with the start uniform over
// the three other cells (two adjacent, one far) E = 25/3.
func TestRandomWalkMean(t *testing.T) {
	e := MustNew(Config{Dim: 2, Predators: 1, Vision: 1, MaxSteps: 1000})
	obs, rew, act := bufs(e)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	var sum, sq float64
	far := 0
	for ep := range uint64(n) {
		e.Reset(ep, obs)
		a, p := e.Agent(0), e.Prey()
		if abs(a.Row-p.Row)+abs(a.Col-p.Col) == 2 {
			far++
		}
		steps := 0
		for {
			act[0] = r.IntN(5)
			steps++
			if res := e.Step(act, obs, rew); res.Done() {
				if !res.Terminated {
					t.Fatal("hit the 1000-step cap")
				}
				break
			}
		}
		sum += float64(steps)
		sq += float64(steps * steps)
	}
	mean := sum / n
	se := math.Sqrt((sq/n - mean*mean) / n)
	if math.Abs(mean-25.0/3) > 4*se {
		t.Errorf("mean steps %.3f, want 25/3 = 8.333 (se %.3f)", mean, se)
	}
	// Start cells: the far corner is one of the 3 free cells.
	if f := float64(far) / n; math.Abs(f-1.0/3) > 0.02 {
		t.Errorf("far-start fraction %.3f, want 1/3", f)
	}
}

// TestStartsUniform: prey and predator starts are distinct and each cell
// is equally likely (chi-square with 24 degrees of freedom; 60 is far past
// the 0.9999 quantile, about 52.6).
func TestStartsUniform(t *testing.T) {
	e := MustNew(Easy())
	obs, _, _ := bufs(e)
	var prey, pred [25]float64
	const n = 10000
	for ep := range uint64(n) {
		e.Reset(ep, obs)
		seen := map[Pos]bool{e.Prey(): true}
		prey[e.Prey().Row*5+e.Prey().Col]++
		for i := range 3 {
			a := e.Agent(i)
			if seen[a] {
				t.Fatalf("episode %d: start cells not distinct", ep)
			}
			seen[a] = true
			pred[a.Row*5+a.Col]++
		}
	}
	chi := func(c []float64, total float64) float64 {
		x := 0.0
		for _, o := range c {
			ex := total / 25
			x += (o - ex) * (o - ex) / ex
		}
		return x
	}
	if x := chi(prey[:], n); x > 60 {
		t.Errorf("prey start chi2 %.1f", x)
	}
	if x := chi(pred[:], 3*n); x > 60 {
		t.Errorf("predator start chi2 %.1f", x)
	}
}

func TestStepAfterDonePanics(t *testing.T) {
	e := MustNew(Easy())
	obs, rew, act := bufs(e)
	defer func() {
		if recover() == nil {
			t.Error("Step before Reset did not panic")
		}
	}()
	e.Step(act, obs, rew)
}

func BenchmarkStep(b *testing.B) {
	for _, name := range []string{"easy", "hard"} {
		b.Run(name, func(b *testing.B) {
			cfg, _ := Preset(name)
			e := MustNew(cfg)
			obs, rew, act := bufs(e)
			e.Reset(1, obs)
			r := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			ep := uint64(1)
			for b.Loop() {
				for i := range act {
					act[i] = r.IntN(5)
				}
				if e.Step(act, obs, rew).Done() {
					ep++
					e.Reset(ep, obs)
				}
			}
		})
	}
}

// BenchmarkVec: 20 copies of easy (the reference's rollout threads).
func BenchmarkVec(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run([]string{"", "workers=1", "workers=2"}[w], func(b *testing.B) {
			v := envs.NewVec(MustNew(Easy()), 20, envs.VecConfig{Seed: 1, Workers: w})
			defer v.Close()
			buf := v.NewBuffers()
			v.Reset(buf)
			r := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			for b.Loop() {
				for i := range buf.Actions {
					buf.Actions[i] = r.IntN(5)
				}
				v.Step(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20), "ns/envstep")
		})
	}
}

// BenchmarkVecHard: 20 copies of hard, where per-copy work (about 2 us)
// dwarfs the worker hand-off.
func BenchmarkVecHard(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run([]string{"", "workers=1", "workers=2"}[w], func(b *testing.B) {
			v := envs.NewVec(MustNew(Hard()), 20, envs.VecConfig{Seed: 1, Workers: w})
			defer v.Close()
			buf := v.NewBuffers()
			v.Reset(buf)
			r := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			for b.Loop() {
				for i := range buf.Actions {
					buf.Actions[i] = r.IntN(5)
				}
				v.Step(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20), "ns/envstep")
		})
	}
}
