package commformer

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

// payEnv is randEnv with a reward that depends on the actions (agent i is
// paid when its action equals i mod acts), so that the policy gradient is
// not zero.
type payEnv struct{ randEnv }

func (e *payEnv) Step(a []int, o [][]float32, r []float32) envs.StepResult {
	res := e.randEnv.Step(a, o, r)
	for i, ai := range a {
		if ai == i%e.acts {
			r[i] = 1
		}
	}
	return res
}

func (e *payEnv) Clone() envs.Env { c := *e; return &c }

// TestWorkersBitIdentical: Workers = 1 and Workers = 3 (environments and
// the fused kernels of the update split over 3 goroutines) give the same
// metrics and parameters bit for bit over iterations of the dense warm-up
// and of the sampled learned graph with the gate (mask and gate gradients,
// relation terms), at a size where the passes of the update are split
// (attention B*N*W*D = 128*10*10*32, LayerNorm and GELU 1,280 rows of 32:
// above each kernel's serial threshold).
func TestWorkersBitIdentical(t *testing.T) {
	run := func(workers int) ([]float64, []map[string]float64) {
		cfg := DefaultConfig()
		cfg.Embed = 32
		cfg.Envs, cfg.Steps = 8, 16 // 128 samples of 10 agents
		cfg.Epochs = 2
		cfg.Minibatches = 1
		cfg.Warmup = 1
		cfg.Gate = true
		cfg.Workers = workers
		tr, err := New(&payEnv{randEnv{n: 10, obs: 12, acts: 3}}, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		var ms []map[string]float64
		for i := 0; i < 3; i++ {
			m, err := tr.Iterate(bg)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return paramValues(tr), ms
	}
	p1, m1 := run(1)
	p3, m3 := run(3)
	if !sameBits(p1, p3) {
		t.Error("Workers 1 and 3: parameters differ")
	}
	for i := range m1 {
		for _, k := range slices.Sorted(maps.Keys(m1[i])) {
			if k == "sps" || strings.HasSuffix(k, "_seconds") {
				continue // wall clock
			}
			a, b := m1[i][k], m3[i][k]
			if math.Float64bits(a) != math.Float64bits(b) && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Errorf("iteration %d: metric %s = %v with 1 worker, %v with 3", i+1, k, a, b)
			}
		}
		if len(m1[i]) != len(m3[i]) {
			t.Errorf("iteration %d: %d metrics with 1 worker, %d with 3", i+1, len(m1[i]), len(m3[i]))
		}
	}
}

// actingRun is one trainer's acting-path results: the rollout buffers of
// every iteration, the acting gates, the next value of the acting stream,
// the influence matrices (sender and edge form), the evaluation metrics and
// the parameters.
type actingRun struct {
	bufs  [][]float64
	draw  uint64
	infl  [][]float64
	evals []map[string]float64
	ps    []float64
}

func runActing(t *testing.T, env envs.Env, cfg Config, iters int, influence bool) actingRun {
	t.Helper()
	tr, err := New(env, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	var r actingRun
	for it := 0; it < iters; it++ {
		if _, err := tr.Iterate(bg); err != nil {
			t.Fatal(err)
		}
		b := tr.buf
		var v []float64
		for _, x := range [][]float32{b.Obs, b.LogProbs, b.Values, b.Rewards, b.BootValues, b.LastValues} {
			for _, y := range x {
				v = append(v, float64(y))
			}
		}
		for _, a := range b.Actions {
			v = append(v, float64(a))
		}
		v = append(v, tr.gates...)
		r.bufs = append(r.bufs, v)
		if influence {
			s, err := tr.Influence()
			if err != nil {
				t.Fatal(err)
			}
			e, err := tr.InfluenceEdges()
			if err != nil {
				t.Fatal(err)
			}
			r.infl = append(r.infl, s, e)
		}
		m, err := tr.Evaluate(bg, 7)
		if err != nil {
			t.Fatal(err)
		}
		r.evals = append(r.evals, m)
	}
	r.draw = tr.rngs["act"].Uint64()
	r.ps = paramValues(tr)
	return r
}

func (r actingRun) compare(t *testing.T, name string, o actingRun) {
	t.Helper()
	for i := range r.bufs {
		if !sameBits(r.bufs[i], o.bufs[i]) {
			t.Errorf("%s: iteration %d: rollout buffers differ", name, i+1)
		}
	}
	for i := range r.infl {
		if !sameBits(r.infl[i], o.infl[i]) {
			t.Errorf("%s: influence matrix %d differs: %v vs %v", name, i, r.infl[i], o.infl[i])
		}
	}
	for i := range r.evals {
		for _, k := range slices.Sorted(maps.Keys(r.evals[i])) {
			a, b := r.evals[i][k], o.evals[i][k]
			if math.Float64bits(a) != math.Float64bits(b) && !(math.IsNaN(a) && math.IsNaN(b)) {
				t.Errorf("%s: evaluation %d: %s = %v vs %v", name, i+1, k, a, b)
			}
		}
	}
	if r.draw != o.draw {
		t.Errorf("%s: the acting stream ends in another state", name)
	}
	if !sameBits(r.ps, o.ps) {
		t.Errorf("%s: parameters differ", name)
	}
}

// TestWorkersActingBitIdentical: the acting path on 3 goroutines (rows of
// the rollout and evaluation batches in blocks of 2-3 samples, the
// influence probes spread over 3 actors) gives the same rollout buffers
// (observations, actions, log-probabilities, values, bootstrap values,
// acting gates), the same acting stream afterwards, the same influence
// matrices (sender and edge form), evaluation metrics and parameters as
// one goroutine, bit for bit: on the revision task (forced actions, so
// some rows draw nothing) and with sampled score-function gates (gate
// draws before the action draws).
func TestWorkersActingBitIdentical(t *testing.T) {
	t.Run("revision", func(t *testing.T) {
		cfg := tinyInfluenceConfig()
		cfg.Envs, cfg.Steps, cfg.Epochs = 7, 4, 1
		cfg.Warmup, cfg.AlphaStart = 2, 0
		cfg.Workers = 1
		one := runActing(t, tinyRevisionEnv(t, 2), cfg, 3, true)
		cfg.Workers = 3
		three := runActing(t, tinyRevisionEnv(t, 2), cfg, 3, true)
		one.compare(t, "revision", three)
		if len(one.infl) == 0 || slices.Max(one.infl[0]) <= 0 {
			t.Fatalf("no influence measured: %v", one.infl)
		}
	})
	t.Run("score gates", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Embed = 32
		cfg.Envs, cfg.Steps, cfg.Epochs = 7, 30, 1 // episodes of 25 steps: bootstrap values
		cfg.Warmup = 1
		cfg.Gate, cfg.GateEstimator, cfg.GateStart = true, "score", 0
		cfg.Workers = 1
		one := runActing(t, &payEnv{randEnv{n: 6, obs: 5, acts: 3}}, cfg, 2, false)
		cfg.Workers = 3
		three := runActing(t, &payEnv{randEnv{n: 6, obs: 5, acts: 3}}, cfg, 2, false)
		one.compare(t, "score gates", three)
	})
}
