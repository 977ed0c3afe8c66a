package comm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Variant selects how the communication graph is produced (the ablation axis).
type Variant string

// Graph variants.
const (
	// Learned: the alpha logits are trained (Gumbel top-k, exact top-k,
	// warm-up and freeze modes).
	Learned Variant = "learned"
	// Full: every agent receives from every agent (sparsity 1); constant.
	Full Variant = "full"
	// None: every agent receives only from itself (independent agents); constant.
	None Variant = "none"
	// Random: a fixed, seeded k-subset of senders per receiver row; constant.
	Random Variant = "random"
	// File: a given adjacency matrix; constant.
	File Variant = "file"
)

// allVariants lists every variant in a stable order.
func allVariants() []Variant { return []Variant{Learned, Full, None, Random, File} }

// ParseVariant converts a name ("learned", "full", "none", "random", "file").
func ParseVariant(s string) (Variant, error) {
	for _, v := range allVariants() {
		if string(v) == strings.ToLower(strings.TrimSpace(s)) {
			return v, nil
		}
	}
	return "", fmt.Errorf("comm: unknown graph variant %q (allowed: learned, full, none, random, file)", s)
}

// Mode is how a learned graph turns alpha into the adjacency A of one forward
// pass. Fixed variants ignore it.
type Mode int

const (
	// ModeWarmup: dense communication weighted by alpha: A_ij = (N-1)
	// softmax_row(alpha)_ij off the diagonal (1 on it), so every agent hears
	// every other one, each weighted by its share of the row (all ones at
	// initialisation, i.e. dense attention). The reference (cformer.py) uses
	// the raw edge parameter here; the row softmax makes the learning
	// signal relative (a receiver learns whom to listen to more than to
	// others, not how much to listen overall), which is what the exact
	// top-k later reads.
	ModeWarmup Mode = iota
	// ModeSample: Gumbel top-k straight-through. y = softmax_row((alpha+g)/tau),
	// g ~ Gumbel(0,1) (one draw per forward, shared by the whole batch),
	// forward value = k-hot of the row top-k of y, gradient = that of y
	// (A = hard - stopgrad(y) + y).
	ModeSample
	// ModeExact: k-hot of the row top-k of alpha, gradient of softmax_row(alpha)
	// (the same straight-through form without noise, tau = 1). Used for
	// rollouts, value estimates, evaluation and export.
	ModeExact
	// ModeFrozen: the exact graph with no gradient to alpha (post_stable after
	// post_ratio of training). The alpha gradient is exactly zero.
	ModeFrozen
)

func (m Mode) String() string {
	switch m {
	case ModeWarmup:
		return "warmup"
	case ModeSample:
		return "sample"
	case ModeExact:
		return "exact"
	case ModeFrozen:
		return "frozen"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// GraphConfig configures a communication graph.
type GraphConfig struct {
	N int // number of agents (> 0)
	// Sparsity S in (0, 1]: each receiver hears k = max(floor((N-1)*S), 1)
	// other agents (see K), besides itself. NewGraph normalises it for
	// fixed variants: 1 for Full, 0 for None, the fraction of nonzero
	// off-diagonal entries for File.
	Sparsity float64
	// Senders, if > 0, sets k directly (capped at N-1) and overrides
	// Sparsity for the learned and random variants.
	Senders int
	Tau     float64 // Gumbel-softmax temperature (> 0); 0 means 1
	Variant Variant // "" means Learned

	// Schedule of the learned variant (see ModeAt).
	Warmup     int     // iterations of warm-up (ModeWarmup)
	PostStable bool    // freeze after PostRatio of training
	PostRatio  float64 // fraction of training after which the graph freezes

	// UniformWarmup makes the learned variant's warm-up graph dense and
	// unweighted (every entry 1) whatever alpha holds, and gives alpha no
	// gradient there: for graphs whose alpha is set by measurement
	// (SetLogits) rather than learned through the warm-up weights, so that
	// what is measured does not feed back into what is heard.
	UniformWarmup bool

	Seed      uint64      // seed of the Random variant's k-subsets
	Adjacency [][]float64 // the File variant's matrix (rows = receivers)
}

// K returns the number of other agents a receiver hears,
// k = max(floor((n-1)*s), 1), capped at n-1 (0 for a single agent). The
// receiver always hears itself besides: self-loops use no slot. A tiny
// tolerance keeps e.g. 10*0.3 = 2.9999999999999996 at 3.
func K(n int, s float64) int {
	k := int(math.Floor(float64(n-1)*s + 1e-9))
	return min(max(k, 1), n-1)
}

// Graph is the communication graph: for the learned variant, the alpha logits
// (N x N, rows = receivers, columns = senders: A[i][j] = 1 means agent i
// receives from j); for fixed variants, a constant matrix.
//
// Diagonal: every agent always hears itself, and the self-loop uses none of
// the k slots: the top-k of a row is taken over its N-1 off-diagonal
// entries, and the diagonal of every adjacency is 1. (The reference,
// cformer.py, lets the diagonal compete for the k slots, so that a receiver
// hears k or k-1 others, and with k = 1 possibly nobody.) The diagonal of
// alpha is unused and gets no gradient.
//
// Ties (alpha is initialised to ones, so every row is tied at the start) are
// broken by a fixed random priority per entry drawn from the seeded stream
// (GraphConfig.Seed), never by column index.
type Graph struct {
	cfg   GraphConfig
	k     int
	dtype tensor.Dtype
	// Alpha holds the logits of the learned variant (nil for fixed variants).
	// Its own optimiser (not the model's) should own it.
	Alpha *attention.Param
	fixed []float64 // N*N, fixed variants
	tie   []float64 // N*N tie-break priorities in [0, 1), from Seed
}

// NewGraph validates cfg and creates the graph. For the learned variant it
// registers the N x N parameter name (e.g. "graph/alpha") in ps, initialised
// to ones. Fixed variants register nothing; ps only supplies the dtype.
func NewGraph(ps *attention.Params, name string, cfg GraphConfig) (*Graph, error) {
	if ps == nil {
		return nil, errors.New("comm: NewGraph: nil Params")
	}
	if cfg.Variant == "" {
		cfg.Variant = Learned
	}
	if cfg.Tau == 0 {
		cfg.Tau = 1
	}
	n := cfg.N
	switch {
	case n <= 0:
		return nil, fmt.Errorf("comm: graph: agents N = %d, must be > 0", n)
	case cfg.Tau < 0 || math.IsNaN(cfg.Tau) || math.IsInf(cfg.Tau, 0):
		return nil, fmt.Errorf("comm: graph: tau = %v, must be > 0", cfg.Tau)
	case cfg.Warmup < 0:
		return nil, fmt.Errorf("comm: graph: warmup = %d, must be >= 0", cfg.Warmup)
	case cfg.PostRatio < 0 || cfg.PostRatio > 1 || math.IsNaN(cfg.PostRatio):
		return nil, fmt.Errorf("comm: graph: post_ratio = %v, must be in [0, 1]", cfg.PostRatio)
	}
	if cfg.Variant == Full {
		cfg.Sparsity = 1
	}
	if (cfg.Variant == Learned || cfg.Variant == Random) && cfg.Senders == 0 {
		if !(cfg.Sparsity > 0 && cfg.Sparsity <= 1) {
			return nil, fmt.Errorf("comm: graph: sparsity = %v, must be in (0, 1]", cfg.Sparsity)
		}
	}
	if cfg.Senders < 0 {
		return nil, fmt.Errorf("comm: graph: senders = %d, must be >= 0 (0: from sparsity)", cfg.Senders)
	}
	g := &Graph{cfg: cfg, dtype: ps.Dtype, tie: tiePriorities(n, cfg.Seed)}
	k := K(n, cfg.Sparsity)
	if cfg.Senders > 0 {
		k = min(cfg.Senders, n-1)
	}
	switch cfg.Variant {
	case Learned:
		g.k = k
		g.Alpha = ps.New(name, []int{n, n}, attention.Ones)
	case Full:
		g.k = n - 1
		g.fixed = make([]float64, n*n)
		for i := range g.fixed {
			g.fixed[i] = 1
		}
	case None:
		g.k = 0
		g.cfg.Sparsity = 0
		g.fixed = make([]float64, n*n)
		for i := 0; i < n; i++ {
			g.fixed[i*n+i] = 1
		}
	case Random:
		g.k = k
		g.fixed = randomAdjacency(n, g.k, cfg.Seed)
	case File:
		m, err := flattenAdjacency(cfg.Adjacency, n)
		if err != nil {
			return nil, err
		}
		nz := 0
		for i := 0; i < n; i++ { // k: the largest row count of others, informational only
			m[i*n+i] = 1
			c := 0
			for j := 0; j < n; j++ {
				if j != i && m[i*n+j] != 0 {
					c++
				}
			}
			g.k = max(g.k, c)
			nz += c
		}
		g.fixed = m
		if n > 1 {
			g.cfg.Sparsity = float64(nz) / float64(n*(n-1))
		}
	default:
		return nil, fmt.Errorf("comm: graph: unknown variant %q", cfg.Variant)
	}
	return g, nil
}

// randomAdjacency returns, per row, the diagonal and a fixed k-subset of the
// other N-1 columns, drawn from a PCG stream derived from (seed,
// "comm/random-graph"). Same seed, same matrix.
func randomAdjacency(n, k int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, streamRandomGraph))
	m := make([]float64, n*n)
	idx := make([]int, 0, n)
	k = min(k, n-1)
	for i := 0; i < n; i++ {
		m[i*n+i] = 1
		idx = idx[:0]
		for j := 0; j < n; j++ {
			if j != i {
				idx = append(idx, j)
			}
		}
		for t := 0; t < k; t++ { // partial Fisher-Yates
			r := t + rng.IntN(len(idx)-t)
			idx[t], idx[r] = idx[r], idx[t]
			m[i*n+idx[t]] = 1
		}
	}
	return m
}

// tiePriorities returns N*N priorities in [0, 1) from a PCG stream derived
// from (seed, "comm/tie"): among equal logits the entry with the higher
// priority wins, so ties break at random but reproducibly.
func tiePriorities(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, streamTie))
	t := make([]float64, n*n)
	for i := range t {
		t[i] = rng.Float64()
	}
	return t
}

// stream constants: the second PCG word, one per purpose.
const (
	streamRandomGraph = 0x636f6d6d2f726e64 // "comm/rnd"
	streamTie         = 0x636f6d6d2f746965 // "comm/tie"
)

func flattenAdjacency(a [][]float64, n int) ([]float64, error) {
	if len(a) != n {
		return nil, fmt.Errorf("comm: graph: file adjacency has %d rows, want %d (one per agent)", len(a), n)
	}
	m := make([]float64, n*n)
	for i, row := range a {
		if len(row) != n {
			return nil, fmt.Errorf("comm: graph: file adjacency row %d has %d entries, want %d", i+1, len(row), n)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("comm: graph: file adjacency [%d][%d] = %v, must be finite and >= 0", i+1, j+1, v)
			}
			m[i*n+j] = v
		}
	}
	return m, nil
}

// N returns the number of agents.
func (g *Graph) N() int { return g.cfg.N }

// K returns the per-row number of senders (for File, the largest row count).
func (g *Graph) K() int { return g.k }

// Config returns the (normalised) configuration.
func (g *Graph) Config() GraphConfig { return g.cfg }

// Variant returns the variant.
func (g *Graph) Variant() Variant { return g.cfg.Variant }

// Learnable reports whether the graph has alpha logits to train.
func (g *Graph) Learnable() bool { return g.Alpha != nil }

// ModeAt is the training schedule of the learned variant at 0-based training
// iteration iter of total: ModeFrozen when PostStable and iter >=
// floor(PostRatio*total) (the freeze wins, as in the reference); otherwise
// ModeWarmup for the first Warmup iterations; otherwise ModeSample. A total
// of 0 or less (unknown run length) never freezes. Fixed
// variants always return ModeExact (ignored).
func (g *Graph) ModeAt(iter, total int) Mode {
	if !g.Learnable() {
		return ModeExact
	}
	// total <= 0 means the run length is unknown (e.g. a budget of unique
	// evaluations): there is then no point to freeze at.
	if g.cfg.PostStable && total > 0 && iter >= int(g.cfg.PostRatio*float64(total)) {
		return ModeFrozen
	}
	if iter < g.cfg.Warmup {
		return ModeWarmup
	}
	return ModeSample
}

// Logits returns a copy of alpha (N*N, row-major), or nil for fixed variants.
func (g *Graph) Logits() []float64 {
	if g.Alpha == nil {
		return nil
	}
	return tensorFloats(g.Alpha.Value, nil)
}

// Probabilities returns softmax_row(alpha) (N*N). For fixed variants it is the
// row-normalised fixed matrix (uniform over each row's senders).
func (g *Graph) Probabilities() []float64 {
	n := g.cfg.N
	out := make([]float64, n*n)
	if g.Alpha == nil {
		for i := 0; i < n; i++ {
			s := 0.0
			for j := 0; j < n; j++ {
				s += g.fixed[i*n+j]
			}
			for j := 0; j < n; j++ {
				if s > 0 {
					out[i*n+j] = g.fixed[i*n+j] / s
				}
			}
		}
		return out
	}
	rowSoftmax(out, g.Logits(), nil, n, 1)
	return out
}

// Exact returns the exact graph (N*N of 0/1, diagonal 1): the diagonal and
// the top-k of each row's off-diagonal alpha for the learned variant (ties
// broken by the seeded priorities), the constant matrix otherwise.
func (g *Graph) Exact() []float64 {
	n := g.cfg.N
	out := make([]float64, n*n)
	if g.Alpha == nil {
		copy(out, g.fixed)
		return out
	}
	topKRows(out, g.Logits(), g.tie, n, g.k, make([]int, n))
	return out
}

// Matrix returns the plain adjacency for mode m with the given Gumbel noise
// (used only by ModeSample; nil means zero noise): alpha itself for
// ModeWarmup, the k-hot sample for ModeSample, the exact graph for ModeExact
// and ModeFrozen, the constant for fixed variants.
func (g *Graph) Matrix(m Mode, noise []float64) []float64 {
	n := g.cfg.N
	out := make([]float64, n*n)
	if g.Alpha == nil {
		copy(out, g.fixed)
		return out
	}
	alpha := g.Logits()
	g.forward(out, alpha, noise, m, make([]float64, n*n), make([]int, n))
	return out
}

// forward is forwardAdjacency with the graph's settings.
func (g *Graph) forward(out, alpha, noise []float64, m Mode, ys []float64, idx []int) {
	if m == ModeWarmup && g.cfg.UniformWarmup {
		for i := range out {
			out[i] = 1
		}
		return
	}
	forwardAdjacency(out, alpha, noise, g.tie, m, g.cfg.N, g.k, g.cfg.Tau, ys, idx)
}

// SetLogits overwrites alpha (N*N, row-major; the diagonal is unused) of
// the learned variant: for graphs chosen by measurement instead of by
// gradient (see GraphConfig.UniformWarmup).
func (g *Graph) SetLogits(v []float64) error {
	n := g.cfg.N
	if g.Alpha == nil {
		return errors.New("comm: SetLogits: the graph has no logits (fixed variant)")
	}
	if len(v) != n*n {
		return fmt.Errorf("comm: SetLogits: %d values, want %d", len(v), n*n)
	}
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("comm: SetLogits: non-finite value %v", x)
		}
	}
	switch d := g.Alpha.Value.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	default:
		return fmt.Errorf("comm: SetLogits: unsupported alpha data %T", d)
	}
	return nil
}

// Bind adds the adjacency node A [N,N] to the graph of b. For the learned
// variant, A is computed from alpha at run time by a custom op whose forward
// and gradient depend on the returned Adj's mode (settable between runs
// without recompiling) and its noise; for fixed variants it is a constant
// input node (no gradient).
func (g *Graph) Bind(b *attention.Binder, mode Mode) *Adj {
	n := g.cfg.N
	a := &Adj{g: g, mode: mode, noise: make([]float64, n*n), last: make([]float64, n*n),
		ys: make([]float64, n*n), idx: make([]int, n), alpha: make([]float64, n*n)}
	if g.Alpha == nil {
		copy(a.last, g.fixed)
		t := floatsTensor(g.dtype, []int{n, n}, g.fixed)
		a.A = G.NewMatrix(b.G, g.dtype, G.WithShape(n, n), G.WithName(uniqueName("comm_A_fixed")), G.WithValue(t))
		return a
	}
	alpha := b.Node(g.Alpha)
	a.A = G.Must(G.ApplyOp(&adjOp{a: a}, alpha))
	return a
}

// Adj is one binding of a Graph into one expression graph, with its own mode
// and Gumbel noise. Call Resample (or SetNoise) before each run in
// ModeSample; the other modes use no noise.
type Adj struct {
	// A is the [N,N] adjacency node (rows = receivers, columns = senders).
	A *G.Node

	g     *Graph
	mode  Mode
	noise []float64 // Gumbel(0,1) draws, N*N
	last  []float64 // forward value of the last run
	ys    []float64 // scratch
	idx   []int     // scratch
	alpha []float64 // scratch
}

// Graph returns the graph this binding belongs to.
func (a *Adj) Graph() *Graph { return a.g }

// SetMode switches the mode used by the next runs.
func (a *Adj) SetMode(m Mode) { a.mode = m }

// Mode returns the current mode.
func (a *Adj) Mode() Mode { return a.mode }

// Resample draws fresh Gumbel(0,1) noise g = -log(-log u) from rng for the
// next forward pass (one draw per pass, shared by the whole batch).
func (a *Adj) Resample(rng *rand.Rand) {
	for i := range a.noise {
		a.noise[i] = gumbel(rng)
	}
}

// SetNoise fixes the Gumbel noise (N*N, row-major) of the next runs, e.g. for
// gradient checks.
func (a *Adj) SetNoise(noise []float64) error {
	if len(noise) != len(a.noise) {
		return fmt.Errorf("comm: SetNoise: got %d values, want N*N = %d", len(noise), len(a.noise))
	}
	copy(a.noise, noise)
	return nil
}

// Noise returns a copy of the current Gumbel noise.
func (a *Adj) Noise() []float64 { return append([]float64(nil), a.noise...) }

// Matrix returns a copy of the adjacency value of the last run (before any
// run: the constant for fixed variants, zeros for the learned one).
func (a *Adj) Matrix() []float64 { return append([]float64(nil), a.last...) }

// gumbel draws Gumbel(0,1) by inversion; u is kept away from 0 and 1.
func gumbel(rng *rand.Rand) float64 {
	u := rng.Float64()
	if u < 1e-300 {
		u = 1e-300
	}
	return -math.Log(-math.Log(u))
}

// forwardAdjacency computes the forward value of A into out for mode m.
// ys is an N*N scratch, idx an N scratch.
func forwardAdjacency(out, alpha, noise, tie []float64, m Mode, n, k int, tau float64, ys []float64, idx []int) {
	switch m {
	case ModeWarmup:
		// (N-1) softmax_row(alpha) off the diagonal: every other agent is
		// heard, weighted by its share of the row (all 1 when alpha is
		// uniform); the diagonal is 1.
		rowSoftmax(out, alpha, nil, n, 1)
		for i := range out {
			out[i] *= float64(n - 1)
		}
		for i := 0; i < n; i++ {
			out[i*n+i] = 1
		}
	case ModeSample:
		rowSoftmax(ys, alpha, noise, n, 1/tau)
		topKRows(out, ys, tie, n, k, idx)
	default: // exact and frozen: top-k of alpha (same indices as of softmax(alpha))
		topKRows(out, alpha, tie, n, k, idx)
	}
}

// backwardAdjacency computes dL/dalpha from dL/dA (gA) for mode m. The
// diagonal of alpha gets no gradient.
func backwardAdjacency(out, alpha, noise, gA []float64, m Mode, n int, tau float64, ys []float64) {
	scale := 1.0
	switch m {
	case ModeWarmup, ModeSample, ModeExact:
		switch m {
		case ModeExact:
			noise, tau = nil, 1
		case ModeWarmup:
			noise, tau, scale = nil, 1, float64(n-1)
		}
		// straight-through: the gradient of y = softmax_row((alpha+g)/tau)
		// over the off-diagonal entries:
		// dalpha_ij = y_ij (gA_ij - sum_l gA_il y_il) / tau.
		rowSoftmax(ys, alpha, noise, n, 1/tau)
		for i := 0; i < n; i++ {
			r := ys[i*n : (i+1)*n]
			ga := gA[i*n : (i+1)*n]
			dot := 0.0
			for j := range r {
				if j != i {
					dot += ga[j] * r[j]
				}
			}
			for j := range r {
				out[i*n+j] = scale * r[j] * (ga[j] - dot) / tau
			}
		}
	default: // frozen
		clear(out)
	}
	for i := 0; i < n; i++ {
		out[i*n+i] = 0
	}
}

// rowSoftmax writes softmax_row((x + noise) * scale) over each row's
// off-diagonal entries into out (diagonal 0; noise may be nil).
func rowSoftmax(out, x, noise []float64, n int, scale float64) {
	for i := 0; i < n; i++ {
		mx := math.Inf(-1)
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			v := x[i*n+j]
			if noise != nil {
				v += noise[i*n+j]
			}
			v *= scale
			out[i*n+j] = v
			if v > mx {
				mx = v
			}
		}
		s := 0.0
		for j := 0; j < n; j++ {
			if j == i {
				out[i*n+j] = 0
				continue
			}
			e := math.Exp(out[i*n+j] - mx)
			out[i*n+j] = e
			s += e
		}
		if s == 0 { // a single agent
			continue
		}
		for j := 0; j < n; j++ {
			out[i*n+j] /= s
		}
	}
}

// topKRows writes, per row, 1 on the diagonal and on the k largest
// off-diagonal values of x, 0 elsewhere; among equal values the higher tie
// priority wins (a NaN loses to any number). idx is an N scratch. Cost
// O(k*N) per row.
func topKRows(out, x, tie []float64, n, k int, idx []int) {
	for i := 0; i < n; i++ {
		row := x[i*n : (i+1)*n]
		pr := tie[i*n : (i+1)*n]
		o := out[i*n : (i+1)*n]
		for j := range o {
			o[j] = 0
			idx[j] = 0 // 1 = taken
		}
		o[i], idx[i] = 1, 1
		for t := 0; t < min(k, n-1); t++ {
			best := -1
			for j := 0; j < n; j++ {
				if idx[j] != 0 {
					continue
				}
				if best < 0 || better(row[j], pr[j], row[best], pr[best]) {
					best = j
				}
			}
			idx[best] = 1
			o[best] = 1
		}
	}
}

// better reports whether value a (tie priority pa) ranks above b (pb).
func better(a, pa, b, pb float64) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case a != b:
		return a > b
	}
	return pa > pb
}
