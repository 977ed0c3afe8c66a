package commformer

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/predprey"
)

// randEnv is a benchmark environment of a given size: random observations,
// zero rewards, episodes of 25 steps cut by truncation (with ep > 0:
// episodes of ep steps that terminate, as the revision form's).
type randEnv struct {
	n, obs, acts int
	ep           int
	t            int
	src          rand.PCG
}

func (e *randEnv) len() int {
	if e.ep > 0 {
		return e.ep
	}
	return 25
}

func (e *randEnv) Spec() envs.Spec {
	ag := make([]envs.AgentSpec, e.n)
	for i := range ag {
		ag[i] = envs.AgentSpec{Name: "a", ObsSize: e.obs, NumActions: e.acts}
	}
	return envs.Spec{Name: "rand", Agents: ag, MaxSteps: e.len()}
}

func (e *randEnv) fill(o [][]float32) {
	r := rand.New(&e.src)
	for _, row := range o {
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
	}
}

func (e *randEnv) Reset(seed uint64, o [][]float32) {
	e.src = *rand.NewPCG(seed, 1)
	e.t = 0
	e.fill(o)
}

func (e *randEnv) Step(a []int, o [][]float32, r []float32) envs.StepResult {
	e.t++
	e.fill(o)
	clear(r)
	if e.ep > 0 {
		return envs.StepResult{Terminated: e.t >= e.ep}
	}
	return envs.StepResult{Truncated: e.t >= e.len()}
}

func (e *randEnv) Clone() envs.Env { c := *e; return &c }

// benchCase is one of the reference sizes of issue 4 / spec section 6.
type benchCase struct {
	name        string
	env         envs.Env
	envs, steps int // envs*steps = PPO samples
	actEnvs     int
	embed       int   // embed_dim (0 = the default)
	workers     []int // BenchmarkPPOUpdate's Workers, one sub-benchmark each (nil = 1 only)
}

func benchCases() []benchCase {
	return []benchCase{
		{"predprey", predprey.MustNew(predprey.Easy()), 20, 200, 20, 0, nil},
		{"dram", &randEnv{n: 10, obs: 16, acts: 8}, 32, 32, 32, 0, nil},
		{"agents20", &randEnv{n: 20, obs: 32, acts: 4}, 32, 64, 32, 0, nil},
		// The shapes of configs/recover_planted40.toml (issue 8): 40
		// agents, embed_dim 32, 16 envs x 16 steps; 1 and 2 workers.
		{"agents40", &randEnv{n: 40, obs: 45, acts: 4}, 16, 16, 16, 32, []int{1, 2}},
	}
}

// BenchmarkPPOUpdate: one full-batch PPO gradient step (minibatch fill,
// forward, backward, gradient clipping and Adam) on envs*steps samples with
// the learned graph in its sampling phase (Gumbel top-k, S = 0.4), gate off.
// Cases with several worker counts run one sub-benchmark each
// (workers=W): the fused kernels split their passes over W goroutines, with
// the same results.
func BenchmarkPPOUpdate(b *testing.B) {
	for _, c := range benchCases() {
		if c.workers == nil {
			b.Run(c.name, func(b *testing.B) { benchPPOUpdate(b, c, 1) })
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			for _, w := range c.workers {
				b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchPPOUpdate(b, c, w) })
			}
		})
	}
}

func benchPPOUpdate(b *testing.B, c benchCase, workers int) {
	cfg := DefaultConfig()
	cfg.Envs, cfg.Steps = c.envs, c.steps
	cfg.Epochs = 1
	cfg.Warmup = 0
	cfg.Workers = workers
	if c.embed > 0 {
		cfg.Embed = c.embed
	}
	tr, err := New(c.env, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.rollout(bg); err != nil {
		b.Fatal(err)
	}
	tr.buf.ComputeGAE(0.99, 0.95, tr.vnorm.Denormalize)
	if tr.trainMode() != comm.ModeSample {
		b.Fatalf("mode %v", tr.trainMode())
	}
	if _, err := tr.update(); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	c0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.update(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAct: one acting call (encoder, N autoregressive decoder passes,
// sampling) for the reference's number of environments.
func BenchmarkAct(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Envs, cfg.Steps = c.actEnvs, 1
			cfg.Workers = 1
			tr, err := New(c.env, cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			a, err := tr.actor(c.actEnvs)
			if err != nil {
				b.Fatal(err)
			}
			a.setMode(comm.ModeExact)
			spec := c.env.Spec()
			n := len(spec.Agents)
			obs := make([]float32, c.actEnvs*n*spec.MaxObs())
			r := rand.New(rand.NewPCG(1, 2))
			for i := range obs {
				obs[i] = float32(r.Float64())
			}
			acts := make([]int32, c.actEnvs*n)
			lp := make([]float32, c.actEnvs*n)
			vals := make([]float32, c.actEnvs*n)
			rng := tr.rngs["act"]
			order := make([]int32, n)
			shuffleOrder(order, r)
			b.ReportAllocs()
			c0 := cpuTime()
			b.ResetTimer()
			defer func() { b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op") }()
			for i := 0; i < b.N; i++ {
				if err := a.act(obs, order, nil, false, rng, acts, lp, vals, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkActingPath: the acting path of configs/recover_planted40.toml as of session 11
// (40 agents of 4 actions, 45 observation values, embed_dim 32, k = 2,
// 16 envs x 16 steps, episodes of one step that terminate) at 1 and 2 workers: one
// influence measurement (41 teacher-forced passes over the rollout, dense
// warm-up graph), one rollout on the dense warm-up graph and one on the
// exact top-2 graph, one evaluation of 64 greedy episodes (exact graph).
// cpu-ns/op is the process's CPU time per op (wall time is inflated by
// other load on a shared machine).
func BenchmarkActingPath(b *testing.B) {
	setup := func(b *testing.B, workers, warmup int) *Trainer {
		cfg := DefaultConfig()
		cfg.Embed, cfg.Senders = 32, 2
		cfg.Envs, cfg.Steps = 16, 16
		cfg.Warmup, cfg.AlphaStart = warmup, 0
		if warmup > 0 { // the warm-up graph of alpha_source = influence: dense
			cfg.AlphaSource, cfg.InfluenceEvery, cfg.AlphaSymmetric = "influence", 5, true
		}
		cfg.Workers = workers
		tr, err := New(&randEnv{n: 40, obs: 45, acts: 4, ep: 1}, cfg, 1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.rollout(bg); err != nil {
			b.Fatal(err)
		}
		tr.iter = 1
		return tr
	}
	cases := []struct {
		name   string
		warmup int
		op     func(tr *Trainer) error
	}{
		{"influence", 300, func(tr *Trainer) error { _, err := tr.Influence(); return err }},
		{"rollout_warmup", 300, func(tr *Trainer) error { _, err := tr.rollout(bg); return err }},
		{"rollout_exact", 0, func(tr *Trainer) error { _, err := tr.rollout(bg); return err }},
		{"evaluate64", 300, func(tr *Trainer) error { _, err := tr.Evaluate(bg, 64); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
					tr := setup(b, w, c.warmup)
					if err := c.op(tr); err != nil { // allocate outside the timing
						b.Fatal(err)
					}
					c0 := cpuTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := c.op(tr); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
				})
			}
		})
	}
}

// cpuTime returns the process's user+system CPU time in nanoseconds. The
// machines these benchmarks run on are shared, so wall time (ns/op) is
// inflated by other load; with GOMAXPROCS=1 the CPU time per op is what the
// wall time would be on an idle core.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
