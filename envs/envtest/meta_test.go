package envtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

// recorder is a reporter that records failures; Fatal unwinds with a panic
// caught by run.
type recorder struct {
	failed bool
	msgs   []string
}

type fatal struct{}

func (r *recorder) Error(a ...any)            { r.failed = true; r.msgs = append(r.msgs, fmt.Sprint(a...)) }
func (r *recorder) Errorf(f string, a ...any) { r.Error(fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(a ...any)            { r.Error(a...); panic(fatal{}) }
func (r *recorder) Fatalf(f string, a ...any) { r.Fatal(fmt.Sprintf(f, a...)) }
func (r *recorder) Logf(string, ...any)       {}

func run(check func(reporter)) (r *recorder) {
	r = &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatal); !ok {
				panic(p)
			}
		}
	}()
	check(r)
	return r
}

// walker is a correct environment; the flags switch on one defect each.
type walker struct {
	pos, tgt, t int
	hist        *[]int // shared between clones when leakyClone
	leakyClone  bool
	useGlobal   bool // draws its start from a package-level source
	skipObs     bool // forgets to write obs[0][1]
	noCap       bool // never truncates
}

var global = rand.New(rand.NewPCG(1, 1))

func (w *walker) Spec() envs.Spec {
	return envs.Spec{Name: "walker", MaxSteps: 6, Agents: []envs.AgentSpec{{Name: "w", ObsSize: 2, NumActions: 3}}}
}
func (w *walker) Reset(seed uint64, obs [][]float32) {
	if w.useGlobal {
		seed = global.Uint64()
	}
	p := rand.NewPCG(seed, 0)
	w.pos, w.tgt, w.t = int(p.Uint64()%10), int(p.Uint64()%10), 0
	if w.hist == nil {
		w.hist = new([]int)
	}
	*w.hist = (*w.hist)[:0]
	w.obs(obs)
}
func (w *walker) obs(obs [][]float32) {
	obs[0][0] = float32(w.pos)
	if !w.skipObs {
		obs[0][1] = float32(len(*w.hist))
	}
}
func (w *walker) Step(a []int, obs [][]float32, rew []float32) envs.StepResult {
	w.pos += a[0] - 1
	w.t++
	*w.hist = append(*w.hist, w.pos)
	rew[0] = -float32(max(w.pos-w.tgt, w.tgt-w.pos))
	w.obs(obs)
	done := w.pos == w.tgt
	return envs.StepResult{Terminated: done, Truncated: !done && !w.noCap && w.t >= 6}
}
func (w *walker) Clone() envs.Env {
	c := *w
	if !w.leakyClone && w.hist != nil {
		h := append([]int(nil), *w.hist...)
		c.hist = &h
	}
	return &c
}

func TestChecksPassCorrectEnv(t *testing.T) {
	newEnv := func() envs.Env { return &walker{} }
	o := EnvOptions{Steps: 200}
	for name, c := range map[string]func(reporter){
		"spec":  func(r reporter) { checkSpec(r, newEnv().Spec()) },
		"obs":   func(r reporter) { checkObsFilled(r, newEnv, o) },
		"det":   func(r reporter) { checkDeterministic(r, newEnv, o) },
		"clone": func(r reporter) { checkClone(r, newEnv, o) },
		"trunc": func(r reporter) { checkTruncation(r, newEnv, o) },
		"vec":   func(r reporter) { checkVec(r, newEnv, o) },
	} {
		if r := run(c); r.failed {
			t.Errorf("%s: correct env failed: %v", name, r.msgs)
		}
	}
}

// TestChecksCatchDefects: each deliberately broken environment fails the
// check meant for its defect.
func TestChecksCatchDefects(t *testing.T) {
	o := EnvOptions{Steps: 200}
	cases := []struct {
		name  string
		env   func() envs.Env
		check func(reporter, func() envs.Env, EnvOptions)
		msg   string
	}{
		{"leaky clone", func() envs.Env { return &walker{leakyClone: true} }, checkClone, "clones"},
		{"global source", func() envs.Env { return &walker{useGlobal: true} }, checkDeterministic, "diverged"},
		{"unwritten obs", func() envs.Env { return &walker{skipObs: true} }, checkObsFilled, "unwritten"},
		{"no cap", func() envs.Env { return &walker{noCap: true} }, checkTruncation, "cap"},
	}
	for _, c := range cases {
		r := run(func(rep reporter) { c.check(rep, c.env, o) })
		if !r.failed {
			t.Errorf("%s: not detected", c.name)
		} else if !strings.Contains(strings.Join(r.msgs, " "), c.msg) {
			t.Errorf("%s: detected with unexpected message %v", c.name, r.msgs)
		}
	}
	if r := run(func(rep reporter) {
		checkSpec(rep, envs.Spec{Name: "x", Agents: []envs.AgentSpec{{Name: "a"}, {Name: "a", ObsSize: 1, NumActions: 1}}})
	}); !r.failed || len(r.msgs) < 3 {
		t.Errorf("bad spec: %v", r.msgs)
	}
}

// flakySpace has every defect a design space can have, selectable.
type flakySpace struct {
	panics, noisy bool
	n             int
}

func (f *flakySpace) Name() string { return "flaky" }
func (f *flakySpace) Knobs() []envs.Knob {
	return []envs.Knob{{Name: "a", Values: []string{"x", "y"}}, {Name: "b", Values: []string{"1", "2", "3"}}}
}
func (f *flakySpace) MetricNames() []string { return []string{"m"} }
func (f *flakySpace) Evaluate(cfg []int, out []float64) error {
	if !f.panics && (len(cfg) != 2 || cfg[0] < 0 || cfg[0] > 1 || cfg[1] < 0 || cfg[1] > 2) {
		return fmt.Errorf("bad config %v", cfg)
	}
	out[0] = float64(cfg[0]*3 + cfg[1] + 1)
	if f.noisy {
		f.n++
		out[0] += float64(f.n)
	}
	return nil
}

func TestDesignSpaceChecks(t *testing.T) {
	cfgs := sampleConfigs((&flakySpace{}).Knobs(), 4)
	if r := run(func(rep reporter) { checkEvaluate(rep, &flakySpace{}, cfgs); checkBadConfig(rep, &flakySpace{}) }); r.failed {
		t.Errorf("correct space failed: %v", r.msgs)
	}
	if r := run(func(rep reporter) { checkEvaluate(rep, &flakySpace{noisy: true}, cfgs) }); !r.failed {
		t.Error("non-deterministic Evaluate not detected")
	}
	if r := run(func(rep reporter) { checkBadConfig(rep, &flakySpace{panics: true}) }); !r.failed {
		t.Error("panicking Evaluate not detected")
	}
}
