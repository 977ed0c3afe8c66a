package marl

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	"github.com/chewxy/math32"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The PPO loss of BuildPPOLoss and ChosenAndEntropy as one gorgonia op.
//
// Written with gorgonia's elementwise ops the loss is about 240 tape
// instructions (forward and backward) on vectors of one entry per (sample,
// agent), each allocating or cloning its output: on the predator-prey
// update (12,000 entries) that is ~7 MB and ~15% of the update's CPU time,
// for a few hundred kFLOP of arithmetic. The fused op does the same
// arithmetic in two passes over the rows with buffers kept across runs.
//
// The arithmetic is the elementwise chain's, operation by operation in the
// inputs' precision, including its min/max/clamp written with |.| and the
// order in which gorgonia's reverse mode adds the gradient contributions
// of a value used more than once, so results are bit for bit those of the
// chain (TestFusedPPOMatchesChain).

// FusedPPO holds the nodes of the fused loss: Policy, Value and Entropy are
// scalars (the clipped surrogate, the clipped Huber value loss and the mean
// entropy, as BuildPPOLoss and ChosenAndEntropy define them).
type FusedPPO struct {
	Policy, Value, Entropy *G.Node
	op                     *ppoOp
}

// Ratio returns the policy ratios exp(chosen - oldLogp) of the last forward
// run, one per row (a [R] tensor overwritten by the next run; nil before the
// first).
func (f *FusedPPO) Ratio() G.Value {
	if f.op.ratio == nil {
		return nil
	}
	return f.op.ratio
}

// BuildFusedPPO builds the loss from log-probabilities logp [R, A] (after
// the log-softmax), the one-hot of the taken actions [R, A], an optional
// extra log-probability lpg [R] added to the taken action's (nil for none),
// and the vectors oldLogp, adv, values, oldValues, targets [R]. Gradients
// flow to logp, values and lpg.
func BuildFusedPPO(logp, onehot, lpg, oldLogp, adv, values, oldValues, targets *G.Node, c PPOCoefs) (*FusedPPO, error) {
	if logp.Dims() != 2 || !logp.Shape().Eq(onehot.Shape()) {
		return nil, fmt.Errorf("fused ppo loss: logp %v, onehot %v", logp.Shape(), onehot.Shape())
	}
	R, A := logp.Shape()[0], logp.Shape()[1]
	vecs := []*G.Node{oldLogp, adv, values, oldValues, targets}
	if lpg != nil {
		vecs = append(vecs, lpg)
	}
	for _, v := range vecs {
		if v.Dims() != 1 || v.Shape()[0] != R {
			return nil, fmt.Errorf("fused ppo loss: vector %v, want (%d)", v.Shape(), R)
		}
	}
	op := &ppoOp{R: R, A: A, c: c, gate: lpg != nil}
	in := []*G.Node{logp, onehot, oldLogp, adv, values, oldValues, targets}
	if lpg != nil {
		in = append(in, lpg)
	}
	out, err := G.ApplyOp(op, in...)
	if err != nil {
		return nil, fmt.Errorf("fused ppo loss: %w", err)
	}
	f := &FusedPPO{op: op}
	parts := []**G.Node{&f.Policy, &f.Value, &f.Entropy}
	for i, p := range parts {
		if *p, err = G.Slice(out, G.S(i)); err != nil {
			return nil, fmt.Errorf("fused ppo loss: %w", err)
		}
	}
	return f, nil
}

// Input positions of ppoOp.
const (
	pLogp = iota
	pOnehot
	pOldLogp
	pAdv
	pValues
	pOldV
	pTarg
	pLpg
)

// ppoOp: inputs as in BuildFusedPPO's `in`; output [3] = (policy, value,
// entropy). Its backward is one ppoGradOp per differentiable input.
type ppoOp struct {
	R, A  int
	c     PPOCoefs
	gate  bool
	out   *tensor.Dense // [3]
	ratio *tensor.Dense // [R]
}

func (op *ppoOp) Arity() int {
	if op.gate {
		return 8
	}
	return 7
}

// inTypes returns the types of the op's inputs and the matrix and vector
// types they are made of.
func (op *ppoOp) inTypes() (ts []hm.Type, m, v hm.Type) {
	a := hm.TypeVariable('a')
	m, v = G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a}
	ts = []hm.Type{m, m, v, v, v, v, v}
	if op.gate {
		ts = append(ts, v)
	}
	return ts, m, v
}

func (op *ppoOp) Type() hm.Type {
	ts, _, v := op.inTypes()
	return hm.NewFnType(append(ts, v)...)
}
func (op *ppoOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.Shape{3}, nil }
func (op *ppoOp) ReturnsPtr() bool                               { return false }
func (op *ppoOp) CallsExtern() bool                              { return false }
func (op *ppoOp) OverwritesInput() int                           { return -1 }
func (op *ppoOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "FusedPPO%p", op) }
func (op *ppoOp) Hashcode() uint32                               { return hashOf(op) }
func (op *ppoOp) String() string                                 { return "FusedPPO" }

func (op *ppoOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[pLogp], d[pValues] = true, true
	if op.gate && n > pLpg {
		d[pLpg] = true
	}
	return d
}

func (op *ppoOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(inputs))
	for _, w := range []int{pLogp, pValues, pLpg} {
		if w == pLpg && !op.gate {
			continue
		}
		args := append(append(G.Nodes{}, inputs...), output, grad)
		n, err := G.ApplyOp(&ppoGradOp{f: op, wrt: w, shape: inputs[w].Shape().Clone()}, args...)
		if err != nil {
			return nil, fmt.Errorf("fused ppo loss gradient: %w", err)
		}
		res[w] = n
	}
	return res, nil
}

func (op *ppoOp) Do(vs ...G.Value) (G.Value, error) {
	ds, err := denses(op, vs)
	if err != nil {
		return nil, err
	}
	dt := ds[0].Dtype()
	if op.out == nil || op.out.Dtype() != dt {
		op.out = tensor.New(tensor.Of(dt), tensor.WithShape(3))
		op.ratio = tensor.New(tensor.Of(dt), tensor.WithShape(op.R))
	}
	switch dt {
	case tensor.Float32:
		ppoForward(op, op.out.Float32s(), op.ratio.Float32s(), f32s(ds), math32.Exp, math32.Abs)
	case tensor.Float64:
		ppoForward(op, op.out.Float64s(), op.ratio.Float64s(), f64s(ds), math.Exp, math.Abs)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, dt)
	}
	return op.out, nil
}

// ppoGradOp: inputs = the forward op's inputs, its output and the output's
// gradient [3]; output = the gradient of the input at position wrt.
type ppoGradOp struct {
	f     *ppoOp
	wrt   int
	shape tensor.Shape
	buf   *tensor.Dense
}

func (op *ppoGradOp) Arity() int { return op.f.Arity() + 2 }
func (op *ppoGradOp) Type() hm.Type {
	ts, m, v := op.f.inTypes()
	ts = append(ts, v, v) // output, its gradient
	if op.wrt == pLogp {
		ts = append(ts, m)
	} else {
		ts = append(ts, v)
	}
	return hm.NewFnType(ts...)
}
func (op *ppoGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *ppoGradOp) ReturnsPtr() bool                               { return false }
func (op *ppoGradOp) CallsExtern() bool                              { return false }
func (op *ppoGradOp) OverwritesInput() int                           { return -1 }
func (op *ppoGradOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "FusedPPOGrad%d%p", op.wrt, op) }
func (op *ppoGradOp) Hashcode() uint32                               { return hashOf(op) }
func (op *ppoGradOp) String() string                                 { return fmt.Sprintf("FusedPPOGrad%d", op.wrt) }
func (op *ppoGradOp) DiffWRT(n int) []bool                           { return make([]bool, n) }
func (op *ppoGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("fused ppo loss: second derivative not implemented")
}

func (op *ppoGradOp) Do(vs ...G.Value) (G.Value, error) {
	ds, err := denses(op, vs)
	if err != nil {
		return nil, err
	}
	dt := ds[0].Dtype()
	if op.buf == nil || op.buf.Dtype() != dt {
		op.buf = tensor.New(tensor.Of(dt), tensor.WithShape(op.shape...))
	}
	n := op.f.Arity()
	switch dt {
	case tensor.Float32:
		x := f32s(ds)
		ppoBackward(op.f, op.wrt, op.buf.Float32s(), x[:n], x[n+1], math32.Exp, math32.Abs)
	case tensor.Float64:
		x := f64s(ds)
		ppoBackward(op.f, op.wrt, op.buf.Float64s(), x[:n], x[n+1], math.Exp, math.Abs)
	default:
		return nil, fmt.Errorf("%v: unsupported dtype %v", op, dt)
	}
	return op.buf, nil
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func denses(op fmt.Stringer, vs []G.Value) ([]*tensor.Dense, error) {
	ds := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%v: input %d is %T", op, i, v)
		}
		if i > 0 && d.Dtype() != ds[0].Dtype() {
			return nil, fmt.Errorf("%v: input %d has dtype %v, input 0 %v", op, i, d.Dtype(), ds[0].Dtype())
		}
		ds[i] = d
	}
	return ds, nil
}

func f32s(ds []*tensor.Dense) [][]float32 {
	x := make([][]float32, len(ds))
	for i, d := range ds {
		x[i] = d.Float32s()
	}
	return x
}

func f64s(ds []*tensor.Dense) [][]float64 {
	x := make([][]float64, len(ds))
	for i, d := range ds {
		x[i] = d.Float64s()
	}
	return x
}

// sgn is gorgonia's Sign: -1, 1, and x itself for 0 (and NaN).
func sgn[T float32 | float64](x T) T {
	if x < 0 {
		return -1
	}
	if x > 0 {
		return 1
	}
	return x
}

// ppoRow holds one row's forward values that the backward pass reads.
type ppoRow[T float32 | float64] struct {
	ratio          T
	s1, s2         T // unclipped and clipped surrogate
	cd2, ce        T // the clamp's inner differences (ratio - lo, (hi-lo) - y)
	vd2, ve        T // the value clamp's
	e1, e2, h1, h2 T // value errors and their Huber losses
}

// chosen is the taken action's log-probability of row r (plus lpg[r]),
// summed over the actions in order, as gorgonia's Sum along axis 1.
func chosen[T float32 | float64](x [][]T, gate bool, r, A int) T {
	lp, oh := x[pLogp][r*A:(r+1)*A], x[pOnehot][r*A:(r+1)*A]
	var s T
	for a := range lp {
		s += T(lp[a] * oh[a])
	}
	if gate {
		s += x[pLpg][r]
	}
	return s
}

// clampFwd is clampNode's arithmetic: it returns the clamped value and the
// two inner differences the backward pass needs.
// span is the constant hi - lo, which the chain computes in float64.
// Products are converted to T before they are added so that no compiler may
// fuse them into an FMA (the chain rounds every operation).
func clampFwd[T float32 | float64](x, lo, hi, span T, abs func(T) T) (out, d2, e T) {
	d2 = x - lo
	y := (d2 + abs(d2)) * 0.5
	e = span - y
	r := (e + abs(e)) * 0.5
	return hi - r, d2, e
}

// clampBwd is the chain's reverse mode through clampNode: the gradient of x
// from the gradient g of the output.
func clampBwd[T float32 | float64](g, d2, e T) T {
	gr := -g
	grr := gr * 0.5
	ge := grr + T(grr*sgn(e))
	gy := -ge
	gy2 := gy * 0.5
	return gy2 + T(gy2*sgn(d2))
}

// huberFwd is huber's arithmetic.
func huberFwd[T float32 | float64](e, delta T, abs func(T) T) T {
	a := abs(e)
	d := a - delta
	q := (d-abs(d))*0.5 + delta
	return T(T(q*q)*0.5) + T((a-q)*delta)
}

// huberBwd is the chain's reverse mode through huber: the gradient of e
// from the gradient g of the output.
func huberBwd[T float32 | float64](g, e, delta T, abs func(T) T) T {
	a := abs(e)
	d := a - delta
	q := (d-abs(d))*0.5 + delta
	gq2 := T(g * 0.5)
	glin := T(g * delta)
	gq := -glin + T(T(q*2)*gq2)
	gqp := gq * 0.5
	gd := gqp + T((-gqp)*sgn(d))
	return (glin + gd) * sgn(e)
}

func ppoRowFwd[T float32 | float64](op *ppoOp, x [][]T, r int, exp, abs func(T) T) ppoRow[T] {
	clip, delta := op.c.Clip, T(op.c.HuberDelta)
	var w ppoRow[T]
	w.ratio = exp(chosen(x, op.gate, r, op.A) - x[pOldLogp][r])
	adv := x[pAdv][r]
	w.s1 = T(w.ratio * adv)
	var cr T
	cr, w.cd2, w.ce = clampFwd(w.ratio, T(1-clip), T(1+clip), T((1+clip)-(1-clip)), abs)
	w.s2 = T(cr * adv)
	v, ov, t := x[pValues][r], x[pOldV][r], x[pTarg][r]
	var cdv T
	cdv, w.vd2, w.ve = clampFwd(v-ov, T(-clip), T(clip), T(clip-(-clip)), abs)
	w.e1, w.e2 = t-v, t-(ov+cdv)
	w.h1, w.h2 = huberFwd(w.e1, delta, abs), huberFwd(w.e2, delta, abs)
	return w
}

func ppoForward[T float32 | float64](op *ppoOp, out, ratio []T, x [][]T, exp, abs func(T) T) {
	R, A := op.R, op.A
	var sp, sv, sh T
	for r := 0; r < R; r++ {
		w := ppoRowFwd(op, x, r, exp, abs)
		ratio[r] = w.ratio
		sp += T(((w.s1 + w.s2) - abs(w.s1-w.s2)) * 0.5)
		sv += T(((w.h1 + w.h2) + abs(w.h1-w.h2)) * 0.5)
		lp := x[pLogp][r*A : (r+1)*A]
		var h T
		for _, l := range lp {
			h += T(exp(l) * l)
		}
		sh += h
	}
	n := T(R)
	out[0] = -(sp / n)
	out[1] = sv / n
	out[2] = -(sh / n)
}

// ppoBackward recomputes each row's forward values (ppoRowFwd) rather than
// keeping them from the forward op: keeping them in a buffer measured no
// faster (predator-prey update 113-131 against 112-117 ms, session 21).
func ppoBackward[T float32 | float64](op *ppoOp, wrt int, dst []T, x [][]T, g []T, exp, abs func(T) T) {
	R, A := op.R, op.A
	n := T(R)
	delta := T(op.c.HuberDelta)
	switch wrt {
	case pValues:
		gm := g[1] / n
		for r := 0; r < R; r++ {
			w := ppoRowFwd(op, x, r, exp, abs)
			gs := gm * 0.5
			gdd := gs * sgn(w.h1-w.h2)
			g1 := huberBwd(gs+gdd, w.e1, delta, abs)
			g2 := huberBwd(gs+(-gdd), w.e2, delta, abs)
			dv := clampBwd(-g2, w.vd2, w.ve)
			dst[r] = -g1 + dv
		}
	case pLogp, pLpg:
		gm := (-g[0]) / n
		gh := (-g[2]) / n
		for r := 0; r < R; r++ {
			w := ppoRowFwd(op, x, r, exp, abs)
			gs := gm * 0.5
			gdd := (-gs) * sgn(w.s1-w.s2)
			gs1 := gs + gdd
			gs2 := gs + (-gdd)
			adv := x[pAdv][r]
			gratio := T(gs1*adv) + clampBwd(T(gs2*adv), w.cd2, w.ce)
			gc := T(w.ratio * gratio)
			if wrt == pLpg {
				dst[r] = gc
				continue
			}
			lp, oh := x[pLogp][r*A:(r+1)*A], x[pOnehot][r*A:(r+1)*A]
			d := dst[r*A : (r+1)*A]
			for a := range lp {
				p := exp(lp[a])
				g1 := T(gc * oh[a])
				g2 := T(p * T(gh*lp[a]))
				g3 := T(gh * p)
				d[a] = T(g2+g3) + g1
			}
		}
	}
}
