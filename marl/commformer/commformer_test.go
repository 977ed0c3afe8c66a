package commformer

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/marl"
	"github.com/commgraph/commgraph/marl/contract"
	"gorgonia.org/tensor"
)

var bg = context.Background()

func tinyConfig() Config {
	c := DefaultConfig()
	c.Embed = 16
	c.Envs = 4
	c.Steps = 8
	c.Epochs = 5
	c.Warmup = 1
	c.Workers = 1
	return c
}

// paramValues returns a copy of every model and graph parameter as float64.
func paramValues(tr *Trainer) []float64 {
	return flatValues(slices.Concat(tr.Params().List(), tr.AlphaParams().List())...)
}

// flatValues returns a copy of the parameters' values as float64, in order.
func flatValues(ps ...*attention.Param) []float64 {
	var out []float64
	for _, p := range ps {
		switch d := p.Value.Data().(type) {
		case []float32:
			for _, v := range d {
				out = append(out, float64(v))
			}
		case []float64:
			out = append(out, d...)
		}
	}
	return out
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func iterate(t *testing.T, tr *Trainer, n int) marl.Metrics {
	t.Helper()
	var m marl.Metrics
	for i := 0; i < n; i++ {
		var err error
		if m, err = tr.Iterate(bg); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// gradCheck compares the analytic gradient of the full PPO loss (policy,
// clipped Huber value, entropy, optional gate cost) of a tiny float64 model
// with central differences, for a few entries of every parameter that
// check(name) accepts.
func gradCheck(t *testing.T, cfg Config, mode comm.Mode, check func(name string) bool, alpha bool) {
	t.Helper()
	tr, err := newTrainer(&signalEnv{Len: 3}, cfg, 7, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	// Move away from the initial point so that ratios differ from 1 and
	// alpha is not tied.
	if _, err := tr.Iterate(bg); err != nil {
		t.Fatal(err)
	}
	if alpha {
		a := tr.Graph().Alpha.Value.Data().([]float64)
		r := rand.New(rand.NewPCG(1, 1))
		for i := range a {
			a[i] = 0.5 + r.Float64()
		}
	}
	if _, err := tr.rollout(bg); err != nil {
		t.Fatal(err)
	}
	b := tr.buf
	b.ComputeGAE(0.99, 0.95, tr.vnorm.Denormalize)
	// Perturb the parameters after the rollout so the ratios are not 1.
	pr := rand.New(rand.NewPCG(2, 2))
	for _, p := range tr.Params().List() {
		d := p.Value.Data().([]float64)
		for i := range d {
			d[i] += 0.02 * pr.NormFloat64()
		}
	}
	adv := make([]float32, len(b.Advantages))
	marl.NormalizeAdvantages(b.Advantages, adv)
	B := b.Len()
	tg, err := tr.trainGraph(B)
	if err != nil {
		t.Fatal(err)
	}
	tg.adj.SetMode(mode)
	// The attention pass of an update's step: sender lists unless alpha
	// learns (so the model-only checks cover the sparse pass of model
	// steps, and the alpha checks the dense pass).
	tr.m.setSparse(tg, mode, alpha)
	n := tr.m.N
	noise := make([]float64, n*n)
	for i := range noise {
		noise[i] = 0.3 * pr.NormFloat64()
	}
	if err := tg.adj.SetNoise(noise); err != nil {
		t.Fatal(err)
	}
	if tr.m.gate.Enabled() {
		u := make([]float64, B*n)
		for i := range u {
			u[i] = 0.05 + 0.9*pr.Float64()
		}
		if err := tg.gate.SetUniform(u); err != nil {
			t.Fatal(err)
		}
	}
	idx := make([]int, B)
	for i := range idx {
		idx[i] = i
	}
	for st := 0; st*n < len(tr.orders); st++ { // a different decoding order per rollout step
		shuffleOrder(tr.orders[st*n:(st+1)*n], pr)
	}
	for i := range tr.forced { // some forced actions (agent 0 of every other sample)
		tr.forced[i] = -1
		if i%(2*n) == 0 {
			tr.forced[i] = 1
		}
	}
	tr.batchFill(B).fill(tg, b, idx, adv, tr.vnorm, tr.orders, tr.forced, tr.cfg.Envs)
	if tr.gates != nil { // score-function gate: replay the rollout's gates
		if err := tg.gate.SetGates(tr.batchFill(B).replayGates(idx, tr.gates)); err != nil {
			t.Fatal(err)
		}
	}
	run := func() float64 {
		defer tg.vm.Reset()
		if err := tg.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return scalarOf(tg.rTotal)
	}
	run()
	if err := tg.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	sets := []*attention.Params{tr.Params()}
	if alpha {
		sets = append(sets, tr.AlphaParams())
	}
	var grads [][]float64
	var params []*attention.Param
	for _, ps := range sets {
		gs, err := attention.Grads(tg.binder, ps)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range gs {
			params = append(params, ps.List()[i])
			if g == nil {
				grads = append(grads, nil)
				continue
			}
			grads = append(grads, append([]float64(nil), g.Data().([]float64)...))
		}
	}
	tg.vm.Reset()
	const h = 1e-6
	checked := 0
	for k, p := range params {
		if !check(p.Name) {
			continue
		}
		if grads[k] == nil {
			t.Errorf("%s: no gradient", p.Name)
			continue
		}
		w := p.Value.Data().([]float64)
		for _, j := range []int{0, len(w) / 2, len(w) - 1} {
			w0 := w[j]
			w[j] = w0 + h
			lp := run()
			w[j] = w0 - h
			lm := run()
			w[j] = w0
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - grads[k][j]); d > 1e-6+2e-4*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.9g, numeric %.9g", p.Name, j, grads[k][j], num)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("only %d entries checked", checked)
	}
}

// TestGradCheckPPOLossWarmup checks every parameter and alpha in warm-up
// (A = alpha: a smooth function of alpha, so the true gradient exists).
func TestGradCheckPPOLossWarmup(t *testing.T) {
	cfg := tinyConfig()
	cfg.Embed = 8
	cfg.Heads = 2
	cfg.Warmup = 100
	cfg.Epochs = 1
	cfg.Envs, cfg.Steps = 2, 3
	gradCheck(t, cfg, comm.ModeWarmup, func(string) bool { return true }, true)
}

// TestGradCheckPPOLossSampledGated checks the model parameters under a
// sampled (fixed-noise) graph with the gate and its cost on. The gate's
// forward is a hard threshold (its straight-through gradient is checked in
// comm), so the parameters upstream of it (observation embedding, gate MLP)
// are left out.
func TestGradCheckPPOLossSampledGated(t *testing.T) {
	cfg := tinyConfig()
	cfg.Embed = 8
	cfg.Warmup = 0
	cfg.Epochs = 1
	cfg.Sparsity = 0.5
	cfg.Gate = true
	cfg.GateEstimator = "straight_through"
	cfg.GateBias = 0.5
	cfg.GateLambda = 0.1
	cfg.Envs, cfg.Steps = 2, 3
	gradCheck(t, cfg, comm.ModeSample, func(name string) bool {
		return !strings.HasPrefix(name, "obs.") && !strings.HasPrefix(name, "gate")
	}, false)
}

// TestGradCheckPPOLossScoreGate checks every parameter, the observation
// embedding and the gate MLP included, with a score-function gate: the
// replayed gates are constants, so the loss (the joint gate-and-action
// ratio, the cost on the open probability, the gate entropy bonus) is
// smooth in all of them.
func TestGradCheckPPOLossScoreGate(t *testing.T) {
	cfg := tinyConfig()
	cfg.Embed = 8
	cfg.Warmup = 0
	cfg.Epochs = 1
	cfg.Sparsity = 0.5
	cfg.Gate = true
	cfg.GateEstimator = "score"
	cfg.GateBias = 0
	cfg.GateLambda = 0.1
	cfg.GateEntropy = 0.05
	cfg.Envs, cfg.Steps = 2, 3
	gradCheck(t, cfg, comm.ModeSample, func(string) bool { return true }, false)
}

// distOf runs greedy acting on one sample and returns every agent's action
// log-probabilities and values.
func distOf(t *testing.T, tr *Trainer, obs []float32) ([]float32, []float32) {
	t.Helper()
	a, err := tr.actor(1)
	if err != nil {
		t.Fatal(err)
	}
	a.setMode(comm.ModeExact)
	n := tr.m.N
	acts := make([]int32, n)
	vals := make([]float32, n)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(n - 1 - i) // reversed: not the index order
	}
	if err := a.act(obs, order, nil, true, nil, acts, nil, vals, nil); err != nil {
		t.Fatal(err)
	}
	switch p := a.(type) {
	case *actor:
		return append([]float32(nil), p.dist...), vals
	case *fastActor:
		return append([]float32(nil), p.dist...), vals
	}
	t.Fatalf("unknown policy %T", a)
	return nil, nil
}

// TestFastActingMatchesGraph: the plain float32 acting path computes the
// same distributions, values and gates as the gorgonia graphs, with the
// gate on, heterogeneous action counts, two blocks and a sparse graph.
//
// With a score-function gate both paths sample the same gates from the same
// draws and add the same gate log-probabilities.
func TestFastActingMatchesGraph(t *testing.T) {
	for _, est := range []string{"straight_through", "score"} {
		t.Run(est, func(t *testing.T) { testFastActingMatchesGraph(t, est) })
	}
}

func testFastActingMatchesGraph(t *testing.T, est string) {
	cfg := tinyConfig()
	cfg.Gate = true
	cfg.GateEstimator = est
	cfg.GateBias = 0.1
	cfg.Blocks = 2
	cfg.Heads = 2
	cfg.Sparsity = 0.5
	tr, err := New(&signalEnv{Len: 3}, cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	iterate(t, tr, 2)
	B, n := 6, tr.m.N
	obs := make([]float32, B*n*tr.m.O)
	r := rand.New(rand.NewPCG(4, 4))
	for i := range obs {
		obs[i] = float32(r.NormFloat64())
	}
	ga, err := tr.m.newActor(B)
	if err != nil {
		t.Fatal(err)
	}
	fa := tr.m.newFastActor(B)
	for _, mode := range []comm.Mode{comm.ModeWarmup, comm.ModeExact} {
		ga.setMode(mode)
		fa.setMode(mode)
		type out struct {
			acts  []int32
			lp, v []float32
			g     []float64
		}
		run := func(p policy, dist func() []float32) (out, []float32) {
			o := out{make([]int32, B*n), make([]float32, B*n), make([]float32, B*n), make([]float64, B*n)}
			rng := rand.New(rand.NewPCG(5, 5))
			order := make([]int32, n)
			shuffleOrder(order, rand.New(rand.NewPCG(6, 6)))
			forced := make([]int32, B*n)
			for i := range forced {
				forced[i] = -1
			}
			forced[1] = 0 // sample 0, agent 1 bound to action 0
			if err := p.act(obs, order, forced, false, rng, o.acts, o.lp, o.v, o.g); err != nil {
				t.Fatal(err)
			}
			return o, append([]float32(nil), dist()...)
		}
		og, dg := run(ga, func() []float32 { return ga.dist })
		of, df := run(fa, func() []float32 { return fa.dist })
		if est == "score" { // sampled: some gate differs from the greedy 1[l > 0]
			greedy := make([]float64, B*n)
			if _, _, err := fa.encode(obs, nil, greedy, nil); err != nil {
				t.Fatal(err)
			}
			differ := 0
			for i := range greedy {
				if greedy[i] != of.g[i] {
					differ++
				}
			}
			if differ == 0 {
				t.Fatalf("mode %v: the sampled gates %v equal the greedy ones", mode, of.g)
			}
		}
		for i := range og.acts {
			if og.acts[i] != of.acts[i] || og.g[i] != of.g[i] {
				t.Fatalf("mode %v: actions %v vs %v, gates %v vs %v", mode, og.acts, of.acts, og.g, of.g)
			}
			if math.Abs(float64(og.lp[i]-of.lp[i])) > 1e-4 || math.Abs(float64(og.v[i]-of.v[i])) > 1e-4 {
				t.Errorf("mode %v entry %d: logp %v vs %v, value %v vs %v", mode, i, og.lp[i], of.lp[i], og.v[i], of.v[i])
			}
		}
		for i := range dg {
			if dg[i] > -1e8 && math.Abs(float64(dg[i]-df[i])) > 1e-4 {
				t.Errorf("mode %v: distribution entry %d: %v vs %v", mode, i, dg[i], df[i])
			}
		}
	}
}

// TestNoneGraphIndependence: with the "none" graph an agent's action
// distribution and value do not change when the other agents' observations
// change (also not through the decoder's action tokens); with the full graph
// they do (so the test would notice a leak).
func TestNoneGraphIndependence(t *testing.T) {
	for _, v := range []comm.Variant{comm.None, comm.Full} {
		cfg := tinyConfig()
		cfg.Graph = v
		cfg.Gate = true
		tr, err := New(&signalEnv{Len: 3}, cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		iterate(t, tr, 1)
		O, A := tr.m.O, tr.m.A
		obs := []float32{1, 0, 1, 1, 0, 0} // speaker sees bit 1
		d1, v1 := distOf(t, tr, obs)
		obs2 := append([]float32(nil), obs...)
		obs2[0], obs2[1], obs2[2] = 0, 1, -3 // change only the speaker's observation
		d2, v2 := distOf(t, tr, obs2)
		// agent 1 (the listener): rows A..2A of the distribution, value 1.
		same := v1[1] == v2[1]
		for j := 0; j < A; j++ {
			same = same && d1[A+j] == d2[A+j]
		}
		_ = O
		if v == comm.None && !same {
			t.Errorf("none: listener's output changed with the speaker's observation: %v %v -> %v %v", d1[A:], v1[1], d2[A:], v2[1])
		}
		if v == comm.Full && same {
			t.Errorf("full: listener's output did not change with the speaker's observation")
		}
	}
}

// TestFrozenGraphStopsAlpha: with post_stable, alpha moves before the freeze
// point and not after it.
func TestFrozenGraphStopsAlpha(t *testing.T) {
	cfg := tinyConfig()
	cfg.Warmup = 0
	cfg.Sparsity = 0.5
	cfg.PostStable = true
	cfg.PostRatio = 0.5
	cfg.Iterations = 4 // iterations 0, 1 learn alpha; 2, 3 are frozen
	// Three agents, k = 1: with two agents the one other sender is always
	// heard and alpha has nothing to learn.
	tr, err := New(&signalEnv{Len: 3, Bystanders: 1}, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	alpha := func() []float64 { return tr.Graph().Logits() }
	a0 := alpha()
	m := iterate(t, tr, 2)
	a1 := alpha()
	if sameBits(a0, a1) || m["alpha_steps"] != 1 {
		t.Fatalf("alpha did not move before the freeze (alpha steps %v)", m["alpha_steps"])
	}
	m = iterate(t, tr, 2)
	if a2 := alpha(); !sameBits(a1, a2) {
		t.Errorf("alpha changed after the freeze: %v -> %v", a1, a2)
	}
	if m["alpha_steps"] != 0 || m["model_steps"] != float64(cfg.Epochs) || m["graph_mode"] != float64(comm.ModeFrozen) {
		t.Errorf("frozen iteration: %v alpha steps, %v model steps, mode %v", m["alpha_steps"], m["model_steps"], m["graph_mode"])
	}
}

func determinismConfig() Config {
	cfg := tinyConfig()
	cfg.Gate = true
	cfg.Sparsity = 0.5
	cfg.Minibatches = 2
	cfg.Workers = 2
	return cfg
}

// TestDeterminism: the same seed gives bit-identical parameters after three
// iterations (with goroutine-stepped environments, minibatch shuffling,
// Gumbel and gate noise all in play); another seed does not.
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) []float64 {
		tr, err := New(&signalEnv{Len: 3}, determinismConfig(), seed)
		if err != nil {
			t.Fatal(err)
		}
		iterate(t, tr, 3)
		return paramValues(tr)
	}
	a, b, c := run(11), run(11), run(12)
	if !sameBits(a, b) {
		t.Error("same seed, different parameters")
	}
	if sameBits(a, c) {
		t.Error("different seeds, identical parameters")
	}
}

// TestCheckpointResume: save at iteration 2, load into a fresh trainer and
// continue to 4: bit-identical to an uninterrupted run.
func TestCheckpointResume(t *testing.T) {
	cfg := determinismConfig()
	ref, err := New(&signalEnv{Len: 3}, cfg, 21)
	if err != nil {
		t.Fatal(err)
	}
	iterate(t, ref, 2)
	ckv, err := ref.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ckv.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	ck := buf.Bytes()
	iterate(t, ref, 2)
	// The checkpoint value shares no memory with the trainer.
	var again bytes.Buffer
	if err := ckv.Encode(&again); err != nil || !bytes.Equal(again.Bytes(), ck) {
		t.Fatalf("iterating changed a checkpoint taken before (%v)", err)
	}

	res, err := New(&signalEnv{Len: 3}, cfg, 21)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.UnmarshalAlgorithm(res, ck); err != nil {
		t.Fatal(err)
	}
	if res.Iteration() != 2 {
		t.Fatalf("resumed at iteration %d", res.Iteration())
	}
	iterate(t, res, 2)
	if !sameBits(paramValues(ref), paramValues(res)) {
		t.Error("resumed run differs from the uninterrupted one")
	}
	s1, err := contract.MarshalAlgorithm(ref)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := contract.MarshalAlgorithm(res)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1, s2) {
		t.Error("complete states differ after resume (optimisers, value norm or random streams)")
	}
	// A checkpoint of another model shape is rejected with an error.
	other := cfg
	other.Embed = 8
	o, err := New(&signalEnv{Len: 3}, other, 21)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.UnmarshalAlgorithm(o, ck); err == nil {
		t.Error("checkpoint of a different model accepted")
	}
}

// TestNonFiniteStops: a NaN in the parameters stops training with an error
// naming the iteration.
func TestNonFiniteStops(t *testing.T) {
	tr, err := New(&signalEnv{Len: 3}, tinyConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	iterate(t, tr, 1)
	p := tr.Params().Get("value.lin2.b")
	p.Value.Data().([]float32)[0] = float32(math.NaN())
	_, err = tr.Iterate(bg)
	if err == nil || !strings.Contains(err.Error(), "iteration 2") || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("error %v, want a non-finite error naming iteration 2", err)
	}
}

// TestLearnsToCommunicate is the fast learning test: on the signal task the
// listener can only beat chance by hearing the speaker. A random policy
// scores about (1/2 + 1/3)/2 * 4 = 1.67 per episode and the best policy
// without communication 3; after a tiny budget the learned graph must score
// above 3.5, which requires the message to get through, while the "none"
// graph (same budget) must stay below 3.3.
func TestLearnsToCommunicate(t *testing.T) {
	for _, v := range []comm.Variant{comm.Learned, comm.None} {
		cfg := DefaultConfig()
		cfg.Embed = 16
		cfg.Graph = v
		cfg.Sparsity = 1
		cfg.Warmup = 2
		cfg.Envs, cfg.Steps = 8, 16
		cfg.LR = 3e-3
		cfg.Workers = 1
		tr, err := New(&signalEnv{Len: 4}, cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		before, err := tr.Evaluate(bg, 50)
		if err != nil {
			t.Fatal(err)
		}
		iterate(t, tr, 15)
		after, err := tr.Evaluate(bg, 50)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: eval return %.2f -> %.2f", v, before["eval_return"], after["eval_return"])
		if v == comm.Learned && after["eval_return"] < 3.5 {
			t.Errorf("learned graph: eval return %.2f after training, want > 3.5", after["eval_return"])
		}
		if v == comm.None && after["eval_return"] > 3.3 {
			t.Errorf("none graph: eval return %.2f, want < 3.3 (no channel to the listener)", after["eval_return"])
		}
	}
}
