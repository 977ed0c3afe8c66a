package envs

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// lineEnv is a tiny test environment: each agent walks on a line of 8 cells
// towards a seeded random target (actions: 0 left, 1 stay, 2 right). The
// episode terminates when every agent stands on its target and is truncated
// after maxSteps. Agent i's observation has 2+i entries so the runner's
// padding of heterogeneous sizes is exercised.
type lineEnv struct {
	n, maxSteps int
	pos, tgt    [4]int
	t           int
	done        bool
}

func (e *lineEnv) Spec() Spec {
	s := Spec{Name: "line", MaxSteps: e.maxSteps}
	for i := range e.n {
		s.Agents = append(s.Agents, AgentSpec{Name: string(rune('a' + i)), ObsSize: 2 + i, NumActions: 3})
	}
	return s
}

func (e *lineEnv) Reset(seed uint64, obs [][]float32) {
	r := rand.NewPCG(seed, 1)
	for i := range e.n {
		e.pos[i], e.tgt[i] = int(r.Uint64()%8), int(r.Uint64()%8)
	}
	e.t, e.done = 0, false
	e.write(obs)
}

func (e *lineEnv) write(obs [][]float32) {
	for i := range e.n {
		for j := range obs[i] {
			obs[i][j] = float32(e.t) / float32(e.maxSteps)
		}
		obs[i][0], obs[i][1] = float32(e.pos[i]), float32(e.tgt[i])
	}
}

func (e *lineEnv) Step(actions []int, obs [][]float32, rewards []float32) StepResult {
	if e.done {
		panic("lineEnv: Step after done")
	}
	all := true
	for i := range e.n {
		e.pos[i] = min(max(e.pos[i]+actions[i]-1, 0), 7)
		d := e.pos[i] - e.tgt[i]
		rewards[i] = -float32(max(d, -d))
		all = all && d == 0
	}
	e.t++
	e.write(obs)
	r := StepResult{Terminated: all, Truncated: !all && e.t >= e.maxSteps}
	e.done = r.Done()
	return r
}

func (e *lineEnv) Clone() Env { c := *e; return &c }

func runVec(t *testing.T, workers, k, steps int, seed uint64) (obs, term, rew []float32, res []StepResult) {
	v := NewVec(&lineEnv{n: 3, maxSteps: 6}, k, VecConfig{Seed: seed, Workers: workers})
	defer v.Close()
	b := v.NewBuffers()
	v.Reset(b)
	obs = slices.Clone(b.Obs)
	pol := rand.New(rand.NewPCG(seed, 99))
	for range steps {
		for i := range b.Actions {
			b.Actions[i] = pol.IntN(3)
		}
		v.Step(b)
		obs = append(obs, b.Obs...)
		term = append(term, b.TerminalObs...)
		rew = append(rew, b.Rewards...)
		res = append(res, b.Results...)
	}
	return
}

func TestVecDeterministicAcrossWorkers(t *testing.T) {
	o1, t1, r1, s1 := runVec(t, 1, 7, 40, 5)
	for _, w := range []int{2, 3, 7} {
		o, tt, r, s := runVec(t, w, 7, 40, 5)
		if !slices.Equal(o, o1) || !slices.Equal(tt, t1) || !slices.Equal(r, r1) || !slices.EqualFunc(s, s1, func(a, b StepResult) bool {
			return a.Terminated == b.Terminated && a.Truncated == b.Truncated
		}) {
			t.Fatalf("workers=%d differs from workers=1", w)
		}
	}
	o2, _, _, _ := runVec(t, 2, 7, 40, 6)
	if slices.Equal(o2, o1) {
		t.Fatal("different base seeds gave identical observations")
	}
}

// TestVecRefusesNegativeWorkers: Workers < 0 panics like k <= 0 (0 means
// GOMAXPROCS; a negative count means nothing).
func TestVecRefusesNegativeWorkers(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("NewVec with Workers -1 did not panic")
		}
	}()
	NewVec(&lineEnv{n: 3, maxSteps: 6}, 2, VecConfig{Workers: -1})
}

// TestVecMatchesSerial checks that every copy behaves exactly like a single
// environment reset with EpisodeSeed(seed, k, e), including the terminal
// observation and the auto-reset.
func TestVecMatchesSerial(t *testing.T) {
	const k, steps, seed = 4, 30, 11
	v := NewVec(&lineEnv{n: 3, maxSteps: 6}, k, VecConfig{Seed: seed, Workers: 2})
	defer v.Close()
	b := v.NewBuffers()
	v.Reset(b)
	stride := v.Stride()
	if stride != 4 {
		t.Fatalf("stride %d, want 4", stride)
	}
	ref := make([]*lineEnv, k)
	refObs := make([][][]float32, k)
	for j := range ref {
		ref[j] = &lineEnv{n: 3, maxSteps: 6}
		refObs[j] = [][]float32{make([]float32, 2), make([]float32, 3), make([]float32, 4)}
		ref[j].Reset(EpisodeSeed(seed, j, 0), refObs[j])
	}
	same := func(flat []float32, j int) bool {
		for i := range 3 {
			row := flat[(j*3+i)*stride : (j*3+i+1)*stride]
			if !slices.Equal(row[:2+i], refObs[j][i]) {
				return false
			}
			for _, x := range row[2+i:] {
				if x != 0 {
					return false
				}
			}
		}
		return true
	}
	for j := range k {
		if !same(b.Obs, j) {
			t.Fatalf("reset obs of copy %d differs", j)
		}
	}
	pol := rand.New(rand.NewPCG(3, 3))
	episodes := make([]uint64, k)
	sawTrunc, sawTerm := false, false
	rew := make([]float32, 3)
	for range steps {
		for i := range b.Actions {
			b.Actions[i] = pol.IntN(3)
		}
		v.Step(b)
		for j := range k {
			r := ref[j].Step(b.Actions[j*3:(j+1)*3], refObs[j], rew)
			if r.Terminated != b.Results[j].Terminated || r.Truncated != b.Results[j].Truncated {
				t.Fatalf("copy %d flags differ", j)
			}
			if !slices.Equal(rew, b.Rewards[j*3:(j+1)*3]) {
				t.Fatalf("copy %d rewards differ", j)
			}
			if r.Done() {
				sawTrunc = sawTrunc || r.Truncated
				sawTerm = sawTerm || r.Terminated
				if !same(b.TerminalObs, j) {
					t.Fatalf("copy %d terminal obs differs", j)
				}
				st, ok := v.LastEpisode(j)
				if !ok || st.Terminated != r.Terminated || st.Length != ref[j].t {
					t.Fatalf("copy %d episode stats %+v (ok %v), want length %d", j, st, ok, ref[j].t)
				}
				episodes[j]++
				ref[j].Reset(EpisodeSeed(seed, j, episodes[j]), refObs[j])
			}
			if !same(b.Obs, j) {
				t.Fatalf("copy %d obs differs", j)
			}
			if v.Episode(j) != episodes[j] {
				t.Fatalf("copy %d episode %d, want %d", j, v.Episode(j), episodes[j])
			}
		}
	}
	if !sawTrunc {
		t.Error("no truncation seen; test does not exercise bootstrapping")
	}
	_ = sawTerm
}

func TestDeriveSeed(t *testing.T) {
	if DeriveSeed(1, 2, 3) != DeriveSeed(1, 2, 3) {
		t.Fatal("not deterministic")
	}
	seen := map[uint64]bool{}
	for _, s := range []uint64{DeriveSeed(1), DeriveSeed(1, 2, 3), DeriveSeed(1, 3, 2), DeriveSeed(2, 2, 3), DeriveSeed(1, 2), DeriveSeed(1, 2, 3, 0)} {
		if seen[s] {
			t.Fatal("collision among distinct paths")
		}
		seen[s] = true
	}
}

func TestVecStepAllocs(t *testing.T) {
	v := NewVec(&lineEnv{n: 3, maxSteps: 6}, 8, VecConfig{Seed: 1, Workers: 2})
	defer v.Close()
	b := v.NewBuffers()
	v.Reset(b)
	if a := testing.AllocsPerRun(100, func() { v.Step(b) }); a != 0 {
		t.Errorf("Step allocates %v per call", a)
	}
}

func BenchmarkVecStep(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			v := NewVec(&lineEnv{n: 3, maxSteps: 20}, 32, VecConfig{Seed: 1, Workers: w})
			defer v.Close()
			buf := v.NewBuffers()
			v.Reset(buf)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				for j := range buf.Actions {
					buf.Actions[j] = (i + j) % 3
				}
				v.Step(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/envstep")
		})
	}
}

// resetCounter wraps lineEnv and counts its resets through a shared counter.
type resetCounter struct {
	lineEnv
	resets *int
}

func (e *resetCounter) Reset(seed uint64, obs [][]float32) {
	*e.resets++
	e.lineEnv.Reset(seed, obs)
}

func (e *resetCounter) Clone() Env { c := *e; return &c }

// TestVecStepFinal: StepFinal gives the results and rewards of Step, does
// not reset the copies that finished (their observation rows keep the
// final observation, equal to TerminalObs) and does reset nothing else.
func TestVecStepFinal(t *testing.T) {
	run := func(final bool) (rew []float32, res []StepResult, obs, term []float32, resets int) {
		n := 0
		v := NewVec(&resetCounter{lineEnv: lineEnv{n: 3, maxSteps: 2}, resets: &n}, 5, VecConfig{Seed: 3, Workers: 1})
		defer v.Close()
		b := v.NewBuffers()
		v.Reset(b)
		for s := range 4 { // maxSteps 2: every copy finishes at steps 1 and 3 at the latest
			for i := range b.Actions {
				b.Actions[i] = (s + i) % 3
			}
			if final && s == 3 {
				v.StepFinal(b)
			} else {
				v.Step(b)
			}
		}
		return slices.Clone(b.Rewards), slices.Clone(b.Results), slices.Clone(b.Obs), slices.Clone(b.TerminalObs), n
	}
	r0, s0, _, _, n0 := run(false)
	r1, s1, o1, t1, n1 := run(true)
	if !slices.Equal(r0, r1) || !slices.EqualFunc(s0, s1, func(a, b StepResult) bool {
		return a.Terminated == b.Terminated && a.Truncated == b.Truncated
	}) {
		t.Fatal("StepFinal's rewards or results differ from Step's")
	}
	for k, r := range s1 {
		if !r.Done() {
			t.Fatalf("copy %d not finished at the last step (test setup)", k)
		}
	}
	if n0-n1 != 5 {
		t.Fatalf("resets: %d with Step, %d with StepFinal: want 5 fewer (one per finished copy)", n0, n1)
	}
	if !slices.Equal(o1, t1) {
		t.Fatal("after StepFinal the finished copies' observations are not their final ones")
	}
}
