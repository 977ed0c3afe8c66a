package comm

import (
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkAdjacency: one forward + backward of the sampled adjacency op
// (float32) in a graph whose loss is sum(A), including the Gumbel draw.
func BenchmarkAdjacency(b *testing.B) {
	for _, n := range []int{3, 10, 20} {
		b.Run(map[int]string{3: "N3", 10: "N10", 20: "N20"}[n], func(b *testing.B) {
			g, err := NewGraph(attention.NewParams(tensor.Float32), "alpha", GraphConfig{N: n, Sparsity: 0.4})
			if err != nil {
				b.Fatal(err)
			}
			eg := G.NewGraph()
			bd := attention.NewBinder(eg)
			adj := g.Bind(bd, ModeSample)
			loss := G.Must(G.Sum(adj.A))
			if _, err := G.Grad(loss, bd.Node(g.Alpha)); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(eg)
			defer vm.Close()
			rng := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				adj.Resample(rng)
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				vm.Reset()
			}
		})
	}
}

// BenchmarkGateGraph: forward + backward of the gate (float32) for
// predator-prey's training batch (4000 samples x 3 agents, d = 64), with the
// default hidden width 32 and as a linear gate.
func BenchmarkGateGraph(b *testing.B) {
	for _, hidden := range []int{32, 0} {
		name := "mlp32"
		if hidden == 0 {
			name = "linear"
		}
		b.Run(name, func(b *testing.B) { benchGateGraph(b, hidden) })
	}
}

func benchGateGraph(b *testing.B, hidden int) {
	const batch, agents, d = 4000, 3, 64
	ps := attention.NewParams(tensor.Float32)
	cfg := DefaultGateConfig(d)
	cfg.Hidden = hidden
	gt, err := NewGate(ps, "gate", cfg, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	eg := G.NewGraph()
	bd := attention.NewBinder(eg)
	rows := batch * agents
	xt := tensor.New(tensor.WithShape(rows, d), tensor.WithBacking(toF32(randVec(rand.New(rand.NewPCG(3, 4)), rows*d))))
	x := G.NewMatrix(eg, tensor.Float32, G.WithShape(rows, d), G.WithName("x"), G.WithValue(xt))
	gn, err := gt.Bind(bd, x, batch, agents)
	if err != nil {
		b.Fatal(err)
	}
	c, err := gn.Cost(0.1)
	if err != nil {
		b.Fatal(err)
	}
	wrt := G.Nodes{bd.Node(gt.W2), bd.Node(gt.B2)}
	if gt.W1 != nil {
		wrt = append(wrt, bd.Node(gt.W1), bd.Node(gt.B1))
	}
	if _, err := G.Grad(c, wrt...); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gn.Resample(rng)
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}

// BenchmarkGateActF32: the plain acting gate for 32 envs x 20 agents, d = 64.
func BenchmarkGateActF32(b *testing.B) {
	const rows, d = 32 * 20, 64
	gt, err := NewGate(attention.NewParams(tensor.Float32), "gate", DefaultGateConfig(d), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	x := toF32(randVec(rand.New(rand.NewPCG(3, 4)), rows*d))
	out := make([]float32, rows)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := gt.ActF32(x, rows, out); err != nil {
			b.Fatal(err)
		}
	}
}
