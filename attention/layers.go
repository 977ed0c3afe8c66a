package attention

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
)

// Linear is y = x W + b with W [In, Out] and b [Out], applied to x [M, In].
type Linear struct {
	W, B    *Param
	In, Out int
}

// NewLinear creates the parameters name+".w" (initialised by w) and
// name+".b" (zeros).
func NewLinear(ps *Params, name string, in, out int, w Init) *Linear {
	return &Linear{
		W:  ps.New(name+".w", []int{in, out}, w),
		B:  ps.New(name+".b", []int{out}, Zeros),
		In: in, Out: out,
	}
}

// Forward returns x W + b for x [M, In] (one fused op; the gradient flows
// to x, W and b).
func (l *Linear) Forward(b *Binder, x *G.Node) (*G.Node, error) {
	return l.forward(b, x, false)
}

// ForwardData is Forward for an x that is a graph input holding data (e.g.
// raw observations), so no gradient flows to x: the backward pass skips
// dL/dx, one GEMM as large as the forward product. It refuses an x computed
// by an op (such as a LayerNorm with trainable gain), whose parameters would
// then silently get no gradient.
func (l *Linear) ForwardData(b *Binder, x *G.Node) (*G.Node, error) {
	if x.Op() != nil {
		return nil, fmt.Errorf("attention: linear %s: ForwardData needs an input node, got the result of %v", l.W.Name, x.Op())
	}
	return l.forward(b, x, true)
}

func (l *Linear) forward(b *Binder, x *G.Node, noDX bool) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != l.In {
		return nil, fmt.Errorf("attention: linear %s: input %v, want [M %d]", l.W.Name, x.Shape(), l.In)
	}
	return applyKernel(linearKernel{noDX: noDX, workers: b.Workers}, x, b.Node(l.W), b.Node(l.B))
}

// LayerNormEps is the epsilon of every LayerNorm (PyTorch's default).
const LayerNormEps = 1e-5

// LayerNorm normalises over the last dimension with a learned gain (init 1)
// and bias (init 0).
type LayerNorm struct {
	Gain, Bias *Param
	Dim        int
	Eps        float64
}

// NewLayerNorm creates name+".g" and name+".b" of length dim.
func NewLayerNorm(ps *Params, name string, dim int) *LayerNorm {
	return &LayerNorm{
		Gain: ps.New(name+".g", []int{dim}, Ones),
		Bias: ps.New(name+".b", []int{dim}, Zeros),
		Dim:  dim, Eps: LayerNormEps,
	}
}

// Forward normalises each row of x [M, Dim].
func (l *LayerNorm) Forward(b *Binder, x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != l.Dim {
		return nil, fmt.Errorf("attention: layernorm %s: input %v, want [M %d]", l.Gain.Name, x.Shape(), l.Dim)
	}
	return applyKernel(&layerNormKernel{eps: l.Eps, workers: b.Workers}, x, b.Node(l.Gain), b.Node(l.Bias))
}

// Activate applies an element-wise activation to x (any shape), on one
// goroutine (see Binder.Activate).
func Activate(act Activation, x *G.Node) (*G.Node, error) {
	return applyKernel(&activationKernel{act: act, workers: 1}, x)
}

// Activate is Activate whose float32 GELU splits its passes over
// b.Workers goroutines (element blocks; the bits do not depend on it).
func (b *Binder) Activate(act Activation, x *G.Node) (*G.Node, error) {
	return applyKernel(&activationKernel{act: act, workers: b.Workers}, x)
}

// EdgeEmbedding is the 2 x d table of edge-type embeddings, E0 (no edge) and
// E1 (edge). With a relaxed graph A the embedding of pair ij is
// (1-A_ij) E0 + A_ij E1, so the gradient reaches A. One table is shared by
// every attention layer of a model (as in the reference).
type EdgeEmbedding struct {
	Table *Param
	Dim   int
}

// NewEdgeEmbedding creates name+".table" [2, dim].
func NewEdgeEmbedding(ps *Params, name string, dim int, rng *rand.Rand) *EdgeEmbedding {
	return &EdgeEmbedding{Table: ps.New(name+".table", []int{2, dim}, Uniform(rng, 1)), Dim: dim}
}

// Forward returns the edge embeddings [N*N, d] (row i*N+j) of graph a [N, N].
func (e *EdgeEmbedding) Forward(b *Binder, a *G.Node) (*G.Node, error) {
	return applyKernel(edgeEmbedKernel{}, a, b.Node(e.Table))
}

// CommGraph is the communication context of one forward pass, shared by all
// samples of the batch (except the gate, which is per sample).
type CommGraph struct {
	// N is the number of agents per sample; inputs are [B*N, d] with the
	// agents of one sample in consecutive rows.
	N int
	// A is the [N, N] graph (rows = receivers, columns = senders), values in
	// [0, 1]; it may carry gradient (straight-through). The diagonal is
	// ignored: every agent always hears itself.
	A *G.Node
	// Edge is the edge-type embedding [N*N, d] from EdgeEmbedding.Forward(A),
	// or nil to drop the relation terms.
	Edge *G.Node
	// Gate is an optional per-sample receiver gate [B, N] (values in [0, 1]):
	// M_ij = Gate_i * A_ij for j != i. Nil means a gate of ones.
	Gate *G.Node
	// Rank is the decoding order read by causal attention (the decoder):
	// sender j is visible to receiver i iff Rank(j) < Rank(i). Nil means
	// agent-index order. Its values are read at run time, so one compiled
	// graph serves every order.
	Rank *Ranks
	// Sparse, if not nil, lets the attention visit only the senders of each
	// receiver's row of A when Sparse.On at run time (O(N k d) instead of
	// O(N^2 d) for a top-k graph); the mask gradient of pairs outside the
	// graph is then not computed (see Senders).
	Sparse *Sparse
}

// Ranks holds decoding positions: R[b*N+i] is agent i's position in sample
// b's decoding order (length B*N), or R[i] shared by every sample (length
// N); nil or empty means agent-index order. Set R before each run.
type Ranks struct{ R []int32 }

// SetOrder fills r with the ranks of the permutations order (each a decoding
// order of N agents, concatenated: len(order) = B*N or N).
func (r *Ranks) SetOrder(order []int32, n int) {
	if cap(r.R) < len(order) {
		r.R = make([]int32, len(order))
	}
	r.R = r.R[:len(order)]
	for s := 0; s+n <= len(order); s += n {
		for p, i := range order[s : s+n] {
			r.R[s+int(i)] = int32(p)
		}
	}
}

// MultiHeadAttention is graph-masked relation-aware multi-head attention
// (CommFormer; see attncore.go for the formula).
type MultiHeadAttention struct {
	Q, K, V, O *Linear
	// RelA and RelB project the edge embedding to ra and rb (both [d, d]);
	// computed once per forward from the graph, not per sample.
	RelA, RelB *Linear
	Dim, Heads int
	Causal     bool
	// NoSelf drops the receiver from its own attention (see attnShape).
	NoSelf bool
}

// NewMultiHeadAttention creates the projections name+".{q,k,v,o,ra,rb}".
// dim must be a multiple of heads.
func NewMultiHeadAttention(ps *Params, name string, dim, heads int, causal bool, rng *rand.Rand) *MultiHeadAttention {
	if heads <= 0 || dim%heads != 0 {
		panic(fmt.Sprintf("attention: %s: dim %d not a multiple of heads %d", name, dim, heads))
	}
	init := Uniform(rng, 1)
	return &MultiHeadAttention{
		Q:    NewLinear(ps, name+".q", dim, dim, init),
		K:    NewLinear(ps, name+".k", dim, dim, init),
		V:    NewLinear(ps, name+".v", dim, dim, init),
		O:    NewLinear(ps, name+".o", dim, dim, init),
		RelA: NewLinear(ps, name+".ra", dim, dim, init),
		RelB: NewLinear(ps, name+".rb", dim, dim, init),
		Dim:  dim, Heads: heads, Causal: causal,
	}
}

// Forward attends from query rows [B*N, d] to key/value rows [B*N, d] under
// the graph cg and returns W_o (sum_j w_ij v_j) + b_o, [B*N, d].
func (m *MultiHeadAttention) Forward(b *Binder, query, kv *G.Node, cg CommGraph) (*G.Node, error) {
	if cg.A == nil || cg.N <= 0 {
		return nil, fmt.Errorf("attention: %s: CommGraph needs N and A", m.Q.W.Name)
	}
	q, err := m.Q.Forward(b, query)
	if err != nil {
		return nil, err
	}
	k, err := m.K.Forward(b, kv)
	if err != nil {
		return nil, err
	}
	v, err := m.V.Forward(b, kv)
	if err != nil {
		return nil, err
	}
	ker := &attnKernel{n: cg.N, heads: m.Heads, causal: m.Causal, noSelf: m.NoSelf, rank: cg.Rank, diffA: true, diffG: true, sparse: cg.Sparse, workers: b.Workers}
	in := []*G.Node{q, k, v, cg.A}
	if cg.Edge != nil {
		ra, err := m.RelA.Forward(b, cg.Edge)
		if err != nil {
			return nil, err
		}
		rb, err := m.RelB.Forward(b, cg.Edge)
		if err != nil {
			return nil, err
		}
		ker.rel = true
		in = append(in, ra, rb)
	}
	if cg.Gate != nil {
		ker.gate = true
		in = append(in, cg.Gate)
	}
	o, err := applyKernel(ker, in...)
	if err != nil {
		return nil, err
	}
	return m.O.Forward(b, o)
}

// EncoderBlock is one post-LayerNorm transformer block:
// x = LN1(x + Attn(x, x)); x = LN2(x + W2 ReLU(W1 x)).
type EncoderBlock struct {
	Attn     *MultiHeadAttention
	LN1, LN2 *LayerNorm
	FF1, FF2 *Linear
}

// NewEncoderBlock creates name+".{attn,ln1,ln2,ff1,ff2}" (feed-forward width dim).
func NewEncoderBlock(ps *Params, name string, dim, heads int, rng *rand.Rand) *EncoderBlock {
	return &EncoderBlock{
		Attn: NewMultiHeadAttention(ps, name+".attn", dim, heads, false, rng),
		LN1:  NewLayerNorm(ps, name+".ln1", dim),
		LN2:  NewLayerNorm(ps, name+".ln2", dim),
		FF1:  NewLinear(ps, name+".ff1", dim, dim, Uniform(rng, 1)),
		FF2:  NewLinear(ps, name+".ff2", dim, dim, Uniform(rng, 1)),
	}
}

// Forward applies the block to x [B*N, d].
func (e *EncoderBlock) Forward(b *Binder, x *G.Node, cg CommGraph) (*G.Node, error) {
	y, err := e.Attn.Forward(b, x, x, cg)
	if err != nil {
		return nil, err
	}
	if x, err = addLN(b, e.LN1, x, y); err != nil {
		return nil, err
	}
	y, err = mlp(b, e.FF1, ReLU, e.FF2, x)
	if err != nil {
		return nil, err
	}
	return addLN(b, e.LN2, x, y)
}

// DecoderBlock is the MAT decoder block with graph masks (Wen et al. 2022,
// "Multi-Agent Reinforcement Learning is a Sequence Modeling Problem"),
// changed so that an edge j -> i delivers agent j's own chosen action:
//
//	x = LN1(x + SelfAttn(query x, key/value act))   graph-masked, causal, no self
//	x = LN2(enc + CrossAttn(enc, x))                query = encoder rep, key/value = x; graph-masked, causal
//	x = LN3(x + W2 GELU(W1 x))
//
// act holds each agent's embedded chosen-action token; receiver i sees the
// rows of the senders j that its graph row admits and that decode before it
// (CommGraph.Rank), never its own (not chosen yet when it decides). x is the
// decoder stream (for the first block, the embedded blank token, which
// carries no action). In MAT the input token of position i is agent i-1's
// action, so an edge i <- j there delivered agent j-1's action; here the
// token stream and the query stream are separate and no shift is needed.
type DecoderBlock struct {
	Self, Cross   *MultiHeadAttention
	LN1, LN2, LN3 *LayerNorm
	MLP1, MLP2    *Linear
}

// NewDecoderBlock creates name+".{self,cross,ln1,ln2,ln3,mlp1,mlp2}".
func NewDecoderBlock(ps *Params, name string, dim, heads int, rng *rand.Rand) *DecoderBlock {
	d := &DecoderBlock{
		Self:  NewMultiHeadAttention(ps, name+".self", dim, heads, true, rng),
		Cross: NewMultiHeadAttention(ps, name+".cross", dim, heads, true, rng),
		LN1:   NewLayerNorm(ps, name+".ln1", dim),
		LN2:   NewLayerNorm(ps, name+".ln2", dim),
		LN3:   NewLayerNorm(ps, name+".ln3", dim),
		MLP1:  NewLinear(ps, name+".mlp1", dim, dim, Uniform(rng, 1)),
		MLP2:  NewLinear(ps, name+".mlp2", dim, dim, Uniform(rng, 1)),
	}
	d.Self.NoSelf = true
	return d
}

// Forward applies the block to the decoder stream x [B*N, d] given the
// embedded action tokens act [B*N, d] and the encoder representation enc
// [B*N, d].
func (d *DecoderBlock) Forward(b *Binder, x, act, enc *G.Node, cg CommGraph) (*G.Node, error) {
	y, err := d.Self.Forward(b, x, act, cg)
	if err != nil {
		return nil, err
	}
	if x, err = addLN(b, d.LN1, x, y); err != nil {
		return nil, err
	}
	y, err = d.Cross.Forward(b, enc, x, cg)
	if err != nil {
		return nil, err
	}
	if x, err = addLN(b, d.LN2, enc, y); err != nil {
		return nil, err
	}
	y, err = mlp(b, d.MLP1, GELU, d.MLP2, x)
	if err != nil {
		return nil, err
	}
	return addLN(b, d.LN3, x, y)
}

// addLN is ln(x + y) as one op (addLayerNormKernel).
func addLN(b *Binder, ln *LayerNorm, x, y *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != ln.Dim {
		return nil, fmt.Errorf("attention: layernorm %s: input %v, want [M %d]", ln.Gain.Name, x.Shape(), ln.Dim)
	}
	return applyKernel(&addLayerNormKernel{ln: layerNormKernel{eps: ln.Eps, workers: b.Workers}}, x, y, b.Node(ln.Gain), b.Node(ln.Bias))
}

func mlp(b *Binder, l1 *Linear, act Activation, l2 *Linear, x *G.Node) (*G.Node, error) {
	h, err := l1.Forward(b, x)
	if err != nil {
		return nil, err
	}
	if h, err = b.Activate(act, h); err != nil {
		return nil, err
	}
	return l2.Forward(b, h)
}
