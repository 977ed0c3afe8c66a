package attention

import (
	"fmt"

	"gorgonia.org/tensor"

	"gonum.org/v1/gonum/blas"

	"github.com/commgraph/commgraph/attention/gemm"
)

// Inference path: plain float32 forward functions of the same blocks, reading
// the same Param tensors (no autodiff, no graph). They compute the same
// function as the gorgonia forward pass (the element-wise and attention
// arithmetic is literally shared; matrix products go through gemm.Sgemm,
// i.e. the backend installed by gemm.Use). They require a float32 Params.
// Matrices are row-major []float32; "rows" counts matrix rows.

func f32(p *Param) []float32 {
	if p.Value.Dtype() != tensor.Float32 {
		panic(fmt.Sprintf("attention: inference needs float32 parameters, %s is %v", p.Name, p.Value.Dtype()))
	}
	return p.Value.Float32s() // no allocation (Data() boxes a new slice header)
}

// F32 returns the float32 values of a float32 parameter without allocating.
func F32(p *Param) []float32 { return f32(p) }

// Infer writes x W + b into dst for x [rows, In] (dst [rows, Out]).
func (l *Linear) Infer(dst, x []float32, rows int) {
	l.InferStrided(dst, l.Out, x, l.In, rows)
}

// InferStrided is Infer on sub-matrices: row r of x starts at x[r*ldx] and
// row r of dst at dst[r*ldd] (e.g. the rows of one agent in a [B*N, d]
// buffer: ldx = N*d, starting at that agent's first row).
func (l *Linear) InferStrided(dst []float32, ldd int, x []float32, ldx, rows int) {
	if rows == 0 {
		return
	}
	gemm.Sgemm(blas.NoTrans, blas.NoTrans, rows, l.Out, l.In, 1, x, ldx, f32(l.W), l.Out, 0, dst, ldd)
	b := f32(l.B)
	for r := 0; r < rows; r++ {
		dr := dst[r*ldd : r*ldd+l.Out]
		for j, bj := range b {
			dr[j] += bj
		}
	}
}

// Infer normalises each row of x [rows, Dim] into dst (dst may be x).
func (l *LayerNorm) Infer(dst, x []float32) {
	layerNorm(dst[:len(x)], x, f32(l.Gain), f32(l.Bias), l.Dim, l.Eps, nil, nil)
}

// ActivateInto writes act(x) into dst (dst may be x).
func ActivateInto(act Activation, dst, x []float32) { activate(act, dst[:len(x)], x) }

// Infer returns the edge embeddings [N*N, d] of graph a [N*N].
func (e *EdgeEmbedding) Infer(a []float32) []float32 {
	out := make([]float32, len(a)*e.Dim)
	edgeEmbed(out, a, f32(e.Table), e.Dim)
	return out
}

// InferInto writes the edge embeddings of graph a [N*N] into dst [N*N, d]
// (reused if large enough) and returns it. With a sender list sd only the
// rows of listed pairs (i*N+j, j in sd's row i) are written.
func (e *EdgeEmbedding) InferInto(dst, a []float32, sd *Senders) []float32 {
	d := e.Dim
	if cap(dst) < len(a)*d {
		dst = make([]float32, len(a)*d)
	}
	dst = dst[:len(a)*d]
	if sd == nil {
		edgeEmbed(dst, a, f32(e.Table), d)
		return dst
	}
	for i := 0; i < sd.N; i++ {
		for _, j := range sd.row(i) {
			p := i*sd.N + int(j)
			edgeEmbed(dst[p*d:(p+1)*d], a[p:p+1], f32(e.Table), d)
		}
	}
	return dst
}

// InferGraph is the communication context of an inference pass.
type InferGraph struct {
	N    int
	A    []float32 // [N*N], rows = receivers
	Edge []float32 // [N*N*d] from EdgeEmbedding.Infer(A), or nil (no relation terms)
	Gate []float32 // [B*N] receiver gate, or nil (ones)
	// Rank is the decoding position of each agent, shared by every sample
	// ([N]; nil = agent-index order); see CommGraph.Rank.
	Rank []int32
	// Senders, if not nil, lists each receiver's senders (the nonzero
	// entries of its row of A, and itself): attention and relation
	// projections then cost O(N k d) per sample for a top-k graph; the
	// result is the dense pass's (see Senders).
	Senders *Senders
}

// Relations holds one attention layer's relation projections ra, rb
// ([N*N, d] each) of a graph; they depend on the graph only, so compute them
// once and reuse them for every sample and every decoding step.
type Relations struct {
	RA, RB []float32
	ce, cr []float32 // compact scratch of RelationsInto
}

// Relations computes the layer's projections of the edge embedding (nil
// projections when edge is nil).
func (m *MultiHeadAttention) Relations(edge []float32) Relations {
	var r Relations
	m.RelationsInto(&r, edge, nil)
	return r
}

// RelationsInto is Relations into r's buffers (reused when large enough).
// With a sender list sd only the rows of listed pairs are computed (the
// listed edge rows are gathered, projected by one matrix product each and
// scattered back; rows of other pairs are left as they were).
func (m *MultiHeadAttention) RelationsInto(r *Relations, edge []float32, sd *Senders) {
	if edge == nil {
		r.RA, r.RB = nil, nil
		return
	}
	d := m.Dim
	rows := len(edge) / d
	grow := func(b []float32, n int) []float32 {
		if cap(b) < n {
			return make([]float32, n)
		}
		return b[:n]
	}
	r.RA, r.RB = grow(r.RA, rows*d), grow(r.RB, rows*d)
	if sd == nil {
		m.RelA.Infer(r.RA, edge, rows)
		m.RelB.Infer(r.RB, edge, rows)
		return
	}
	E := 0
	for i := 0; i < sd.N; i++ {
		E += int(sd.Cnt[i])
	}
	r.ce, r.cr = grow(r.ce, E*d), grow(r.cr, E*d)
	e := 0
	for i := 0; i < sd.N; i++ {
		for _, j := range sd.row(i) {
			p := i*sd.N + int(j)
			copy(r.ce[e*d:(e+1)*d], edge[p*d:(p+1)*d])
			e++
		}
	}
	for _, pr := range []struct {
		l   *Linear
		dst []float32
	}{{m.RelA, r.RA}, {m.RelB, r.RB}} {
		pr.l.Infer(r.cr, r.ce, E)
		e = 0
		for i := 0; i < sd.N; i++ {
			for _, j := range sd.row(i) {
				p := i*sd.N + int(j)
				copy(pr.dst[p*d:(p+1)*d], r.cr[e*d:(e+1)*d])
				e++
			}
		}
	}
}

// InferScratch holds the buffers of one block's inference pass, reused from
// call to call (one per block: a block's output lives in its scratch).
type InferScratch struct {
	bufs [][]float32
	core coreScratch
}

// buf returns buffer number k with n values (contents unspecified).
func (sc *InferScratch) buf(k, n int) []float32 {
	for len(sc.bufs) <= k {
		sc.bufs = append(sc.bufs, nil)
	}
	if cap(sc.bufs[k]) < n {
		sc.bufs[k] = make([]float32, n)
	}
	return sc.bufs[k][:n]
}

func (m *MultiHeadAttention) shape(B int, g InferGraph) attnShape {
	return attnShape{B: B, N: g.N, H: m.Heads, Dh: m.Dim / m.Heads, Causal: m.Causal, NoSelf: m.NoSelf, Rank: g.Rank}
}

// Infer computes the attention output [B*N, d] for query rows and key/value
// rows (both [B*N, d]) into dst.
func (m *MultiHeadAttention) Infer(dst, query, kv []float32, B int, g InferGraph, rel Relations) {
	m.inferScratch(dst, query, kv, B, g, rel, new(InferScratch), 0)
}

// inferScratch is Infer with the buffers k0..k0+3 of sc.
func (m *MultiHeadAttention) inferScratch(dst, query, kv []float32, B int, g InferGraph, rel Relations, sc *InferScratch, k0 int) {
	rows := B * g.N
	q := sc.buf(k0, rows*m.Dim)
	k := sc.buf(k0+1, rows*m.Dim)
	v := sc.buf(k0+2, rows*m.Dim)
	o := sc.buf(k0+3, rows*m.Dim)
	m.Q.Infer(q, query, rows)
	m.K.Infer(k, kv, rows)
	m.V.Infer(v, kv, rows)
	attnForward(m.shape(B, g), g.Senders, &sc.core, 0, g.N, o, q, k, v, rel.RA, rel.RB, g.A, g.Gate, nil)
	m.O.Infer(dst, o, rows)
}

// Infer applies the encoder block to x [B*N, d] and returns a new [B*N, d].
func (e *EncoderBlock) Infer(x []float32, B int, g InferGraph, rel Relations) []float32 {
	return e.InferScratch(x, B, g, rel, new(InferScratch))
}

// InferScratch is Infer with the buffers of sc: the result is one of them,
// valid until sc's next use.
func (e *EncoderBlock) InferScratch(x []float32, B int, g InferGraph, rel Relations, sc *InferScratch) []float32 {
	d := e.Attn.Dim
	rows := B * g.N
	y := sc.buf(0, rows*d)
	e.Attn.inferScratch(y, x, x, B, g, rel, sc, 3)
	h := sc.buf(1, rows*d)
	for i := range h {
		h[i] = x[i] + y[i]
	}
	e.LN1.Infer(h, h)
	f := sc.buf(2, rows*d)
	e.FF1.Infer(f, h, rows)
	ActivateInto(ReLU, f, f)
	e.FF2.Infer(y, f, rows)
	for i := range h {
		h[i] += y[i]
	}
	e.LN2.Infer(h, h)
	return h
}

// DecoderState is an autoregressive pass of a DecoderBlock over B samples of
// N agents in the decoding order g.Rank: Step(i) consumes the decoder input
// rows of agent i and returns its block output, using the cached keys and
// values of the agents decoded before it; Commit(i) then adds agent i's
// chosen-action rows for the agents after it.
type DecoderState struct {
	blk       *DecoderBlock
	B         int
	g         InferGraph
	relS      Relations
	relC      Relations
	rS, rC    *Relations // the relations in use: &relS, &relC or shared ones
	enc       []float32  // [B*N, d] encoder representation
	qS, kS    []float32  // self-attention projections [B*N, d]
	vS, oS    []float32
	x1        []float32 // decoder stream after LN1 [B*N, d]
	qC, kC    []float32 // cross-attention projections [B*N, d]
	vC, oC    []float32
	tmp, tmp2 []float32 // [B, d] scratch
	core      coreScratch
	next      int
}

// Start begins an autoregressive pass given the encoder representation enc
// [B*N, d] and the graph; it reuses st's buffers when st is not nil and the
// sizes match. Relation projections are computed here, once per pass.
func (d *DecoderBlock) Start(st *DecoderState, enc []float32, B int, g InferGraph) *DecoderState {
	st = d.state(st, B, g)
	rows := B * g.N
	st.B, st.g, st.enc, st.next = B, g, enc, 0
	d.RelationsInto(&st.relS, &st.relC, g.Edge, g.Senders)
	st.rS, st.rC = &st.relS, &st.relC
	// The cross-attention queries come from the encoder: all known now.
	d.Cross.Q.Infer(st.qC, enc, rows)
	return st
}

// state returns st, or new buffers when st is nil or of another size.
func (d *DecoderBlock) state(st *DecoderState, B int, g InferGraph) *DecoderState {
	dim := d.Self.Dim
	rows := B * g.N
	if st == nil || st.blk != d || len(st.qS) != rows*dim {
		st = &DecoderState{blk: d}
		for _, p := range []*[]float32{&st.qS, &st.kS, &st.vS, &st.oS, &st.x1, &st.qC, &st.kC, &st.vC, &st.oC} {
			*p = make([]float32, rows*dim)
		}
		st.tmp = make([]float32, B*dim)
		st.tmp2 = make([]float32, B*dim)
	}
	return st
}

// RelationsInto computes the relation projections that Start computes for
// a pass on the graph with edge embedding edge and sender list sd: self
// for the self-attention, cross for the cross-attention.
func (d *DecoderBlock) RelationsInto(self, cross *Relations, edge []float32, sd *Senders) {
	d.Self.RelationsInto(self, edge, sd)
	d.Cross.RelationsInto(cross, edge, sd)
}

// StartShared is Start with the graph's relation projections given (as
// RelationsInto computes them) instead of computed: passes over different
// samples of the same graph, e.g. blocks of a batch on several goroutines,
// share one computation. self and cross are only read, and must stay
// unchanged until the pass ends. The results are Start's, bit for bit.
func (d *DecoderBlock) StartShared(st *DecoderState, enc []float32, B int, g InferGraph, self, cross *Relations) *DecoderState {
	st = d.state(st, B, g)
	rows := B * g.N
	st.B, st.g, st.enc, st.next = B, g, enc, 0
	st.rS, st.rC = self, cross
	d.Cross.Q.Infer(st.qC, enc, rows)
	return st
}

func (st *DecoderState) rank(i int) int {
	if st.g.Rank == nil {
		return i
	}
	return int(st.g.Rank[i])
}

// Step feeds the decoder input x [B, d] of agent i (row b = sample b) and
// writes the block output of agent i into out [B, d]. Agents must be fed in
// the order of g.Rank (agent-index order without it), each committed before
// the next is stepped.
func (st *DecoderState) Step(i int, x, out []float32) {
	if st.rank(i) != st.next {
		panic(fmt.Sprintf("attention: decoder step of agent %d at position %d, want position %d", i, st.next, st.rank(i)))
	}
	d := st.blk
	dim := d.Self.Dim
	N, B := st.g.N, st.B
	ld := N * dim
	at := func(buf []float32) []float32 { return buf[i*dim:] } // rows of agent i, stride ld

	// Self-attention: query = agent i's stream, keys/values = the committed
	// action rows of the agents before it.
	d.Self.Q.InferStrided(at(st.qS), ld, x, dim, B)
	attnForward(d.Self.shape(B, st.g), st.g.Senders, &st.core, i, i+1, st.oS, st.qS, st.kS, st.vS, st.rS.RA, st.rS.RB, st.g.A, st.g.Gate, nil)
	y := st.tmp
	d.Self.O.InferStrided(y, dim, at(st.oS), ld, B)
	for r := range y {
		y[r] += x[r]
	}
	d.LN1.Infer(y, y) // x1 rows of agent i
	for b := 0; b < B; b++ {
		copy(st.x1[(b*N+i)*dim:(b*N+i+1)*dim], y[b*dim:(b+1)*dim])
	}

	// Cross-attention: query = encoder row i, keys/values = x1 rows of i
	// and the agents before it.
	d.Cross.K.InferStrided(at(st.kC), ld, y, dim, B)
	d.Cross.V.InferStrided(at(st.vC), ld, y, dim, B)
	attnForward(d.Cross.shape(B, st.g), st.g.Senders, &st.core, i, i+1, st.oC, st.qC, st.kC, st.vC, st.rC.RA, st.rC.RB, st.g.A, st.g.Gate, nil)
	x2 := st.tmp
	d.Cross.O.InferStrided(x2, dim, at(st.oC), ld, B)
	for b := 0; b < B; b++ {
		e := st.enc[(b*N+i)*dim : (b*N+i+1)*dim]
		xr := x2[b*dim : (b+1)*dim]
		for c := range xr {
			xr[c] += e[c]
		}
	}
	d.LN2.Infer(x2, x2)

	// MLP with residual.
	h := st.tmp2
	d.MLP1.Infer(h, x2, B)
	ActivateInto(GELU, h, h)
	d.MLP2.Infer(out[:B*dim], h, B)
	for r := range out[:B*dim] {
		out[r] += x2[r]
	}
	d.LN3.Infer(out[:B*dim], out[:B*dim])
}

// Commit records agent i's embedded chosen-action rows act [B, d] as the
// self-attention keys and values seen by the agents decoded after it. Call
// it after Step(i).
func (st *DecoderState) Commit(i int, act []float32) {
	if st.rank(i) != st.next {
		panic(fmt.Sprintf("attention: decoder commit of agent %d at position %d, want position %d", i, st.next, st.rank(i)))
	}
	st.next++
	d := st.blk
	dim := d.Self.Dim
	ld := st.g.N * dim
	d.Self.K.InferStrided(st.kS[i*dim:], ld, act, dim, st.B)
	d.Self.V.InferStrided(st.vS[i*dim:], ld, act, dim, st.B)
}

// Infer runs the decoder block over all agents at once (teacher forcing):
// x, act and enc are [B*N, d]; it returns the output [B*N, d]. It is the
// incremental pass run to the end in the order g.Rank.
func (d *DecoderBlock) Infer(x, act, enc []float32, B int, g InferGraph) []float32 {
	dim := d.Self.Dim
	N := g.N
	st := d.Start(nil, enc, B, g)
	xi := make([]float32, B*dim)
	oi := make([]float32, B*dim)
	out := make([]float32, B*N*dim)
	order := make([]int, N)
	for i := range order {
		order[st.rank(i)] = i
	}
	for _, i := range order {
		for b := 0; b < B; b++ {
			copy(xi[b*dim:(b+1)*dim], x[(b*N+i)*dim:(b*N+i+1)*dim])
		}
		st.Step(i, xi, oi)
		for b := 0; b < B; b++ {
			copy(out[(b*N+i)*dim:(b*N+i+1)*dim], oi[b*dim:(b+1)*dim])
			copy(xi[b*dim:(b+1)*dim], act[(b*N+i)*dim:(b*N+i+1)*dim])
		}
		st.Commit(i, xi)
	}
	return out
}
