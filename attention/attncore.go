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
//	M_bij = 1 if i == j, else g_bi * A_ij (g = 1 without a gate); 0 if causal and j > i
//	s_ij  = (q_i + ra_ij) . (k_j + rb_ij) / sqrt(d_h)
//	p_ij  = softmax_j(s_ij) over the j with M_bij > 0
//	w_ij  = p_ij * M_bij
//	o_i   = sum_j w_ij v_j
//
// The post-softmax product with M is the path by which the loss reaches A
// and g. Entries with M_bij <= 0 are excluded from the softmax (s = -inf).

type attnShape struct {
	B, N, H, Dh int
	Causal      bool
}

func (s attnShape) dim() int { return s.H * s.Dh }

// maskRow fills m[j] = M_bij for j < jmax and returns jmax.
func maskRow[T float](s attnShape, m []float64, a, g []T, b, i int) int {
	jmax := s.N
	if s.Causal {
		jmax = i + 1
	}
	gi := 1.0
	if g != nil {
		gi = float64(g[b*s.N+i])
	}
	for j := 0; j < jmax; j++ {
		if j == i {
			m[j] = 1
		} else {
			m[j] = gi * float64(a[i*s.N+j])
		}
	}
	return jmax
}

// scoresRow computes the softmax p[j] (j < jmax) of one (b, h, i); masked
// entries get p = 0.
func scoresRow[T float](s attnShape, p, m []float64, q, k, ra, rb []T, b, h, i, jmax int) {
	D, dh := s.dim(), s.Dh
	scale := 1 / math.Sqrt(float64(dh))
	row := b*s.N + i
	qi := q[row*D+h*dh : row*D+h*dh+dh]
	best := math.Inf(-1)
	for j := 0; j < jmax; j++ {
		if m[j] <= 0 {
			continue
		}
		col := b*s.N + j
		kj := k[col*D+h*dh : col*D+h*dh+dh]
		var acc T
		if ra != nil {
			e := (i*s.N + j) * D
			acc = dotRel(qi, ra[e+h*dh:e+h*dh+dh], kj, rb[e+h*dh:e+h*dh+dh])
		} else {
			acc = dot(qi, kj)
		}
		v := float64(acc) * scale
		p[j] = v
		if v > best {
			best = v
		}
	}
	var sum float64
	for j := 0; j < jmax; j++ {
		if m[j] <= 0 {
			p[j] = 0
			continue
		}
		e := math.Exp(p[j] - best)
		p[j] = e
		sum += e
	}
	for j := 0; j < jmax; j++ {
		p[j] /= sum
	}
}

// attnForward computes the output rows of receivers iLo <= i < iHi of every
// sample (other rows of out are left untouched). q, k, v, out are [B*N, H*Dh]
// row-major; ra, rb are [N*N, H*Dh] (row i*N+j) or both nil; a is [N, N]; g is
// [B, N] or nil.
//
// When probs is not nil (length B*N*H*N) the attention probabilities are
// kept there for attnBackward, entry ((b*N+i)*H+h)*N+j.
func attnForward[T float](s attnShape, iLo, iHi int, out, q, k, v, ra, rb, a, g []T, probs []float64) {
	D, dh := s.dim(), s.Dh
	p := make([]float64, s.N)
	m := make([]float64, s.N)
	for b := 0; b < s.B; b++ {
		for i := iLo; i < iHi; i++ {
			jmax := maskRow(s, m, a, g, b, i)
			row := b*s.N + i
			for h := 0; h < s.H; h++ {
				scoresRow(s, p, m, q, k, ra, rb, b, h, i, jmax)
				if probs != nil {
					pc := probs[(row*s.H+h)*s.N : (row*s.H+h+1)*s.N]
					copy(pc, p[:jmax])
					clear(pc[jmax:])
				}
				o := out[row*D+h*dh : row*D+h*dh+dh]
				clear(o)
				for j := 0; j < jmax; j++ {
					w := T(p[j] * m[j])
					if w == 0 {
						continue
					}
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
// holds the probabilities recorded by attnForward (else they are recomputed).
func attnBackward[T float](s attnShape, gr attnGrads[T], gout, q, k, v, ra, rb, a, g []T, probs []float64) {
	D, dh := s.dim(), s.Dh
	scale := 1 / math.Sqrt(float64(dh))
	p := make([]float64, s.N)
	m := make([]float64, s.N)
	dm := make([]float64, s.N)
	dp := make([]float64, s.N)
	for b := 0; b < s.B; b++ {
		for i := 0; i < s.N; i++ {
			jmax := maskRow(s, m, a, g, b, i)
			row := b*s.N + i
			clear(dm)
			for h := 0; h < s.H; h++ {
				if probs != nil {
					copy(p[:jmax], probs[(row*s.H+h)*s.N:])
				} else {
					scoresRow(s, p, m, q, k, ra, rb, b, h, i, jmax)
				}
				off := h * dh
				goi := gout[row*D+off : row*D+off+dh]
				qi := q[row*D+off : row*D+off+dh]
				dqi := gr.dq[row*D+off : row*D+off+dh]
				var c float64
				for j := 0; j < jmax; j++ {
					if p[j] == 0 {
						dp[j] = 0
						continue
					}
					col := b*s.N + j
					vj := v[col*D+off : col*D+off+dh]
					dvj := gr.dv[col*D+off : col*D+off+dh]
					w := T(p[j] * m[j])
					dw := dot(goi, vj)
					axpy(w, goi, dvj)
					dm[j] += float64(dw) * p[j]
					dp[j] = float64(dw) * m[j]
					c += p[j] * dp[j]
				}
				for j := 0; j < jmax; j++ {
					if p[j] == 0 {
						continue
					}
					t := T(scale * p[j] * (dp[j] - c))
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
			}
			// Mask gradients: M_bij = g_bi * A_ij for j != i.
			gi := 1.0
			if g != nil {
				gi = float64(g[row])
			}
			var dgi float64
			for j := 0; j < jmax; j++ {
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
	rel, gate    bool
	diffA, diffG bool
	cache        bool
	probs        []float64 // probabilities of the last forward (when cache)
}

func (k *attnKernel) enableCache() { k.cache = true }

func (k *attnKernel) name() string {
	return fmt.Sprintf("GraphAttention{N=%d,H=%d,causal=%v,rel=%v,gate=%v}", k.n, k.heads, k.causal, k.rel, k.gate)
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
	return attnShape{B: q.Shape()[0] / k.n, N: k.n, H: k.heads, Dh: q.Shape()[1] / k.heads, Causal: k.causal}
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
