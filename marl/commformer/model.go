package commformer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/comm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maskNeg is the additive logit of unavailable actions (heterogeneous action
// counts are padded to the largest and masked): exp(-1e9) underflows to 0 in
// both float32 and float64, and 0 * -1e9 keeps the entropy finite.
const maskNeg = -1e9

// model is the CommFormer network (spec section 1): observation embedding,
// graph-masked encoder with per-agent value heads, and a MAT-style
// autoregressive decoder with per-agent action heads. Its weights live in ps
// (the model optimiser's parameters) and, for the learned graph, the alpha
// logits in aps (the graph optimiser's).
//
// Per-agent heads: the reference's head is Linear -> GELU -> LayerNorm ->
// Linear per agent. Here the LayerNorm normalisation is shared and only the
// Linear layers are per agent; a per-agent LayerNorm gain and bias followed by
// a per-agent Linear is the same function class (the affine part folds into
// the next layer's weights), so nothing is lost.
type model struct {
	N, O, A, D int
	counts     []int
	ps, aps    *attention.Params
	// workers bounds the goroutines of the fused kernels of every graph
	// built from the model (Config.Workers; results do not depend on it).
	workers int

	obsLN2       *attention.LayerNorm
	obsLin       *attention.Linear
	gate         *comm.Gate
	graph        *comm.Graph
	edge         *attention.EdgeEmbedding
	enc          []*attention.EncoderBlock
	vLin1, vLin2 *agentLinear
	vLN          *attention.LayerNorm
	tokLin       *attention.Linear
	tokLN        *attention.LayerNorm
	dec          []*attention.DecoderBlock
	aLN1, aLN2   *attention.LayerNorm
	aLin1, aLin2 *agentLinear

	maskRow []float32 // [N*A] additive action mask of one sample
	// denseOnly keeps the updates on the dense attention pass even where
	// the sender lists would do (tests and benchmarks compare the two).
	denseOnly bool
}

// newModel creates the parameters in a fixed order from the init stream.
func newModel(dt tensor.Dtype, n, obsDim int, counts []int, cfg Config, gcfg comm.GraphConfig, rng *rand.Rand) (*model, error) {
	A := 0
	for _, c := range counts {
		A = max(A, c)
	}
	d := cfg.Embed
	m := &model{N: n, O: obsDim, A: A, D: d, counts: counts,
		ps: attention.NewParams(dt), aps: attention.NewParams(dt), workers: cfg.Workers}
	ps := m.ps
	u := attention.Uniform(rng, 1)
	m.obsLin = attention.NewLinear(ps, "obs.lin", obsDim, d, u)
	m.obsLN2 = attention.NewLayerNorm(ps, "obs.ln2", d)
	var err error
	gc := comm.GateConfig{Enabled: cfg.Gate, Dim: d, Hidden: cfg.GateHidden, Tau: cfg.GateTau, InitBias: cfg.GateBias, Score: cfg.GateEstimator == "score"}
	if m.gate, err = comm.NewGate(ps, "gate", gc, rng); err != nil {
		return nil, fmt.Errorf("commformer: %w", err)
	}
	if m.graph, err = comm.NewGraph(m.aps, "graph.alpha", gcfg); err != nil {
		return nil, fmt.Errorf("commformer: %w", err)
	}
	m.edge = attention.NewEdgeEmbedding(ps, "edge", d, rng)
	for l := 0; l < cfg.Blocks; l++ {
		m.enc = append(m.enc, attention.NewEncoderBlock(ps, fmt.Sprintf("enc%d", l), d, cfg.Heads, rng))
	}
	m.vLin1 = newAgentLinear(ps, "value.lin1", n, d, d, u)
	m.vLN = attention.NewLayerNorm(ps, "value.ln", d)
	m.vLin2 = newAgentLinear(ps, "value.lin2", n, d, 1, u)
	m.tokLin = attention.NewLinear(ps, "tok.lin", A+1, d, u)
	m.tokLN = attention.NewLayerNorm(ps, "tok.ln", d)
	for l := 0; l < cfg.Blocks; l++ {
		m.dec = append(m.dec, attention.NewDecoderBlock(ps, fmt.Sprintf("dec%d", l), d, cfg.Heads, rng))
	}
	m.aLN1 = attention.NewLayerNorm(ps, "act.ln1", d)
	m.aLin1 = newAgentLinear(ps, "act.lin1", n, d, d, u)
	m.aLN2 = attention.NewLayerNorm(ps, "act.ln2", d)
	// Small output layer: near-uniform initial policy (as MAT's gain 0.01).
	m.aLin2 = newAgentLinear(ps, "act.lin2", n, d, A, attention.Uniform(rng, 0.01))
	m.maskRow = make([]float32, n*A)
	for i, c := range counts {
		for a := c; a < A; a++ {
			m.maskRow[i*A+a] = maskNeg
		}
	}
	return m, nil
}

// commGraph returns the communication context for one forward pass.
// sparse (may be nil) switches the attention to the graph's sender lists at
// run time (see attention.Sparse).
func (m *model) commGraph(b *attention.Binder, adj *comm.Adj, gate *G.Node, rank *attention.Ranks, sparse *attention.Sparse) (attention.CommGraph, error) {
	e, err := m.edge.Forward(b, adj.A)
	if err != nil {
		return attention.CommGraph{}, err
	}
	return attention.CommGraph{N: m.N, A: adj.A, Edge: e, Gate: gate, Rank: rank, Sparse: sparse}, nil
}

// embed: LayerNorm -> Linear -> GELU -> LayerNorm of the observations. The
// first LayerNorm is applied to the data before it enters the graph (see
// normObs), so obs [B*N, O] is already normalised.
func (m *model) embed(b *attention.Binder, obs *G.Node) (*G.Node, error) {
	x, err := m.obsLin.ForwardData(b, obs)
	if err != nil {
		return nil, err
	}
	if x, err = b.Activate(attention.GELU, x); err != nil {
		return nil, err
	}
	return m.obsLN2.Forward(b, x)
}

// encode returns the encoder representation [B*N, d] and the values [B*N, 1].
// openCritic reports whether the values come from an encoder pass of their
// own with every gate open: with a score-function gate the gate is part of
// the agent's decision, and a baseline that sees the decision (V(s, g))
// would cancel its advantage, so that only the communication cost would
// reach the gate (measured: the signal task's listener then closes its gate
// and falls to chance). The critic is trained centrally and may hear every
// sender of the graph.
func (m *model) openCritic() bool { return m.gate.Enabled() && m.gate.Config().Score }

// encodeWithCritic is encode, with the values of the critic's ungated pass
// when openCritic.
func (m *model) encodeWithCritic(b *attention.Binder, x *G.Node, cg attention.CommGraph) (rep, values *G.Node, err error) {
	if rep, values, err = m.encode(b, x, cg); err != nil || !m.openCritic() {
		return rep, values, err
	}
	open := cg
	open.Gate = nil
	_, values, err = m.encode(b, x, open)
	return rep, values, err
}

func (m *model) encode(b *attention.Binder, x *G.Node, cg attention.CommGraph) (rep, values *G.Node, err error) {
	for _, blk := range m.enc {
		if x, err = blk.Forward(b, x, cg); err != nil {
			return nil, nil, err
		}
	}
	h, err := m.vLin1.forward(b, x)
	if err != nil {
		return nil, nil, err
	}
	if h, err = b.Activate(attention.GELU, h); err != nil {
		return nil, nil, err
	}
	if h, err = m.vLN.Forward(b, h); err != nil {
		return nil, nil, err
	}
	v, err := m.vLin2.forward(b, h)
	return x, v, err
}

// decode returns the masked action log-probabilities [B*N, A] from the
// agents' chosen-action tokens tok [B*N, A+1] (one-hot of 1+action), the
// encoder representation and the decoding order in cg.Rank.
//
// Tokens are embedded by tokLin -> GELU -> tokLN. The decoder stream starts
// from the embedded blank token (the start bit: no action) for every agent;
// the decoder blocks' self-attention reads the embedded action tokens of the
// senders decoded before the receiver (attention.DecoderBlock), so an edge
// j -> i delivers agent j's own action, governed by the mask like every
// other message (MAT's shifted tokens delivered agent i-1's action to i
// whatever the graph said).
func (m *model) decode(b *attention.Binder, tok, blank, rep, mask *G.Node, cg attention.CommGraph) (*G.Node, error) {
	act, err := m.embedToken(b, tok)
	if err != nil {
		return nil, err
	}
	x, err := m.embedToken(b, blank)
	if err != nil {
		return nil, err
	}
	for _, blk := range m.dec {
		if x, err = blk.Forward(b, x, act, rep, cg); err != nil {
			return nil, err
		}
	}
	if x, err = m.aLN1.Forward(b, x); err != nil {
		return nil, err
	}
	if x, err = m.aLin1.forward(b, x); err != nil {
		return nil, err
	}
	if x, err = b.Activate(attention.GELU, x); err != nil {
		return nil, err
	}
	if x, err = m.aLN2.Forward(b, x); err != nil {
		return nil, err
	}
	if x, err = m.aLin2.forward(b, x); err != nil {
		return nil, err
	}
	return maskedLogSoftmax(x, mask)
}

// embedToken: tokLin -> GELU -> tokLN of token rows [R, A+1].
func (m *model) embedToken(b *attention.Binder, tok *G.Node) (*G.Node, error) {
	x, err := m.tokLin.Forward(b, tok)
	if err != nil {
		return nil, err
	}
	if x, err = b.Activate(attention.GELU, x); err != nil {
		return nil, err
	}
	return m.tokLN.Forward(b, x)
}

// blankInput returns a constant [R, A+1] input of blank tokens (start bit).
func (m *model) blankInput(g *G.ExprGraph, R int) *G.Node {
	n, t := input(g, m.ps.Dtype, uniq("blank"), R, m.A+1)
	v := make([]float32, R*(m.A+1))
	for r := 0; r < R; r++ {
		v[r*(m.A+1)] = 1
	}
	put(t, v)
	return n
}

// input creates a matrix input node backed by a fresh tensor.
func input(g *G.ExprGraph, dt tensor.Dtype, name string, shape ...int) (*G.Node, *tensor.Dense) {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	var n *G.Node
	if len(shape) == 1 {
		n = G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	} else {
		n = G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	}
	return n, t
}

// scalarInput is a one-element input set to v, with the scalar node (its
// sum) to use in the loss; put a new value into the tensor before a run.
func scalarInput(g *G.ExprGraph, dt tensor.Dtype, name string, v float64) (*G.Node, *tensor.Dense, error) {
	n, t := input(g, dt, name, 1)
	put(t, []float32{float32(v)})
	s, err := G.Sum(n)
	return s, t, err
}

// put copies float32 values into a tensor of either float dtype.
func put(t *tensor.Dense, src []float32) {
	switch d := t.Data().(type) {
	case []float32:
		copy(d, src)
	case []float64:
		for i, v := range src {
			d[i] = float64(v)
		}
	}
}

// get copies a float tensor's values into dst as float32.
func get(dst []float32, v G.Value) {
	switch d := v.Data().(type) {
	case []float32:
		copy(dst, d)
	case []float64:
		for i := range dst {
			dst[i] = float32(d[i])
		}
	case float32:
		dst[0] = d
	case float64:
		dst[0] = float32(d)
	}
}

func scalarOf(v G.Value) float64 {
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		return float64(d[0])
	case []float64:
		return d[0]
	}
	return 0
}

var nodeSeq atomic.Uint64

// uniq returns a graph-unique node name.
func uniq(prefix string) string { return fmt.Sprintf("%s_%d", prefix, nodeSeq.Add(1)) }

// normObs writes the row-wise layer normalisation (zero mean, unit
// variance, eps 1e-5, no affine part) of the observations src [rows*O] into
// dst. The spec's first LayerNorm has a learned gain and bias, but an affine
// map followed by a Linear layer is again a Linear layer (W' = diag(g) W,
// c' = b W + c), so dropping them loses nothing; and normalising outside the
// graph makes the observation an input that needs no gradient, which saves
// the largest backward matrix product of the model (dx of obs x W).
func normObs(dst, src []float32, O int) {
	for r := 0; r+O <= len(src); r += O {
		x := src[r : r+O]
		var s float64
		for _, v := range x {
			s += float64(v)
		}
		mean := s / float64(O)
		var ss float64
		for _, v := range x {
			d := float64(v) - mean
			ss += d * d
		}
		rstd := 1 / math.Sqrt(ss/float64(O)+attention.LayerNormEps)
		y := dst[r : r+O]
		for j, v := range x {
			y[j] = float32((float64(v) - mean) * rstd)
		}
	}
}
