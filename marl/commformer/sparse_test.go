package commformer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/attention/gemm"
	"github.com/commgraph/commgraph/comm"
)

// TestSparseUpdatesMatchDense: once the graph is frozen the updates run the
// attention over each receiver's senders only; the parameters after a
// learning iteration and two frozen ones (gate on, minibatches) are bit for
// bit those of the dense pass, and acting (rollouts) with sender lists
// matches it too. The sparse pass is checked to have run with k+1 senders.
func TestSparseUpdatesMatchDense(t *testing.T) {
	cfg := tinyConfig()
	cfg.Warmup = 0
	cfg.Senders = 1
	cfg.Gate = true
	cfg.GateBias = 0.2
	cfg.Minibatches = 2
	cfg.Epochs = 2
	cfg.PostStable = true
	cfg.PostRatio = 0.5
	cfg.Iterations = 2 // iteration 0 learns alpha, 1 and 2 are frozen
	run := func(dense bool) (*Trainer, []float64) {
		tr, err := New(&signalEnv{Len: 3, Bystanders: 2}, cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		tr.m.denseOnly = dense
		iterate(t, tr, 3)
		return tr, paramValues(tr)
	}
	_, pd := run(true)
	ts, ps := run(false)
	// Bit for bit with the project's GEMM. OpenBLAS (the openblas build
	// tag) picks its kernels and their summation order by matrix shape and
	// CPU, and the sparse pass multiplies other shapes than the dense one,
	// so there the two agree to float32 rounding (measured on an AMD EPYC:
	// at most 2.4e-7 apart after three iterations), not in every bit.
	if _, backend := gemm.Default(); backend == "openblas" {
		if d := maxAbsDiff(pd, ps); d > 1e-5 {
			t.Fatalf("parameters after frozen updates differ by %g between the dense and the sparse attention (OpenBLAS)", d)
		}
	} else if !sameBits(pd, ps) {
		t.Fatal("parameters after frozen updates differ between the dense and the sparse attention")
	}
	for _, tg := range ts.train {
		sd := tg.sparse.Senders()
		if sd == nil || sd.MaxCount() != cfg.Senders+1 {
			t.Fatalf("the sparse pass did not run with k+1 = %d senders (%+v)", cfg.Senders+1, sd)
		}
	}
}

// TestSparseModelStepsMatchDense: while alpha learns (sampled graph), the
// model steps run the attention over each receiver's sampled senders and the
// alpha steps the dense pass; the model and alpha parameters after three
// iterations (alpha and model epochs, a straight-through gate whose gradient
// reaches the model, minibatches) are bit for bit those of the dense pass in
// every step. The sparse pass is checked to have run with k+1 senders.
func TestSparseModelStepsMatchDense(t *testing.T) {
	cfg := tinyConfig()
	cfg.Warmup = 0
	cfg.Senders = 1
	cfg.Gate = true
	cfg.GateEstimator = "straight_through"
	cfg.GateBias = 0.2
	cfg.Minibatches = 2
	cfg.Epochs = 3
	cfg.AlphaEvery = 2 // epochs 1 and 3 model steps, 2 an alpha step
	cfg.Iterations = 10
	run := func(dense bool) (*Trainer, []float64) {
		tr, err := New(&signalEnv{Len: 3, Bystanders: 2}, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		tr.m.denseOnly = dense
		for i := 0; i < 3; i++ {
			if m := tr.trainMode(); m != comm.ModeSample {
				t.Fatalf("iteration %d trains in mode %v, want the sampled graph", i, m)
			}
			iterate(t, tr, 1)
		}
		return tr, paramValues(tr)
	}
	_, pd := run(true)
	ts, ps := run(false)
	if _, backend := gemm.Default(); backend == "openblas" {
		if d := maxAbsDiff(pd, ps); d > 1e-5 {
			t.Fatalf("parameters differ by %g between the dense and the sparse model steps (OpenBLAS)", d)
		}
	} else if !sameBits(pd, ps) {
		t.Fatal("parameters differ between the dense and the sparse model steps")
	}
	for _, tg := range ts.train {
		sd := tg.sparse.Senders()
		if sd == nil || sd.MaxCount() != cfg.Senders+1 {
			t.Fatalf("the model steps did not run with k+1 = %d senders (%+v)", cfg.Senders+1, sd)
		}
	}
}

// benchGraphCase builds a trainer on the benchmark environment with N
// agents, a frozen learned graph with k = 3 senders (variant "k3": sender
// lists; "dense": the same graph on the dense masked pass) or with every
// other agent as sender ("full", k = N-1: what a dense graph costs).
func benchGraphCase(b *testing.B, n int, variant string) *Trainer {
	cfg := DefaultConfig()
	cfg.Envs, cfg.Steps = 16, 16
	cfg.Epochs = 1
	cfg.Warmup = 0
	cfg.Workers = 1
	cfg.Senders = 3
	if variant == "full" {
		cfg.Senders = n - 1
	}
	cfg.PostStable = true
	cfg.PostRatio = 0.5
	cfg.Iterations = 2
	tr, err := New(&randEnv{n: n, obs: 16, acts: 8}, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	tr.m.denseOnly = variant == "dense"
	return tr
}

func graphCostCases() []int { return []int{10, 20, 40, 80} }

// BenchmarkGraphCostUpdate: one PPO update (256 samples, one epoch) of a
// frozen k = 3 graph at N = 10..80 agents, with the attention over the
// senders (k3), on the dense masked pass (dense) or with a full graph (full). cpu-ns/agent is the CPU
// time per op divided by N.
func BenchmarkGraphCostUpdate(b *testing.B) {
	for _, n := range graphCostCases() {
		for _, name := range []string{"k3", "dense", "full"} {
			b.Run(fmt.Sprintf("N=%d/%s", n, name), func(b *testing.B) {
				tr := benchGraphCase(b, n, name)
				if _, err := tr.rollout(bg); err != nil {
					b.Fatal(err)
				}
				tr.buf.ComputeGAE(0.99, 0.95, tr.vnorm.Denormalize)
				tr.iter = 1
				if tr.trainMode() != comm.ModeFrozen {
					b.Fatalf("mode %v", tr.trainMode())
				}
				if _, err := tr.update(); err != nil {
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
				c := float64(cpuTime()-c0) / float64(b.N)
				b.ReportMetric(c, "cpu-ns/op")
				b.ReportMetric(c/float64(n), "cpu-ns/agent")
			})
		}
	}
}

// BenchmarkGraphCostAct: one acting call (16 environments) on the exact
// k = 3 graph at N = 10..80, sender lists (k3), dense pass (dense) or a
// full graph (full).
func BenchmarkGraphCostAct(b *testing.B) {
	for _, n := range graphCostCases() {
		for _, name := range []string{"k3", "dense", "full"} {
			b.Run(fmt.Sprintf("N=%d/%s", n, name), func(b *testing.B) {
				tr := benchGraphCase(b, n, name)
				B := 16
				a, err := tr.actor(B)
				if err != nil {
					b.Fatal(err)
				}
				a.setMode(comm.ModeExact)
				obs := make([]float32, B*n*16)
				r := rand.New(rand.NewPCG(1, 2))
				for i := range obs {
					obs[i] = float32(r.Float64())
				}
				acts := make([]int32, B*n)
				lp := make([]float32, B*n)
				vals := make([]float32, B*n)
				order := make([]int32, n)
				shuffleOrder(order, r)
				rng := rand.New(rand.NewPCG(3, 4))
				// The first call sizes the actor's scratch.
				if err := a.act(obs, order, nil, false, rng, acts, lp, vals, nil); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				c0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := a.act(obs, order, nil, false, rng, acts, lp, vals, nil); err != nil {
						b.Fatal(err)
					}
				}
				c := float64(cpuTime()-c0) / float64(b.N)
				b.ReportMetric(c, "cpu-ns/op")
				b.ReportMetric(c/float64(n), "cpu-ns/agent")
			})
		}
	}
}

// maxAbsDiff returns the largest |a[i] - b[i]| (+Inf for different lengths).
func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
