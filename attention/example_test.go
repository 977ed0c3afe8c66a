package attention_test

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/attention/gemm"
)

// Example builds one encoder block over B samples of N agents under a
// sparse communication graph, takes the gradient of a scalar cost with
// respect to every parameter and the graph, and runs the same block on the
// float32 inference path.
func Example() {
	gemm.Use() // once per process: fast GEMM under gorgonia

	const B, N, d = 2, 3, 8
	rng := rand.New(rand.NewPCG(1, 2)) // explicit seeded source
	ps := attention.NewParams(tensor.Float32)
	edge := attention.NewEdgeEmbedding(ps, "edge", d, rng)
	enc := attention.NewEncoderBlock(ps, "enc", d, 1, rng)

	obs := make([]float32, B*N*d)
	for i := range obs {
		obs[i] = float32(rng.NormFloat64())
	}
	a := []float32{ // receivers x senders; the diagonal is always on
		1, 1, 0,
		0, 1, 0,
		1, 1, 1,
	}

	// Training graph (one per batch shape; parameters are shared).
	g := G.NewGraph()
	b := attention.NewBinder(g)
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(B*N, d), G.WithName("obs"),
		G.WithValue(tensor.New(tensor.WithShape(B*N, d), tensor.WithBacking(obs))))
	an := G.NewMatrix(g, tensor.Float32, G.WithShape(N, N), G.WithName("A"),
		G.WithValue(tensor.New(tensor.WithShape(N, N), tensor.WithBacking(a))))
	e, _ := edge.Forward(b, an)
	rep, _ := enc.Forward(b, x, attention.CommGraph{N: N, A: an, Edge: e})
	var repV G.Value
	G.Read(rep, &repV) // the way to read a forward value after the run
	cost := G.Must(G.Mean(G.Must(G.Square(rep))))
	dA, _ := b.Backward(cost, an)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	grads, _ := attention.Grads(b, ps)
	fmt.Println("parameters:", len(ps.List()), "scalars:", ps.Count())
	fmt.Println("gradients:", len(grads), "first:", grads[0].Shape())
	fmt.Println("dcost/dA:", dA[0].Shape())

	// Inference path on the same weights.
	ig := attention.InferGraph{N: N, A: a, Edge: edge.Infer(a)}
	out := enc.Infer(obs, B, ig, enc.Attn.Relations(ig.Edge))
	var worst float64
	for i, v := range repV.Data().([]float32) {
		worst = max(worst, float64(abs(v-out[i])))
	}
	fmt.Println("inference matches:", worst < 1e-5)
	m.Reset()

	// Output:
	// parameters: 21 scalars: 624
	// gradients: 21 first: (2, 8)
	// dcost/dA: (3, 3)
	// inference matches: true
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
