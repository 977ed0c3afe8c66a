package comm_test

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/comm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A learned graph of 5 agents with sparsity 0.5 lets every receiver hear
// k = floor(4*0.5) = 2 other agents besides itself. Bound into a gorgonia
// graph, A is sampled by Gumbel top-k each run; the exact graph (row top-k
// of alpha, ties broken by the seeded priorities) is what rollouts use and
// what a snapshot exports.
func Example() {
	alphaParams := attention.NewParams(tensor.Float32) // owned by the graph optimiser
	g, err := comm.NewGraph(alphaParams, "graph/alpha", comm.GraphConfig{N: 5, Sparsity: 0.5, Tau: 1, Seed: 3})
	if err != nil {
		panic(err)
	}
	eg := G.NewGraph()
	adj := g.Bind(attention.NewBinder(eg), comm.ModeSample)
	vm := G.NewTapeMachine(eg)
	defer vm.Close()

	rng := rand.New(rand.NewPCG(1, 2)) // the trainer's "gumbel" stream
	adj.Resample(rng)                  // one graph per forward pass
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	vm.Reset()
	m := adj.Matrix()
	for i := 0; i < 5; i++ {
		fmt.Println(m[i*5 : i*5+5])
	}
	fmt.Println("k =", g.K(), "exact row 0:", g.Exact()[:5])

	s, err := g.Snapshot(0, []string{"a", "b", "c", "d", "e"}, nil, false)
	if err != nil {
		panic(err)
	}
	dot, _ := s.MarshalDOT(comm.ExportOptions{})
	os.Stdout.Write(dot[:40])
	fmt.Println()
	// Output:
	// [1 0 1 0 1]
	// [1 1 0 1 0]
	// [0 1 1 1 0]
	// [1 1 0 1 0]
	// [1 1 0 0 1]
	// k = 2 exact row 0: [1 0 1 1 0]
	// strict digraph commgraph {
	//   graph [
}
