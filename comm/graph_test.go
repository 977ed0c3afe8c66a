package comm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func mustGraph(t *testing.T, dt tensor.Dtype, cfg GraphConfig) *Graph {
	t.Helper()
	g, err := NewGraph(attention.NewParams(dt), "graph/alpha", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func rowOnes(m []float64, n, i int) int {
	c := 0
	for j := 0; j < n; j++ {
		if m[i*n+j] == 1 {
			c++
		} else if m[i*n+j] != 0 {
			return -1
		}
	}
	return c
}

func TestK(t *testing.T) {
	cases := []struct {
		n    int
		s    float64
		want int
	}{{3, 0.4, 1}, {5, 0.4, 1}, {10, 0.4, 3}, {11, 0.3, 3}, {21, 0.4, 8}, {4, 0.1, 1}, {7, 1, 6}, {1, 0.4, 0}}
	for _, c := range cases {
		if got := K(c.n, c.s); got != c.want {
			t.Errorf("K(%d, %g) = %d, want %d", c.n, c.s, got, c.want)
		}
	}
}

// TestSampledRowsHaveKOnes: every Gumbel top-k sample (float32 graph, many
// draws) has the diagonal and exactly k other ones per row (self-loops use
// no slot), and the effective mask always contains the diagonal.
func TestSampledRowsHaveKOnes(t *testing.T) {
	for _, n := range []int{1, 3, 6, 10} {
		g := mustGraph(t, tensor.Float32, GraphConfig{N: n, Sparsity: 0.4, Tau: 1})
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		copy(g.Alpha.Value.Data().([]float32), toF32(randVec(rng, n*n)))
		eg := G.NewGraph()
		adj := g.Bind(attention.NewBinder(eg), ModeSample)
		vm := G.NewTapeMachine(eg)
		mask := make([]float64, n*n)
		gate := make([]float64, n) // all gates closed: only the diagonal remains
		for draw := 0; draw < 50; draw++ {
			adj.Resample(rng)
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			m := adj.Matrix()
			vals := adj.A.Value().Data().([]float32)
			for i := range m {
				if float64(vals[i]) != m[i] {
					t.Fatalf("node value %g != Matrix %g", vals[i], m[i])
				}
			}
			for i := 0; i < n; i++ {
				if c := rowOnes(m, n, i); c != g.K()+1 || m[i*n+i] != 1 {
					t.Fatalf("N=%d draw %d row %d: %d ones (self %v), want self + k = %d", n, draw, i, c, m[i*n+i], g.K())
				}
			}
			effectiveMask(mask, m, nil, n)
			for i := 0; i < n; i++ {
				if mask[i*n+i] != 1 {
					t.Fatalf("diagonal %d missing from the effective mask", i)
				}
			}
			effectiveMask(mask, m, gate, n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					want := 0.0
					if i == j {
						want = 1
					}
					if mask[i*n+j] != want {
						t.Fatalf("gated-off mask[%d][%d] = %g, want %g", i, j, mask[i*n+j], want)
					}
				}
			}
			vm.Reset()
		}
		vm.Close()
	}
}

func toF32(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(x)
	}
	return o
}

// TestInitialProbabilities: alpha starts at ones, so every off-diagonal
// probability is 1/(N-1) and the diagonal 0.
func TestInitialProbabilities(t *testing.T) {
	g := mustGraph(t, tensor.Float64, GraphConfig{N: 5, Sparsity: 0.4})
	for e, p := range g.Probabilities() {
		want := 0.25
		if e/5 == e%5 {
			want = 0
		}
		if p != want {
			t.Fatalf("initial probability [%d][%d] = %g, want %g", e/5, e%5, p, want)
		}
	}
}

// TestFullAndSparsityOne: S = 1 (learned) and the full variant give all ones.
func TestFullAndSparsityOne(t *testing.T) {
	const n = 4
	learned := mustGraph(t, tensor.Float64, GraphConfig{N: n, Sparsity: 1})
	full := mustGraph(t, tensor.Float64, GraphConfig{N: n, Variant: Full})
	rng := rand.New(rand.NewPCG(1, 1))
	copy(learned.Alpha.Value.Data().([]float64), randVec(rng, n*n))
	noise := randVec(rng, n*n)
	for _, m := range [][]float64{learned.Exact(), learned.Matrix(ModeSample, noise), full.Exact(), full.Matrix(ModeSample, noise)} {
		for i, v := range m {
			if v != 1 {
				t.Fatalf("entry %d = %g, want 1", i, v)
			}
		}
	}
	if full.Learnable() || full.K() != n-1 {
		t.Fatalf("full: learnable %v k %d", full.Learnable(), full.K())
	}
	if MessagesPerStep(full.Exact(), nil, n) != n*(n-1) {
		t.Fatal("full graph messages per step != N(N-1)")
	}
}

// TestNoneIsIdentity: the none variant is the identity, as a constant node.
func TestNoneIsIdentity(t *testing.T) {
	const n = 3
	ps := attention.NewParams(tensor.Float64)
	g, err := NewGraph(ps, "graph/alpha", GraphConfig{N: n, Variant: None})
	if err != nil {
		t.Fatal(err)
	}
	if g.Learnable() || ps.Count() != 0 {
		t.Fatal("none variant must have no alpha")
	}
	eg := G.NewGraph()
	adj := g.Bind(attention.NewBinder(eg), ModeSample)
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	vals := adj.A.Value().Data().([]float64)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if vals[i*n+j] != want {
				t.Fatalf("none[%d][%d] = %g", i, j, vals[i*n+j])
			}
		}
	}
	if MessagesPerStep(vals, nil, n) != 0 {
		t.Fatal("none graph sends messages")
	}
}

// TestRandomVariant: exactly k ones per row, same seed same graph, other
// seed another graph.
func TestRandomVariant(t *testing.T) {
	const n = 10
	a := mustGraph(t, tensor.Float64, GraphConfig{N: n, Sparsity: 0.4, Variant: Random, Seed: 7}).Exact()
	b := mustGraph(t, tensor.Float64, GraphConfig{N: n, Sparsity: 0.4, Variant: Random, Seed: 7}).Exact()
	c := mustGraph(t, tensor.Float64, GraphConfig{N: n, Sparsity: 0.4, Variant: Random, Seed: 8}).Exact()
	for i := 0; i < n; i++ {
		if got := rowOnes(a, n, i); got != 4 {
			t.Fatalf("random row %d has %d ones, want 4", i, got)
		}
	}
	assertClose(t, "random same seed", a, b, 0)
	diff := false
	for i := range a {
		if a[i] != c[i] {
			diff = true
		}
	}
	if !diff {
		t.Fatal("random graphs of seeds 7 and 8 are identical")
	}
}

func TestFileVariant(t *testing.T) {
	adj := [][]float64{{1, 1, 0}, {0, 1, 0}, {1, 0, 1}}
	g := mustGraph(t, tensor.Float64, GraphConfig{N: 3, Variant: File, Adjacency: adj})
	assertClose(t, "file", g.Exact(), []float64{1, 1, 0, 0, 1, 0, 1, 0, 1}, 0)
	for _, bad := range [][][]float64{{{1, 0}, {0, 1}}, {{1, 0, 0}, {0, 1}, {0, 0, 1}}, {{1, 0, 0}, {0, -1, 0}, {0, 0, 1}}} {
		if _, err := NewGraph(attention.NewParams(tensor.Float64), "a", GraphConfig{N: 3, Variant: File, Adjacency: bad}); err == nil {
			t.Fatalf("bad adjacency %v accepted", bad)
		}
	}
}

// TestSampleDeterministic: the Gumbel sample is a function of the seed.
func TestSampleDeterministic(t *testing.T) {
	const n = 6
	g := mustGraph(t, tensor.Float64, GraphConfig{N: n, Sparsity: 0.5})
	eg := G.NewGraph()
	adj := g.Bind(attention.NewBinder(eg), ModeSample)
	vm := G.NewTapeMachine(eg)
	defer vm.Close()
	draw := func(seed uint64) ([]float64, []float64) {
		adj.Resample(rand.New(rand.NewPCG(seed, 5)))
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
		return adj.Matrix(), adj.Noise()
	}
	m1, n1 := draw(3)
	m2, n2 := draw(3)
	assertClose(t, "same seed sample", m1, m2, 0)
	assertClose(t, "same seed noise", n1, n2, 0)
	_, n3 := draw(4)
	if n3[0] == n1[0] {
		t.Fatal("different seeds gave the same noise")
	}
	assertClose(t, "Graph.Matrix = run", g.Matrix(ModeSample, n1), m1, 0)
}

func TestModeAt(t *testing.T) {
	cfg := GraphConfig{N: 3, Sparsity: 0.4, Tau: 1, Variant: Learned, Warmup: 10, PostRatio: 0.5}
	cfg.PostStable = true
	g := mustGraph(t, tensor.Float64, cfg)
	want := map[int]Mode{0: ModeWarmup, 9: ModeWarmup, 10: ModeSample, 49: ModeSample, 50: ModeFrozen, 99: ModeFrozen}
	for it, m := range want {
		if got := g.ModeAt(it, 100); got != m {
			t.Errorf("ModeAt(%d, 100) = %v, want %v", it, got, m)
		}
	}
	// An unknown run length (total 0, e.g. an evaluation budget) never freezes.
	if got := g.ModeAt(0, 0); got != ModeWarmup {
		t.Errorf("ModeAt(0, 0) = %v, want warm-up", got)
	}
	if got := g.ModeAt(500, 0); got != ModeSample {
		t.Errorf("ModeAt(500, 0) = %v, want sample", got)
	}
	cfg.PostStable = false
	g = mustGraph(t, tensor.Float64, cfg)
	if g.ModeAt(99, 100) != ModeSample {
		t.Error("without post_stable the graph must not freeze")
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []GraphConfig{
		{N: 0, Sparsity: 0.4},
		{N: 3, Sparsity: 0},
		{N: 3, Sparsity: 1.5},
		{N: 3, Sparsity: 0.4, Tau: -1},
		{N: 3, Sparsity: 0.4, PostRatio: 2},
		{N: 3, Sparsity: 0.4, Variant: "bogus"},
	}
	for _, c := range bad {
		if _, err := NewGraph(attention.NewParams(tensor.Float64), "a", c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	if _, err := ParseVariant("Random"); err != nil {
		t.Error(err)
	}
	if _, err := ParseVariant("dense"); err == nil {
		t.Error("ParseVariant accepted dense")
	}
}

func TestAccounting(t *testing.T) {
	const n = 3
	adj := []float64{1, 1, 0, 0, 1, 1, 1, 1, 1} // in-degrees (off-diagonal) 1, 1, 2
	gates := []float64{1, 0, 1, 0, 0, 1}        // 2 steps
	if got := ReceiveRate(gates); got != 0.5 {
		t.Fatalf("ReceiveRate = %g, want 0.5", got)
	}
	assertClose(t, "ReceiveRates", ReceiveRates(gates, n), []float64{0.5, 0, 1}, 0)
	// step 0: agents 0 and 2 receive: 1 + 2 = 3; step 1: agent 2: 2. Mean 2.5.
	if got := MessagesPerStep(adj, gates, n); got != 2.5 {
		t.Fatalf("MessagesPerStep = %g, want 2.5", got)
	}
	if got := MessagesPerStep(adj, nil, n); got != 4 {
		t.Fatalf("MessagesPerStep(no gate) = %g, want 4", got)
	}
}

// TestTopKRows checks the selection against a sort-based reference on rows
// with many ties: the diagonal is always 1 and uses no slot, k off-diagonal
// entries are chosen, ties go to the higher priority, NaN loses.
func TestTopKRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n = 9
	x := make([]float64, n*n)
	out := make([]float64, n*n)
	idx := make([]int, n)
	tie := tiePriorities(n, 5)
	for trial := 0; trial < 200; trial++ {
		for i := range x {
			x[i] = float64(rng.IntN(4)) // heavy ties
		}
		k := 1 + rng.IntN(n-1)
		topKRows(out, x, tie, n, k, idx)
		for i := 0; i < n; i++ {
			// reference: off-diagonal columns ordered by (value desc, priority desc), take k
			var order []int
			for j := 0; j < n; j++ {
				if j != i {
					order = append(order, j)
				}
			}
			key := func(j int) [2]float64 { return [2]float64{x[i*n+j], tie[i*n+j]} }
			for a := 1; a < len(order); a++ { // insertion sort
				for b := a; b > 0 && (key(order[b])[0] > key(order[b-1])[0] || key(order[b])[0] == key(order[b-1])[0] && key(order[b])[1] > key(order[b-1])[1]); b-- {
					order[b], order[b-1] = order[b-1], order[b]
				}
			}
			want := make([]float64, n)
			want[i] = 1
			for _, j := range order[:k] {
				want[j] = 1
			}
			assertClose(t, "top-k row", out[i*n:(i+1)*n], want, 0)
		}
	}
	row := []float64{5, math.NaN(), 1, math.NaN()}
	o := make([]float64, 16)
	topKRows(o, append(row, make([]float64, 12)...), tie, 4, 1, make([]int, 4))
	assertClose(t, "NaN row", o[:4], []float64{1, 0, 1, 0}, 0)
}

// TestTiesBreakBySeed: a tied row (alpha at its initial ones) is decided by
// the seeded priorities: the same seed gives the same graph, other seeds
// give other graphs, and the lowest indices are not favoured.
func TestTiesBreakBySeed(t *testing.T) {
	const n, k = 8, 2
	exact := func(seed uint64) []float64 {
		g, err := NewGraph(attention.NewParams(tensor.Float64), "a", GraphConfig{N: n, Senders: k, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return g.Exact()
	}
	a1, a2 := exact(7), exact(7)
	assertClose(t, "same seed", a1, a2, 0)
	distinct := 0
	low := 0 // rows that chose the k lowest other indices
	for seed := uint64(1); seed <= 20; seed++ {
		e := exact(seed)
		if !slices.Equal(e, a1) {
			distinct++
		}
		for i := 0; i < n; i++ {
			c := 0
			for j := 0; j < n; j++ {
				if j != i && e[i*n+j] == 1 {
					c++
				}
			}
			if c != k || e[i*n+i] != 1 {
				t.Fatalf("seed %d row %d: %d senders and self %v, want %d and 1", seed, i, c, e[i*n+i], k)
			}
			lowest := 0
			for j, got := 0, 0; j < n && got < k; j++ {
				if j == i {
					continue
				}
				got++
				if e[i*n+j] == 1 {
					lowest++
				}
			}
			if lowest == k {
				low++
			}
		}
	}
	if distinct < 15 {
		t.Errorf("only %d of 20 seeds give a graph different from seed 7's", distinct)
	}
	// Chance of a row picking exactly the 2 lowest of 7 others: 1/21.
	if low > 30 {
		t.Errorf("%d of 160 rows chose the lowest indices: ties favour low indices", low)
	}
}

// effectiveMask is the reference of the accounting (account.go): it writes the mask of one step into dst (N*N): M_ij = g_i *
// 1[A_ij != 0] for j != i and M_ii = 1 (every agent always hears itself).
// gate holds the N gates of that step (nil = all ones).
func effectiveMask(dst, adj, gate []float64, n int) {
	for i := 0; i < n; i++ {
		gi := 1.0
		if gate != nil && !(gate[i] > 0.5) {
			gi = 0
		}
		for j := 0; j < n; j++ {
			v := 0.0
			if i == j {
				v = 1
			} else if adj[i*n+j] != 0 {
				v = gi
			}
			dst[i*n+j] = v
		}
	}
}
