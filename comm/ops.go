package comm

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Custom gorgonia ops. Each carries a pointer to its binding's state (mode,
// noise) and reads it when the tape runs, so one compiled graph serves every
// mode. The hash includes the pointer so two bindings in one graph are never
// merged by gorgonia's node deduplication.

var nameSeq atomic.Uint64

// uniqueName returns prefix plus a process-wide sequence number (node names
// only; they never influence numbers).
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, nameSeq.Add(1))
}

// tensorFloats copies a float32/float64 tensor's data into dst (grown as needed).
func tensorFloats(t tensor.Tensor, dst []float64) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		dst = append(dst[:0], d...)
	case []float32:
		dst = dst[:0]
		for _, v := range d {
			dst = append(dst, float64(v))
		}
	case float64:
		dst = append(dst[:0], d)
	case float32:
		dst = append(dst[:0], float64(d))
	default:
		panic(fmt.Sprintf("comm: unsupported tensor data %T", d))
	}
	return dst
}

// floatsTensor returns a new dense tensor of dtype dt holding vals.
func floatsTensor(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	switch dt {
	case tensor.Float32:
		b := make([]float32, len(vals))
		for i, v := range vals {
			b[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
	case tensor.Float64:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
	}
	panic(fmt.Sprintf("comm: unsupported dtype %v", dt))
}

func asTensor(op G.Op, v G.Value) (tensor.Tensor, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("comm: %v: expected a tensor input, got %T", op, v)
	}
	return t, nil
}

// ---- adjacency: A = f_mode(alpha) ----

type adjOp struct{ a *Adj }

func (op *adjOp) Arity() int { return 1 }
func (op *adjOp) Type() hm.Type {
	t := hm.TypeVariable('a')
	return hm.NewFnType(t, t)
}
func (op *adjOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *adjOp) ReturnsPtr() bool      { return false }
func (op *adjOp) CallsExtern() bool     { return false }
func (op *adjOp) OverwritesInput() int  { return -1 }
func (op *adjOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commAdj%p", op.a) }
func (op *adjOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *adjOp) String() string { return "CommAdjacency" }

func (op *adjOp) Do(vals ...G.Value) (G.Value, error) {
	t, err := asTensor(op, vals[0])
	if err != nil {
		return nil, err
	}
	a := op.a
	g := a.g
	n := g.cfg.N
	a.alpha = tensorFloats(t, a.alpha)
	if len(a.alpha) != n*n {
		return nil, fmt.Errorf("comm: adjacency: alpha has %d entries, want %d", len(a.alpha), n*n)
	}
	g.forward(a.last, a.alpha, a.noise, a.mode, a.ys, a.idx)
	return floatsTensor(t.Dtype(), []int{n, n}, a.last), nil
}

func (op *adjOp) DiffWRT(int) []bool { return []bool{true} }

func (op *adjOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&adjGradOp{a: op.a}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// adjGradOp: (alpha, dL/dA) -> dL/dalpha, per the binding's mode and noise.
type adjGradOp struct{ a *Adj }

func (op *adjGradOp) Arity() int { return 2 }
func (op *adjGradOp) Type() hm.Type {
	t := hm.TypeVariable('a')
	return hm.NewFnType(t, t, t)
}
func (op *adjGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *adjGradOp) ReturnsPtr() bool      { return false }
func (op *adjGradOp) CallsExtern() bool     { return false }
func (op *adjGradOp) OverwritesInput() int  { return -1 }
func (op *adjGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commAdjGrad%p", op.a) }
func (op *adjGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *adjGradOp) String() string { return "CommAdjacencyGrad" }

func (op *adjGradOp) Do(vals ...G.Value) (G.Value, error) {
	ta, err := asTensor(op, vals[0])
	if err != nil {
		return nil, err
	}
	tg, err := asTensor(op, vals[1])
	if err != nil {
		return nil, err
	}
	a := op.a
	n := a.g.cfg.N
	alpha := tensorFloats(ta, nil)
	gA := tensorFloats(tg, nil)
	out := make([]float64, n*n)
	if !(a.mode == ModeWarmup && a.g.cfg.UniformWarmup) {
		backwardAdjacency(out, alpha, a.noise, gA, a.mode, n, a.g.cfg.Tau, make([]float64, n*n))
	}
	return floatsTensor(ta.Dtype(), []int{n, n}, out), nil
}

// ---- gate head: l = h w + b; g = 1[sigmoid((l + noise)/tau) > 0.5] ----
//
// One fused op for the gate's output layer and its binary-concrete
// straight-through threshold: inputs h [R,H], w [H,1], b [1]; output g
// [batch, agents] (R = batch*agents). The gradient is that of the relaxed
// z = sigmoid((l + noise)/tau): dL/dl_r = dL/dg_r * z_r (1 - z_r) / tau,
// then dh = dl w^T, dw = h^T dl, db = sum(dl). This replaces three
// matrix-vector GEMMs that gonum runs inefficiently at R = 12,000 rows.

type gateHeadOp struct{ gn *GateNode }

func (op *gateHeadOp) Arity() int { return 3 }
func (op *gateHeadOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: 2, Of: a})
}
func (op *gateHeadOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.gn.batch, op.gn.agents}, nil
}
func (op *gateHeadOp) ReturnsPtr() bool      { return false }
func (op *gateHeadOp) CallsExtern() bool     { return false }
func (op *gateHeadOp) OverwritesInput() int  { return -1 }
func (op *gateHeadOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commGateHead%p", op.gn) }
func (op *gateHeadOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateHeadOp) String() string { return "CommGateHead" }

// gateHeadInputs checks and returns h, w, b as tensors with R and H.
func gateHeadInputs(op G.Op, gn *GateNode, vals []G.Value) (h, w, b tensor.Tensor, rows, hid int, err error) {
	if h, err = asTensor(op, vals[0]); err != nil {
		return
	}
	if w, err = asTensor(op, vals[1]); err != nil {
		return
	}
	if b, err = asTensor(op, vals[2]); err != nil {
		return
	}
	hs := h.Shape()
	rows, hid = hs[0], hs[1]
	if rows != len(gn.noise) || w.Shape().TotalSize() != hid || b.Shape().TotalSize() != 1 {
		err = fmt.Errorf("comm: gate head: shapes h %v w %v b %v for %d rows", hs, w.Shape(), b.Shape(), len(gn.noise))
	}
	return
}

func (op *gateHeadOp) Do(vals ...G.Value) (G.Value, error) {
	h, w, b, rows, hid, err := gateHeadInputs(op, op.gn, vals)
	if err != nil {
		return nil, err
	}
	gn := op.gn
	switch hd := h.Data().(type) {
	case []float32:
		gateLogits(gn.logits, hd, w.Data().([]float32), b.Data().([]float32)[0], rows, hid)
	case []float64:
		gateLogits(gn.logits, hd, w.Data().([]float64), b.Data().([]float64)[0], rows, hid)
	default:
		return nil, fmt.Errorf("comm: gate head: unsupported data %T", hd)
	}
	gateForward(gn.z, gn.last, gn.logits, gn.noise, gn.tau)
	if gn.forced != nil {
		copy(gn.last, gn.forced)
	}
	if gn.gate.held {
		for i := range gn.z {
			gn.z[i], gn.last[i] = 1, 1
		}
	}
	return floatsTensor(h.Dtype(), []int{gn.batch, gn.agents}, gn.last), nil
}

// gateLogits: l[r] = b + sum_j h[r,j] w[j], accumulated in T, stored as float64.
func gateLogits[T float32 | float64](l []float64, h, w []T, b T, rows, hid int) {
	for r := 0; r < rows; r++ {
		hr := h[r*hid : (r+1)*hid]
		s := b
		for j, v := range hr {
			s += v * w[j]
		}
		l[r] = float64(s)
	}
}

func (op *gateHeadOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *gateHeadOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	out := make(G.Nodes, 3)
	for which := range out {
		gn := op.gn
		d, err := G.ApplyOp(&gateGradOp{key: gn, name: "Head", which: which, rows: func() int { return len(gn.z) }, factor: gn.headFactor}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		out[which] = d
	}
	return out, nil
}

// gateGradOp: (h, w, dL/dy) -> the gradient of input `which` (0 = h,
// 1 = w, 2 = b) of a per-row function y = f(l), l = h w + b, of a gate head.
// factor(r) is dy_r/dl_r of the forward pass of this run (the gate head's
// straight-through z(1-z)/tau, or a score-function term's f'(l)); key
// identifies the forward op in the hash.
type gateGradOp struct {
	key    any
	name   string
	which  int
	rows   func() int
	factor func(r int) float64
}

func (op *gateGradOp) Arity() int { return 3 }
func (op *gateGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	outDims := 2
	if op.which == 2 {
		outDims = 1
	}
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: outDims, Of: a})
}
func (op *gateGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	switch op.which {
	case 0:
		return in[0].(tensor.Shape).Clone(), nil
	case 1:
		return in[1].(tensor.Shape).Clone(), nil
	}
	return tensor.Shape{1}, nil
}
func (op *gateGradOp) ReturnsPtr() bool     { return false }
func (op *gateGradOp) CallsExtern() bool    { return false }
func (op *gateGradOp) OverwritesInput() int { return -1 }
func (op *gateGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "commGateGrad%s%d%p", op.name, op.which, op.key)
}
func (op *gateGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateGradOp) String() string { return fmt.Sprintf("CommGateGrad%s%d", op.name, op.which) }

func (op *gateGradOp) Do(vals ...G.Value) (G.Value, error) {
	var ts [3]tensor.Tensor
	for i := range ts {
		t, err := asTensor(op, vals[i])
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	h, w, tg := ts[0], ts[1], ts[2]
	rows, hid := h.Shape()[0], h.Shape()[1]
	if rows != op.rows() || w.Shape().TotalSize() != hid || tg.Shape().TotalSize() != rows {
		return nil, fmt.Errorf("comm: gate grad: shapes h %v w %v grad %v for %d rows", h.Shape(), w.Shape(), tg.Shape(), op.rows())
	}
	dl := make([]float64, rows)
	switch hd := h.Data().(type) {
	case []float32:
		for r, v := range tg.Data().([]float32) {
			dl[r] = float64(v) * op.factor(r)
		}
		return gateParamGrad(op.which, hd, w.Data().([]float32), dl, rows, hid), nil
	case []float64:
		for r, v := range tg.Data().([]float64) {
			dl[r] = v * op.factor(r)
		}
		return gateParamGrad(op.which, hd, w.Data().([]float64), dl, rows, hid), nil
	}
	return nil, fmt.Errorf("comm: gate grad: unsupported data %T", h.Data())
}

// headFactor is dg/dl of the gate head: the straight-through z(1-z)/tau of
// this run's relaxed gate; 0 for a score-function gate (no gradient passes
// through its sampled g).
func (gn *GateNode) headFactor(r int) float64 {
	if gn.gate.cfg.Score {
		return 0
	}
	z := gn.z[r]
	return z * (1 - z) / gn.tau
}

// gateParamGrad returns the gradient of input `which` (0 = h, 1 = w, 2 = b)
// of l = h w + b, given dL/dl per row.
func gateParamGrad[T float32 | float64](which int, h, w []T, dlv []float64, rows, hid int) *tensor.Dense {
	dl := func(r int) T { return T(dlv[r]) }
	switch which {
	case 0: // dh[r,j] = dl[r] w[j]
		out := make([]T, rows*hid)
		for r := 0; r < rows; r++ {
			d := dl(r)
			if d == 0 {
				continue
			}
			o := out[r*hid : (r+1)*hid]
			for j := range o {
				o[j] = d * w[j]
			}
		}
		return tensor.New(tensor.WithShape(rows, hid), tensor.WithBacking(out))
	case 1: // dw[j] = sum_r h[r,j] dl[r]
		out := make([]T, hid)
		for r := 0; r < rows; r++ {
			d := dl(r)
			if d == 0 {
				continue
			}
			hr := h[r*hid : (r+1)*hid]
			for j, v := range hr {
				out[j] += v * d
			}
		}
		return tensor.New(tensor.WithShape(hid, 1), tensor.WithBacking(out))
	}
	var s T // db = sum_r dl[r]
	for r := 0; r < rows; r++ {
		s += dl(r)
	}
	return tensor.New(tensor.WithShape(1), tensor.WithBacking([]T{s}))
}

// ---- score-function terms of a gate: f(l) per row, l = h w + b ----

type gateMapKind int

const (
	gateLogProb  gateMapKind = iota // log P(g | x) of the forced gates
	gateOpenProb                    // sigmoid(l)
	gateEntropy                     // Bernoulli entropy of sigmoid(l)
)

func (k gateMapKind) String() string {
	return [...]string{"log-probability", "open probability", "entropy"}[k]
}

// softplus(x) = log(1 + e^x), without overflow.
func softplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// gateMapOp: (h, w, b) -> f(l) [batch, agents]; it keeps dL/df -> dL/dl
// factors f'(l) of its forward pass for its gradient ops. Held gates are
// constants (log-probability and entropy 0, open probability 1, no
// gradient).
type gateMapOp struct {
	gn    *GateNode
	kind  gateMapKind
	l, df []float64 // last forward's logits and f'(l)
}

func (op *gateMapOp) Arity() int { return 3 }
func (op *gateMapOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: 2, Of: a})
}
func (op *gateMapOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.gn.batch, op.gn.agents}, nil
}
func (op *gateMapOp) ReturnsPtr() bool      { return false }
func (op *gateMapOp) CallsExtern() bool     { return false }
func (op *gateMapOp) OverwritesInput() int  { return -1 }
func (op *gateMapOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commGateMap%d%p", op.kind, op) }
func (op *gateMapOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateMapOp) String() string { return "CommGateMap(" + op.kind.String() + ")" }

func (op *gateMapOp) Do(vals ...G.Value) (G.Value, error) {
	h, w, b, rows, hid, err := gateHeadInputs(op, op.gn, vals)
	if err != nil {
		return nil, err
	}
	gn := op.gn
	if op.kind == gateLogProb && gn.forced == nil && !gn.gate.held {
		return nil, errors.New("comm: gate log-probability: no gates set (SetGates)")
	}
	if len(op.l) != rows {
		op.l, op.df = make([]float64, rows), make([]float64, rows)
	}
	switch hd := h.Data().(type) {
	case []float32:
		gateLogits(op.l, hd, w.Data().([]float32), b.Data().([]float32)[0], rows, hid)
	case []float64:
		gateLogits(op.l, hd, w.Data().([]float64), b.Data().([]float64)[0], rows, hid)
	default:
		return nil, fmt.Errorf("comm: gate map: unsupported data %T", hd)
	}
	out := make([]float64, rows)
	for r, l := range op.l {
		if gn.gate.held {
			op.df[r] = 0
			if op.kind == gateOpenProb {
				out[r] = 1
			}
			continue
		}
		p := sigmoid(l)
		switch op.kind {
		case gateLogProb:
			if gn.forced[r] == 1 {
				out[r] = -softplus(-l)
			} else {
				out[r] = -softplus(l)
			}
			op.df[r] = gn.forced[r] - p
		case gateOpenProb:
			out[r] = p
			op.df[r] = p * (1 - p)
		case gateEntropy:
			out[r] = p*softplus(-l) + (1-p)*softplus(l)
			op.df[r] = -l * p * (1 - p)
		}
	}
	return floatsTensor(h.Dtype(), []int{gn.batch, gn.agents}, out), nil
}

func (op *gateMapOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *gateMapOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	out := make(G.Nodes, 3)
	for which := range out {
		d, err := G.ApplyOp(&gateGradOp{key: op, name: "Map", which: which, rows: func() int { return len(op.df) }, factor: func(r int) float64 { return op.df[r] }}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		out[which] = d
	}
	return out, nil
}
