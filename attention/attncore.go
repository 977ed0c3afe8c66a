package attention

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/commgraph/commgraph/attention/internal/loops32"
	"github.com/commgraph/commgraph/attention/internal/par"
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

// maxLeftOutLogRatio caps log(p_j / p_ref) of a sender j that the mask leaves
// out, in its mask gradient. The gradient (exp(s_ij) / Z_bi) (...) is
// exact but unbounded: when a left-out sender's score exceeds those of every
// sender heard by far more than the float32 range (a policy trained at a
// large learning rate: first seen at lr 5e-3 on the DSE search form, session
// 18), exp overflows, the float32 sums of the mask gradient become +-Inf
// and then NaN, and the run stops on a non-finite alpha gradient. With the
// cap such an edge's gradient saturates at about e^60 = 1.1e26 times its
// sign-carrying factor: still the largest by far (Adam, per element, turns
// it into a full step towards adding the edge), and finite after summing
// over every sample and head. Below the cap nothing changes.
const maxLeftOutLogRatio = 60

// Senders lists, for every receiver i, the senders the core visits: the
// columns j with a nonzero mask entry A_ij plus i itself, in increasing j,
// at Idx[i*W : i*W+Cnt[i]] (W is the row stride). With a fixed top-k graph
// a row holds k+1 entries, so attention over the list costs O(N k d) per
// sample instead of O(N^2 d). Every pair the list leaves out has M_bij = 0,
// so the forward pass and the gradients of q, k, v, ra, rb and the gate are
// those of the dense pass (the same terms, added in the same order); the
// mask gradient dL/dA_ij of the pairs left out (the renormalised-mask
// gradient of unselected edges, see above) is not computed: use a list only
// where that gradient is not wanted (acting, or updates of a frozen graph).
type Senders struct {
	N, W int
	Cnt  []int32 // [N]
	Idx  []int32 // [N*W]
}

// Set lists the senders of the [N, N] graph a (rows = receivers): every j
// with a[i*N+j] != 0, and i itself. It reuses s's memory.
func (s *Senders) Set(a []float32, n int) { setSenders(s, a, n) }

func setSenders[T float](s *Senders, a []T, n int) {
	w := 1
	for i := 0; i < n; i++ {
		c := 1
		for j, v := range a[i*n : (i+1)*n] {
			if j != i && v != 0 {
				c++
			}
		}
		w = max(w, c)
	}
	s.N, s.W = n, w
	if cap(s.Cnt) < n {
		s.Cnt = make([]int32, n)
	}
	if cap(s.Idx) < n*w {
		s.Idx = make([]int32, n*w)
	}
	s.Cnt, s.Idx = s.Cnt[:n], s.Idx[:n*w]
	for i := 0; i < n; i++ {
		row := s.Idx[i*w : (i+1)*w]
		c := 0
		for j, v := range a[i*n : (i+1)*n] {
			if j == i || v != 0 {
				row[c] = int32(j)
				c++
			}
		}
		s.Cnt[i] = int32(c)
	}
}

// MaxCount returns the longest list (W): the cost per receiver.
func (s *Senders) MaxCount() int { return s.W }

// denseSenders lists every column for every receiver (the dense pass).
func denseSenders(n int) *Senders {
	s := &Senders{N: n, W: n, Cnt: make([]int32, n), Idx: make([]int32, n*n)}
	for i := 0; i < n; i++ {
		s.Cnt[i] = int32(n)
		for j := 0; j < n; j++ {
			s.Idx[i*n+j] = int32(j)
		}
	}
	return s
}

// row returns receiver i's sender columns.
func (s *Senders) row(i int) []int32 { return s.Idx[i*s.W : i*s.W+int(s.Cnt[i])] }

// coreScratch holds the per-row buffers of the core (length W each).
type coreScratch struct {
	p, m, dm, dw []float64
	ok           []bool
}

func (c *coreScratch) size(w int) {
	if cap(c.p) < w {
		c.p, c.m, c.dm, c.dw = make([]float64, w), make([]float64, w), make([]float64, w), make([]float64, w)
		c.ok = make([]bool, w)
	}
	c.p, c.m, c.dm, c.dw, c.ok = c.p[:w], c.m[:w], c.dm[:w], c.dw[:w], c.ok[:w]
}

// maskRow fills m[t] = M_bij and ok[t] = (j in C_bi) for the senders j =
// cols[t].
func maskRow[T float](s attnShape, m []float64, ok []bool, cols []int32, a, g []T, b, i int) {
	gi := 1.0
	if g != nil {
		gi = float64(g[b*s.N+i])
	}
	ri := s.rank(b, i)
	for t, j32 := range cols {
		j := int(j32)
		if j == i {
			m[t] = 1
			ok[t] = !s.NoSelf
			continue
		}
		m[t] = gi * float64(a[i*s.N+j])
		ok[t] = !s.Causal || s.rank(b, j) < ri
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

// scoresRow computes p[t] = exp(s_ij) / Z_bi for the senders j = cols[t]
// with M+ > 0 (0 elsewhere), so that w_ij = p[t] * m[t]. It returns false
// when no sender has M+ > 0 (then p is all zero and o_i = 0).
func scoresRow[T float](s attnShape, p, m []float64, ok []bool, cols []int32, q, k, ra, rb []T, b, h, i int) bool {
	best := math.Inf(-1)
	for t, j := range cols {
		if !ok[t] || !(m[t] > 0) {
			p[t] = 0
			continue
		}
		v := score(s, q, k, ra, rb, b, h, i, int(j))
		p[t] = v
		best = max(best, v)
	}
	if math.IsInf(best, -1) {
		clear(p[:len(cols)])
		return false
	}
	var z float64
	for t := range cols {
		if !ok[t] || !(m[t] > 0) {
			continue
		}
		e := math.Exp(p[t] - best)
		p[t] = e
		z += e * m[t]
	}
	for t := range cols {
		p[t] /= z
	}
	return true
}

// attnForward computes the output rows of receivers iLo <= i < iHi of every
// sample (other rows of out are left untouched). q, k, v, out are [B*N, H*Dh]
// row-major; ra, rb are [N*N, H*Dh] (row i*N+j; only the rows of listed pairs
// are read) or both nil; a is [N, N]; g is [B, N] or nil. sd lists the
// senders of each receiver (nil: every column, the dense pass); sc is
// scratch (nil: allocated).
//
// When probs is not nil (length B*N*H*W, W = sd.W) the values p of
// scoresRow are kept there for attnBackward, entry ((b*N+i)*H+h)*W+t.
func attnForward[T float](s attnShape, sd *Senders, sc *coreScratch, iLo, iHi int, out, q, k, v, ra, rb, a, g []T, probs []float64) {
	attnForwardB(s, sd, sc, 0, s.B, iLo, iHi, out, q, k, v, ra, rb, a, g, probs)
}

// attnForwardB is attnForward for the samples bLo <= b < bHi only (every
// row (b, i) is computed on its own, so a split over samples gives the
// bits of the whole pass).
func attnForwardB[T float](s attnShape, sd *Senders, sc *coreScratch, bLo, bHi, iLo, iHi int, out, q, k, v, ra, rb, a, g []T, probs []float64) {
	D, dh := s.dim(), s.Dh
	if sd == nil {
		sd = denseSenders(s.N)
	}
	if sc == nil {
		sc = new(coreScratch)
	}
	W := sd.W
	sc.size(W)
	p, m, ok := sc.p, sc.m, sc.ok
	for b := bLo; b < bHi; b++ {
		for i := iLo; i < iHi; i++ {
			cols := sd.row(i)
			maskRow(s, m, ok, cols, a, g, b, i)
			row := b*s.N + i
			for h := 0; h < s.H; h++ {
				scoresRow(s, p, m, ok, cols, q, k, ra, rb, b, h, i)
				if probs != nil {
					copy(probs[(row*s.H+h)*W:(row*s.H+h)*W+len(cols)], p[:len(cols)])
				}
				o := out[row*D+h*dh : row*D+h*dh+dh]
				clear(o)
				for t, j := range cols {
					if p[t] == 0 {
						continue
					}
					w := T(p[t] * m[t])
					col := b*s.N + int(j)
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

// attnBackward computes the gradients of the loss given gout = dL/dout: it
// writes dq, dk, dv (every element; each sample's rows are cleared when the
// sample is reached, while they are in cache, and then accumulated) and adds
// into da, dra, drb and dg, which the caller must zero. probs, when not nil,
// holds the values recorded by attnForward with the same sd (else they are
// recomputed). With a sender list sd, da gets the gradient of the listed
// pairs only (see Senders).
func attnBackward[T float](s attnShape, sd *Senders, sc *coreScratch, gr attnGrads[T], gout, q, k, v, ra, rb, a, g []T, probs []float64) {
	attnBackwardB(s, sd, sc, gr, 0, s.B, gout, q, k, v, ra, rb, a, g, probs, nil)
}

// attnRec holds what the adds into da, dra and drb of attnBackward need, for
// the samples of a split backward pass (attnBackwardB with rec), so that
// attnReduce can apply them later in sample order. Entries t < len(row(i))
// of each row are written.
type attnRec[T float] struct {
	// tt[((b*N+i)*H+h)*W+t] is the relGrad factor of (b, i, h, sender t),
	// 0 where attnBackward calls no relGrad (only with ra).
	tt []T
	// dm[(b*N+i)*W+t] is the mask gradient dL/dM_bij of sender t (only
	// when da is wanted).
	dm []float64
}

// attnBackwardB runs attnBackward's loop over the samples bLo <= b < bHi
// only. With rec == nil it is attnBackward's loop (adds into da, dra, drb
// included). With rec != nil it leaves da, dra and drb alone and records
// their terms in rec instead (the other outputs are per sample: rows of dq,
// dk, dv and dg of sample b get only sample b's terms), so that splits of
// the samples may run at the same time; attnReduce then adds the recorded
// terms in sample order, giving every element of da, dra and drb the
// operations of the serial pass in the same order.
func attnBackwardB[T float](s attnShape, sd *Senders, sc *coreScratch, gr attnGrads[T], bLo, bHi int, gout, q, k, v, ra, rb, a, g []T, probs []float64, rec *attnRec[T]) {
	D, dh := s.dim(), s.Dh
	scale := 1 / math.Sqrt(float64(dh))
	if sd == nil {
		sd = denseSenders(s.N)
	}
	if sc == nil {
		sc = new(coreScratch)
	}
	W := sd.W
	sc.size(W)
	p, m, ok, dm, dw := sc.p, sc.m, sc.ok, sc.dm, sc.dw
	wantMask := gr.da != nil || gr.dg != nil
	for b := bLo; b < bHi; b++ {
		// Rows b*N .. b*N+N-1 of dq, dk and dv belong to sample b only.
		lo, hi := b*s.N*D, (b+1)*s.N*D
		clear(gr.dq[lo:hi])
		clear(gr.dk[lo:hi])
		clear(gr.dv[lo:hi])
		for i := 0; i < s.N; i++ {
			cols := sd.row(i)
			maskRow(s, m, ok, cols, a, g, b, i)
			row := b*s.N + i
			clear(dm)
			for h := 0; h < s.H; h++ {
				var any bool
				if probs != nil {
					copy(p, probs[(row*s.H+h)*W:(row*s.H+h)*W+len(cols)])
					for _, x := range p[:len(cols)] {
						any = any || x != 0
					}
				} else {
					any = scoresRow(s, p, m, ok, cols, q, k, ra, rb, b, h, i)
				}
				if !any {
					if rec != nil && ra != nil {
						clear(rec.tt[(row*s.H+h)*W : (row*s.H+h)*W+len(cols)])
					}
					continue // o_i = 0 whatever the inputs: no gradient
				}
				off := h * dh
				goi := gout[row*D+off : row*D+off+dh]
				qi := q[row*D+off : row*D+off+dh]
				dqi := gr.dq[row*D+off : row*D+off+dh]
				// c = dL/do_i . o_i = sum_j w_j dw_j.
				var c float64
				ref := -1
				for t, j := range cols {
					if p[t] == 0 {
						continue
					}
					col := b*s.N + int(j)
					vj := v[col*D+off : col*D+off+dh]
					w := T(p[t] * m[t])
					dw[t] = float64(dot(goi, vj))
					axpy(w, goi, gr.dv[col*D+off:col*D+off+dh])
					c += p[t] * m[t] * dw[t]
					if ref < 0 || p[t] > p[ref] {
						ref = t
					}
				}
				var recTT []T
				if rec != nil && ra != nil {
					recTT = rec.tt[(row*s.H+h)*W : (row*s.H+h)*W+len(cols)]
				}
				for t, j32 := range cols {
					if p[t] == 0 {
						if recTT != nil {
							recTT[t] = 0
						}
						continue
					}
					j := int(j32)
					dm[t] += p[t] * (dw[t] - c)
					tt := T(scale * p[t] * m[t] * (dw[t] - c))
					if recTT != nil {
						recTT[t] = tt
					}
					if tt == 0 {
						continue
					}
					col := b*s.N + j
					kj := k[col*D+off : col*D+off+dh]
					dkj := gr.dk[col*D+off : col*D+off+dh]
					if ra != nil {
						e := (i*s.N+j)*D + off
						if rec != nil {
							relGradPair(tt, qi, ra[e:e+dh], kj, rb[e:e+dh], dqi, dkj)
						} else {
							relGrad(tt, qi, ra[e:e+dh], kj, rb[e:e+dh], dqi, dkj, gr.dra[e:e+dh], gr.drb[e:e+dh])
						}
					} else {
						axpy(tt, kj, dqi)
						axpy(tt, qi, dkj)
					}
				}
				if !wantMask {
					continue
				}
				// Senders in C that the mask leaves out: p_j = exp(s_ij)/Z,
				// obtained relative to the reference sender's p.
				sRef := score(s, q, k, ra, rb, b, h, i, int(cols[ref]))
				for t, j32 := range cols {
					j := int(j32)
					if !ok[t] || m[t] > 0 || j == i {
						continue
					}
					pj := p[ref] * math.Exp(min(score(s, q, k, ra, rb, b, h, i, j)-sRef, maxLeftOutLogRatio))
					col := b*s.N + j
					dwj := float64(dot(goi, v[col*D+off:col*D+off+dh]))
					dm[t] += pj * (dwj - c)
				}
			}
			// Mask gradients: M_bij = g_bi * A_ij for j != i.
			gi := 1.0
			if g != nil {
				gi = float64(g[row])
			}
			var dgi float64
			if rec != nil && gr.da != nil {
				copy(rec.dm[row*W:row*W+len(cols)], dm[:len(cols)])
			}
			for t, j32 := range cols {
				j := int(j32)
				if j == i || dm[t] == 0 {
					continue
				}
				if gr.da != nil && rec == nil {
					gr.da[i*s.N+j] += T(dm[t] * gi)
				}
				dgi += dm[t] * float64(a[i*s.N+j])
			}
			if gr.dg != nil {
				gr.dg[row] += T(dgi)
			}
		}
	}
}

// attnReduce adds the terms recorded by attnBackwardB (for every sample)
// into the rows i*N+j of da, dra and drb of the receivers iLo <= i < iHi,
// sample by sample in increasing b, with attnBackward's operations: each
// element gets the same adds, in the same order, as in the serial pass.
func attnReduce[T float](s attnShape, sd *Senders, gr attnGrads[T], iLo, iHi int, q, k, ra, rb, g []T, rec *attnRec[T]) {
	rel := ra != nil && rec.tt != nil
	// Samples in blocks (ascending), receivers within a block: each element
	// still gets its adds in increasing b, and a block's key rows stay in
	// cache while the receivers visit them.
	for b0 := 0; b0 < s.B; b0 += reduceBlock {
		b1 := min(b0+reduceBlock, s.B)
		attnReduceBlock(s, sd, gr, iLo, iHi, b0, b1, q, k, ra, rb, g, rec, rel)
	}
}

// reduceBlock is the number of samples attnReduce treats at a time.
var reduceBlock = 16

func attnReduceBlock[T float](s attnShape, sd *Senders, gr attnGrads[T], iLo, iHi, b0, b1 int, q, k, ra, rb, g []T, rec *attnRec[T], rel bool) {
	D, dh := s.dim(), s.Dh
	W := sd.W
	for i := iLo; i < iHi; i++ {
		cols := sd.row(i)
		for b := b0; b < b1; b++ {
			row := b*s.N + i
			if rel {
				for h := 0; h < s.H; h++ {
					off := h * dh
					qi := q[row*D+off : row*D+off+dh]
					tts := rec.tt[(row*s.H+h)*W : (row*s.H+h)*W+len(cols)]
					for t, j32 := range cols {
						tt := tts[t]
						if tt == 0 {
							continue
						}
						j := int(j32)
						col := b*s.N + j
						e := (i*s.N+j)*D + off
						relGradPair(tt, qi, ra[e:e+dh], k[col*D+off:col*D+off+dh], rb[e:e+dh], gr.dra[e:e+dh], gr.drb[e:e+dh])
					}
				}
			}
			if gr.da == nil {
				continue
			}
			gi := 1.0
			if g != nil {
				gi = float64(g[row])
			}
			for t, j32 := range cols {
				j := int(j32)
				dm := rec.dm[row*W+t]
				if j == i || dm == 0 {
					continue
				}
				gr.da[i*s.N+j] += T(dm * gi)
			}
		}
	}
}

// Sparse switches the attention of a compiled graph between the dense pass
// and the sender lists of the graph's rows (Senders), at run time: set On
// before a run when the mask gradient of unselected edges is not wanted
// (e.g. the graph is frozen). One Sparse may serve every attention layer of
// a graph.
type Sparse struct {
	On bool
	sd *Senders
}

// Senders returns the sender lists of the last sparse run (nil if none).
func (s *Sparse) Senders() *Senders { return s.sd }

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
	// sparse, when set and On at run time, makes the pass visit only the
	// senders of each receiver's graph row (see Senders); sd is the list
	// of the last forward.
	sparse *Sparse
	sd     *Senders
	dense  *Senders // the dense pass's list (every column), made once
	sc     coreScratch
	// workers bounds the goroutines of one pass (0 = GOMAXPROCS; see
	// Binder.Workers); the split passes run on the tasks below.
	workers int
	wg      sync.WaitGroup
	t32     attnTask[float32]
	t64     attnTask[float64]
}

// parMinWork is the size B*N*W*D of a pass below which it runs on one
// goroutine (handing out the parts would cost more than it saves).
var parMinWork = 1 << 15

// parts returns how many parts a pass over total independent units is cut
// into: at most the kernel's workers, at most total, and 1 for small passes.
func (k *attnKernel) parts(s attnShape, w, total int) int {
	if s.B*s.N*w*s.dim() < parMinWork {
		return 1
	}
	return max(1, min(par.Workers(k.workers), total))
}

// attnTask is one split pass of the core (see par.Task): the forward over
// samples, the backward's first phase over samples (attnBackwardB with a
// record) or its second over receivers (attnReduce).
type attnTask[T float] struct {
	phase                      int
	s                          attnShape
	sd                         *Senders
	scs                        []coreScratch // one per part
	out, gout, q, k, v, ra, rb []T
	a, g                       []T
	probs                      []float64
	gr                         attnGrads[T]
	rec                        attnRec[T]
}

const (
	phaseForward = iota
	phaseBackward
	phaseReduce
)

func (t *attnTask[T]) Part(p, n int) {
	switch t.phase {
	case phaseForward:
		lo, hi := par.Range(p, n, t.s.B)
		attnForwardB(t.s, t.sd, &t.scs[p], lo, hi, 0, t.s.N, t.out, t.q, t.k, t.v, t.ra, t.rb, t.a, t.g, t.probs)
	case phaseBackward:
		lo, hi := par.Range(p, n, t.s.B)
		attnBackwardB(t.s, t.sd, &t.scs[p], t.gr, lo, hi, t.gout, t.q, t.k, t.v, t.ra, t.rb, t.a, t.g, t.probs, &t.rec)
	case phaseReduce:
		lo, hi := par.Range(p, n, t.s.N)
		attnReduce(t.s, t.sd, t.gr, lo, hi, t.q, t.k, t.ra, t.rb, t.g, &t.rec)
	}
}

// scratch returns n per-part scratches (reused).
func (t *attnTask[T]) scratch(n int) []coreScratch {
	if len(t.scs) < n {
		t.scs = append(t.scs, make([]coreScratch, n-len(t.scs))...)
	}
	return t.scs[:n]
}

// release drops the task's references to the pass's tensors.
func (t *attnTask[T]) release() {
	t.out, t.gout, t.q, t.k, t.v, t.ra, t.rb, t.a, t.g, t.probs = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
	t.gr = attnGrads[T]{}
}

// forwardPar runs attnForward over every row, split over samples into up
// to k.workers parts.
func forwardPar[T float](k *attnKernel, t *attnTask[T], s attnShape, sd *Senders, out, q, kk, v, ra, rb, a, g []T, probs []float64) {
	n := k.parts(s, sd.W, s.B)
	if n == 1 {
		attnForward(s, sd, &k.sc, 0, s.N, out, q, kk, v, ra, rb, a, g, probs)
		return
	}
	t.phase, t.s, t.sd = phaseForward, s, sd
	t.scratch(n)
	t.out, t.q, t.k, t.v, t.ra, t.rb, t.a, t.g, t.probs = out, q, kk, v, ra, rb, a, g, probs
	par.Run(n, t, &k.wg)
	t.release()
}

// backwardPar runs attnBackward split into up to k.workers parts: the
// per-sample work over samples (recording the terms of da, dra, drb), then
// those sums over receivers, in sample order (bit for bit the serial pass).
func backwardPar[T float](k *attnKernel, t *attnTask[T], s attnShape, sd *Senders, gr attnGrads[T], gout, q, kk, v, ra, rb, a, g []T, probs []float64) {
	n := k.parts(s, sd.W, s.B)
	if n == 1 {
		attnBackward(s, sd, &k.sc, gr, gout, q, kk, v, ra, rb, a, g, probs)
		return
	}
	W := sd.W
	t.rec.tt, t.rec.dm = t.rec.tt[:0], t.rec.dm[:0]
	if ra != nil {
		t.rec.tt = growSlice(t.rec.tt, s.B*s.N*s.H*W)
	}
	if gr.da != nil {
		t.rec.dm = growSlice(t.rec.dm, s.B*s.N*W)
	}
	t.phase, t.s, t.sd, t.gr = phaseBackward, s, sd, gr
	t.scratch(n)
	t.gout, t.q, t.k, t.v, t.ra, t.rb, t.a, t.g, t.probs = gout, q, kk, v, ra, rb, a, g, probs
	par.Run(n, t, &k.wg)
	if ra != nil || gr.da != nil {
		t.phase = phaseReduce
		par.Run(max(1, min(n, s.N)), t, &k.wg)
	}
	t.release()
}

// growSlice returns x with length n (reallocated only when too short).
func growSlice[E any](x []E, n int) []E {
	if cap(x) < n {
		return make([]E, n)
	}
	return x[:n]
}

// senders returns the list of this run: the sparse one, or every column.
func (k *attnKernel) senders(n int) *Senders {
	if k.sd != nil {
		return k.sd
	}
	if k.dense == nil || k.dense.N != n {
		k.dense = denseSenders(n)
	}
	return k.dense
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
	k.sd = nil
	if k.sparse != nil && k.sparse.On {
		if k.sparse.sd == nil {
			k.sparse.sd = new(Senders)
		}
		k.sd = k.sparse.sd
		switch in[3].Dtype() {
		case tensor.Float32:
			setSenders(k.sd, slice[float32](in[3]), s.N)
		default:
			setSenders(k.sd, slice[float64](in[3]), s.N)
		}
	}
	w := s.N
	if k.sd != nil {
		w = k.sd.W
	}
	var probs []float64
	if k.cache {
		n := s.B * s.N * s.H * w
		if cap(k.probs) < n {
			k.probs = make([]float64, n)
		}
		probs = k.probs[:n]
	}
	switch in[0].Dtype() {
	case tensor.Float32:
		forwardPar(k, &k.t32, s, k.senders(s.N), slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]),
			slice[float32](ra), slice[float32](rb), slice[float32](in[3]), slice[float32](g), probs)
	default:
		forwardPar(k, &k.t64, s, k.senders(s.N), slice[float64](out), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]),
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
	// The core writes dq, dk, dv and accumulates the others: start those
	// from zero.
	for _, gd := range grads[3:] {
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
	w := s.N
	if k.sd != nil {
		w = k.sd.W
	}
	var probs []float64
	if n := s.B * s.N * s.H * w; k.cache && len(k.probs) >= n {
		probs = k.probs[:n]
	}
	switch dt {
	case tensor.Float32:
		gr := attnGrads[float32]{dq: slice[float32](grads[0]), dk: slice[float32](grads[1]), dv: slice[float32](grads[2]),
			da: slice[float32](grads[3]), dra: slice[float32](dra), drb: slice[float32](drb), dg: slice[float32](dg)}
		backwardPar(k, &k.t32, s, k.senders(s.N), gr, slice[float32](gout), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]),
			slice[float32](ra), slice[float32](rb), slice[float32](in[3]), slice[float32](g), probs)
	default:
		gr := attnGrads[float64]{dq: slice[float64](grads[0]), dk: slice[float64](grads[1]), dv: slice[float64](grads[2]),
			da: slice[float64](grads[3]), dra: slice[float64](dra), drb: slice[float64](drb), dg: slice[float64](dg)}
		backwardPar(k, &k.t64, s, k.senders(s.N), gr, slice[float64](gout), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]),
			slice[float64](ra), slice[float64](rb), slice[float64](in[3]), slice[float64](g), probs)
	}
	return nil
}

// Inner loops with four independent accumulators (instruction-level
// parallelism; Go does not vectorise) and bounds checks hoisted by reslicing.
// For float32 they run as SSE assembly (attention/internal/loops32) that does
// the same operations in the same order, so the bits are the same.

// as32 reinterprets x as []float32 when T is float32 (ok false otherwise).
// The size test is resolved at compile time for each instantiation.
func as32[T float](x []T) (v []float32, ok bool) {
	var zero T
	if unsafe.Sizeof(zero) != 4 {
		return nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x)), true
}

func dot[T float](a, b []T) T {
	if a32, ok := as32(a); ok {
		b32, _ := as32(b)
		return T(loops32.Dot(a32, b32))
	}
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
	if q32, ok := as32(q); ok {
		ra32, _ := as32(ra)
		k32, _ := as32(k)
		rb32, _ := as32(rb)
		return T(loops32.DotRel(q32, ra32, k32, rb32))
	}
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
	if x32, ok := as32(x); ok {
		y32, _ := as32(y)
		loops32.Axpy(float32(a), x32, y32)
		return
	}
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
	if q32, ok := as32(q); ok {
		c := func(x []T) []float32 { v, _ := as32(x); return v }
		loops32.RelGrad(float32(t), q32, c(ra), c(k), c(rb), c(dq), c(dk), c(dra), c(drb))
		return
	}
	n := len(q)
	ra, k, rb, dq, dk, dra, drb = ra[:n], k[:n], rb[:n], dq[:n], dk[:n], dra[:n], drb[:n]
	for i := 0; i < n; i++ {
		// The conversions forbid fusing the product into the sums, so
		// that relGradPair's halves give the same bits on every target.
		kb := T(t * T(k[i]+rb[i]))
		qa := T(t * T(q[i]+ra[i]))
		dq[i] += kb
		dra[i] += kb
		dk[i] += qa
		drb[i] += qa
	}
}

// relGradPair is half of relGrad: t*(k+rb) is added to dx, t*(q+ra) to dy,
// with relGrad's operations (relGradPair into dq, dk and into dra, drb
// give the bits of one relGrad).
func relGradPair[T float](t T, q, ra, k, rb, dx, dy []T) {
	if q32, ok := as32(q); ok {
		c := func(x []T) []float32 { v, _ := as32(x); return v }
		loops32.RelGradPair(float32(t), q32, c(ra), c(k), c(rb), c(dx), c(dy))
		return
	}
	n := len(q)
	ra, k, rb, dx, dy = ra[:n], k[:n], rb[:n], dx[:n], dy[:n]
	for i := 0; i < n; i++ {
		kb := T(t * T(k[i]+rb[i]))
		qa := T(t * T(q[i]+ra[i]))
		dx[i] += kb
		dy[i] += qa
	}
}
