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
