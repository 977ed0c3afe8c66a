package attention

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// Graph-masked relation-aware attention core (CommFormer, Hu et al., ICLR
// 2024, arXiv 2405.08550, section 4; relation-aware scores after Shaw et al.
// 2018 and the Graph Transformer of Cai & Lam 2020).
//
// For sample b, head h, receiver (query) i and sender (key) j:
//
//	C_bi  = the senders i may attend to: every j, or, if causal, the j that
//	        decode before i in sample b's order (rank_bj < rank_bi), plus i
//	        itself unless NoSelf
//	M_bij = 1 if i == j, else g_bi * A_ij (g = 1 without a gate); M+ = max(M, 0)
//	s_ij  = (q_i + ra_ij) . (k_j + rb_ij) / sqrt(d_h)
//	w_ij  = exp(s_ij) M+_bij / sum_(l in C) exp(s_il) M+_bil    (j in C)
//	o_i   = sum_j w_ij v_j                                       (0 if no j has M+ > 0)
//
// For a 0/1 mask this is exactly the softmax over the unmasked senders; for
// a fractional mask (the warm-up's alpha-weighted dense graph) it weights
// each sender's softmax term by its mask entry. The mask gradient is the
// derivative of this renormalised form,
//
//	dL/dM_bij = (exp(s_ij) / Z_bi) ((dL/do_i) . v_j - (dL/do_i) . o_i),
//
// which is defined also where M_bij = 0: an edge that is not in the current
// graph still learns whether adding it would lower the loss (its sender's
// value against what the receiver already hears). That is how unselected
// edges of the learned graph and closed gates get gradient (the reference's
// post-softmax product gives them none); it costs the scores of the masked
// pairs, computed in the backward pass only when dA or dg is wanted.

type attnShape struct {
	B, N, H, Dh int
	Causal      bool
	// NoSelf removes the receiver itself from C (the decoder's
	// self-attention over chosen actions: an agent's own action is not
	// known when it decides).
	NoSelf bool
	// Rank is the decoding position of each agent: length B*N (per sample),
	// N (shared by every sample) or nil (rank = agent index). Only causal
	// attention reads it.
	Rank []int32
}

func (s attnShape) dim() int { return s.H * s.Dh }

func (s attnShape) rank(b, i int) int32 {
	switch len(s.Rank) {
	case 0:
		return int32(i)
	case s.N:
		return s.Rank[i]
	}
	return s.Rank[b*s.N+i]
}

// maskRow fills m[j] = M_bij and ok[j] = (j in C_bi) for every j.
func maskRow[T float](s attnShape, m []float64, ok []bool, a, g []T, b, i int) {
	gi := 1.0
	if g != nil {
		gi = float64(g[b*s.N+i])
	}
	ri := s.rank(b, i)
	for j := 0; j < s.N; j++ {
		if j == i {
			m[j] = 1
			ok[j] = !s.NoSelf
			continue
		}
		m[j] = gi * float64(a[i*s.N+j])
		ok[j] = !s.Causal || s.rank(b, j) < ri
	}
}

// score returns s_ij for head h.
func score[T float](s attnShape, q, k, ra, rb []T, b, h, i, j int) float64 {
	D, dh := s.dim(), s.Dh
	row := b*s.N + i
	qi := q[row*D+h*dh : row*D+h*dh+dh]
	col := b*s.N + j
	kj := k[col*D+h*dh : col*D+h*dh+dh]
	var acc T
	if ra != nil {
		e := (i*s.N + j) * D
		acc = dotRel(qi, ra[e+h*dh:e+h*dh+dh], kj, rb[e+h*dh:e+h*dh+dh])
	} else {
		acc = dot(qi, kj)
	}
	return float64(acc) / math.Sqrt(float64(dh))
}

// scoresRow computes p[j] = exp(s_ij) / Z_bi for the senders with M+ > 0
// (0 elsewhere), so that w_ij = p[j] * m[j]. It returns false when no sender
// has M+ > 0 (then p is all zero and o_i = 0).
func scoresRow[T float](s attnShape, p, m []float64, ok []bool, q, k, ra, rb []T, b, h, i int) bool {
	best := math.Inf(-1)
	for j := 0; j < s.N; j++ {
		if !ok[j] || !(m[j] > 0) {
			p[j] = 0
			continue
		}
		v := score(s, q, k, ra, rb, b, h, i, j)
		p[j] = v
		best = max(best, v)
	}
	if math.IsInf(best, -1) {
		clear(p[:s.N])
		return false
	}
	var z float64
	for j := 0; j < s.N; j++ {
		if !ok[j] || !(m[j] > 0) {
			continue
		}
		e := math.Exp(p[j] - best)
		p[j] = e
		z += e * m[j]
	}
	for j := 0; j < s.N; j++ {
		p[j] /= z
	}
	return true
}

// attnForward computes the output rows of receivers iLo <= i < iHi of every
// sample (other rows of out are left untouched). q, k, v, out are [B*N, H*Dh]
// row-major; ra, rb are [N*N, H*Dh] (row i*N+j) or both nil; a is [N, N]; g is
// [B, N] or nil.
//
// When probs is not nil (length B*N*H*N) the values p of scoresRow are kept
// there for attnBackward, entry ((b*N+i)*H+h)*N+j.
func attnForward[T float](s attnShape, iLo, iHi int, out, q, k, v, ra, rb, a, g []T, probs []float64) {
	D, dh := s.dim(), s.Dh
	p := make([]float64, s.N)
	m := make([]float64, s.N)
	ok := make([]bool, s.N)
	for b := 0; b < s.B; b++ {
		for i := iLo; i < iHi; i++ {
			maskRow(s, m, ok, a, g, b, i)
			row := b*s.N + i
			for h := 0; h < s.H; h++ {
				scoresRow(s, p, m, ok, q, k, ra, rb, b, h, i)
				if probs != nil {
					copy(probs[(row*s.H+h)*s.N:(row*s.H+h+1)*s.N], p)
				}
				o := out[row*D+h*dh : row*D+h*dh+dh]
				clear(o)
				for j := 0; j < s.N; j++ {
					if p[j] == 0 {
						continue
					}
					w := T(p[j] * m[j])
					col := b*s.N + j
					axpy(w, v[col*D+h*dh:col*D+h*dh+dh], o)
				}
			}
		}
	}
}

// attnGrads holds the gradient buffers of attnBackward (nil = not wanted,
// except that dq, dk, dv are always computed).
type attnGrads[T float] struct {
	dq, dk, dv, da, dra, drb, dg []T
}

// attnBackward accumulates the gradients of the loss given gout = dL/dout.
// All gradient buffers must be zeroed by the caller. probs, when not nil,
// holds the values recorded by attnForward (else they are recomputed).
func attnBackward[T float](s attnShape, gr attnGrads[T], gout, q, k, v, ra, rb, a, g []T, probs []float64) {
	D, dh := s.dim(), s.Dh
	scale := 1 / math.Sqrt(float64(dh))
	p := make([]float64, s.N)
	m := make([]float64, s.N)
	ok := make([]bool, s.N)
	dm := make([]float64, s.N)
	dw := make([]float64, s.N)
	wantMask := gr.da != nil || gr.dg != nil
	for b := 0; b < s.B; b++ {
		for i := 0; i < s.N; i++ {
			maskRow(s, m, ok, a, g, b, i)
			row := b*s.N + i
			clear(dm)
			for h := 0; h < s.H; h++ {
				var any bool
				if probs != nil {
					copy(p, probs[(row*s.H+h)*s.N:(row*s.H+h+1)*s.N])
					for _, x := range p {
						any = any || x != 0
					}
				} else {
					any = scoresRow(s, p, m, ok, q, k, ra, rb, b, h, i)
				}
				if !any {
					continue // o_i = 0 whatever the inputs: no gradient
				}
				off := h * dh
				goi := gout[row*D+off : row*D+off+dh]
				qi := q[row*D+off : row*D+off+dh]
				dqi := gr.dq[row*D+off : row*D+off+dh]
				// c = dL/do_i . o_i = sum_j w_j dw_j.
				var c float64
				ref := -1
				for j := 0; j < s.N; j++ {
					if p[j] == 0 {
						continue
					}
					col := b*s.N + j
					vj := v[col*D+off : col*D+off+dh]
					w := T(p[j] * m[j])
					dw[j] = float64(dot(goi, vj))
					axpy(w, goi, gr.dv[col*D+off:col*D+off+dh])
					c += p[j] * m[j] * dw[j]
					if ref < 0 || p[j] > p[ref] {
						ref = j
					}
				}
				for j := 0; j < s.N; j++ {
					if p[j] == 0 {
						continue
					}
					dm[j] += p[j] * (dw[j] - c)
					t := T(scale * p[j] * m[j] * (dw[j] - c))
					if t == 0 {
						continue
					}
					col := b*s.N + j
					kj := k[col*D+off : col*D+off+dh]
					dkj := gr.dk[col*D+off : col*D+off+dh]
					if ra != nil {
						e := (i*s.N+j)*D + off
						relGrad(t, qi, ra[e:e+dh], kj, rb[e:e+dh], dqi, dkj, gr.dra[e:e+dh], gr.drb[e:e+dh])
					} else {
						axpy(t, kj, dqi)
						axpy(t, qi, dkj)
					}
				}
				if !wantMask {
					continue
				}
				// Senders in C that the mask leaves out: p_j = exp(s_ij)/Z,
				// obtained relative to the reference sender's p.
				sRef := score(s, q, k, ra, rb, b, h, i, ref)
				for j := 0; j < s.N; j++ {
					if !ok[j] || m[j] > 0 || j == i {
						continue
					}
					pj := p[ref] * math.Exp(score(s, q, k, ra, rb, b, h, i, j)-sRef)
					col := b*s.N + j
					dwj := float64(dot(goi, v[col*D+off:col*D+off+dh]))
					dm[j] += pj * (dwj - c)
				}
			}
			// Mask gradients: M_bij = g_bi * A_ij for j != i.
			gi := 1.0
			if g != nil {
				gi = float64(g[row])
			}
			var dgi float64
			for j := 0; j < s.N; j++ {
				if j == i || dm[j] == 0 {
					continue
				}
				if gr.da != nil {
					gr.da[i*s.N+j] += T(dm[j] * gi)
				}
				dgi += dm[j] * float64(a[i*s.N+j])
			}
			if gr.dg != nil {
				gr.dg[row] += T(dgi)
			}
		}
	}
}

// attnKernel adapts the core to the fused-op interface. Inputs in order:
// q, k, v [B*N, D]; a [N, N]; then ra, rb [N*N, D] if rel; then g [B, N] if gate.
type attnKernel struct {
	n, heads     int
	causal       bool
	noSelf       bool
	rank         *Ranks // decoding order of causal attention (nil: index order)
	rel, gate    bool
	diffA, diffG bool
	cache        bool
	probs        []float64 // probabilities of the last forward (when cache)
}

func (k *attnKernel) enableCache() { k.cache = true }

func (k *attnKernel) name() string {
	return fmt.Sprintf("GraphAttention{N=%d,H=%d,causal=%v,noself=%v,rel=%v,gate=%v}", k.n, k.heads, k.causal, k.noSelf, k.rel, k.gate)
}

func (k *attnKernel) arity() int {
	n := 4
	if k.rel {
		n += 2
	}
	if k.gate {
		n++
	}
	return n
}

func (k *attnKernel) diffWRT() []bool {
	d := []bool{true, true, true, k.diffA}
	if k.rel {
		d = append(d, true, true)
	}
	if k.gate {
		d = append(d, k.diffG)
	}
	return d
}

func (k *attnKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	q, kk, v, a := s[0], s[1], s[2], s[3]
	if q.Dims() != 2 || !q.Eq(kk) || !q.Eq(v) {
		return nil, fmt.Errorf("query %v, key %v and value %v must be equal [B*N, D]", q, kk, v)
	}
	if q[0]%k.n != 0 {
		return nil, fmt.Errorf("rows %d not a multiple of N=%d", q[0], k.n)
	}
	if q[1]%k.heads != 0 {
		return nil, fmt.Errorf("dim %d not a multiple of heads %d", q[1], k.heads)
	}
	if !a.Eq(tensor.Shape{k.n, k.n}) {
		return nil, fmt.Errorf("graph %v, want [%d %d]", a, k.n, k.n)
	}
	idx := 4
	if k.rel {
		for _, r := range s[4:6] {
			if !r.Eq(tensor.Shape{k.n * k.n, q[1]}) {
				return nil, fmt.Errorf("relation %v, want [%d %d]", r, k.n*k.n, q[1])
			}
		}
		idx = 6
	}
	if k.gate {
		if s[idx].TotalSize() != q[0] {
			return nil, fmt.Errorf("gate %v, want [%d %d]", s[idx], q[0]/k.n, k.n)
		}
	}
	return q.Clone(), nil
}

func (k *attnKernel) shape(q *tensor.Dense) attnShape {
	s := attnShape{B: q.Shape()[0] / k.n, N: k.n, H: k.heads, Dh: q.Shape()[1] / k.heads, Causal: k.causal, NoSelf: k.noSelf}
	if k.rank != nil {
		s.Rank = k.rank.R
	}
	return s
}

// split returns ra, rb, g (possibly nil).
func (k *attnKernel) split(in []*tensor.Dense) (ra, rb, g *tensor.Dense) {
	idx := 4
	if k.rel {
		ra, rb = in[4], in[5]
		idx = 6
	}
	if k.gate {
		g = in[idx]
	}
	return
}

func (k *attnKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	s := k.shape(in[0])
	ra, rb, g := k.split(in)
	var probs []float64
	if k.cache {
		n := s.B * s.N * s.H * s.N
		if cap(k.probs) < n {
			k.probs = make([]float64, n)
		}
		probs = k.probs[:n]
	}
	switch in[0].Dtype() {
	case tensor.Float32:
		attnForward(s, 0, s.N, slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]),
			slice[float32](ra), slice[float32](rb), slice[float32](in[3]), slice[float32](g), probs)
	default:
		attnForward(s, 0, s.N, slice[float64](out), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]),
			slice[float64](ra), slice[float64](rb), slice[float64](in[3]), slice[float64](g), probs)
	}
	return nil
}

func (k *attnKernel) backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) error {
	s := k.shape(in[0])
	dt := in[0].Dtype()
	// dq, dk, dv are always needed by the kernel's accumulation.
	for i := 0; i < 3; i++ {
		if grads[i] == nil {
			grads[i] = newLike(dt, in[i].Shape()...)
		}
	}
	// The core accumulates: start from zero.
	for _, gd := range grads {
		if gd != nil {
			gd.Zero()
		}
	}
	ra, rb, g := k.split(in)
	idx := 4
	var dra, drb, dg *tensor.Dense
	if k.rel {
		dra, drb = grads[4], grads[5]
		idx = 6
	}
	if k.gate {
		dg = grads[idx]
	}
	var probs []float64
	if n := s.B * s.N * s.H * s.N; k.cache && len(k.probs) >= n {
		probs = k.probs[:n]
	}
	switch dt {
	case tensor.Float32:
		gr := attnGrads[float32]{dq: slice[float32](grads[0]), dk: slice[float32](grads[1]), dv: slice[float32](grads[2]),
			da: slice[float32](grads[3]), dra: slice[float32](dra), drb: slice[float32](drb), dg: slice[float32](dg)}
		attnBackward(s, gr, slice[float32](gout), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]),
			slice[float32](ra), slice[float32](rb), slice[float32](in[3]), slice[float32](g), probs)
	default:
		gr := attnGrads[float64]{dq: slice[float64](grads[0]), dk: slice[float64](grads[1]), dv: slice[float64](grads[2]),
			da: slice[float64](grads[3]), dra: slice[float64](dra), drb: slice[float64](drb), dg: slice[float64](dg)}
		attnBackward(s, gr, slice[float64](gout), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]),
			slice[float64](ra), slice[float64](rb), slice[float64](in[3]), slice[float64](g), probs)
	}
	return nil
}

// Inner loops with four independent accumulators (instruction-level
// parallelism; Go does not vectorise) and bounds checks hoisted by reslicing.

func dot[T float](a, b []T) T {
	b = b[:len(a)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotRel returns (q + ra) . (k + rb).
func dotRel[T float](q, ra, k, rb []T) T {
	n := len(q)
	ra, k, rb = ra[:n], k[:n], rb[:n]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += (q[i] + ra[i]) * (k[i] + rb[i])
		s1 += (q[i+1] + ra[i+1]) * (k[i+1] + rb[i+1])
		s2 += (q[i+2] + ra[i+2]) * (k[i+2] + rb[i+2])
		s3 += (q[i+3] + ra[i+3]) * (k[i+3] + rb[i+3])
	}
	for ; i < n; i++ {
		s0 += (q[i] + ra[i]) * (k[i] + rb[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds a*x to y.
func axpy[T float](a T, x, y []T) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}

// relGrad accumulates the gradients of t*((q+ra).(k+rb)) into dq, dk, dra,
// drb.
func relGrad[T float](t T, q, ra, k, rb, dq, dk, dra, drb []T) {
	n := len(q)
	ra, k, rb, dq, dk, dra, drb = ra[:n], k[:n], rb[:n], dq[:n], dk[:n], dra[:n], drb[:n]
	for i := 0; i < n; i++ {
		kb := t * (k[i] + rb[i])
		qa := t * (q[i] + ra[i])
		dq[i] += kb
		dra[i] += kb
		dk[i] += qa
		drb[i] += qa
	}
}
