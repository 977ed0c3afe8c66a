package comm

import (
	"fmt"
	"hash"
	"hash/fnv"
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
		d, err := G.ApplyOp(&gateHeadGradOp{gn: op.gn, which: which}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		out[which] = d
	}
	return out, nil
}

// gateHeadGradOp: (h, w, dL/dg) -> the gradient of input `which` (0 = h,
// 1 = w, 2 = b), using the relaxed gate z of the forward pass of this run.
type gateHeadGradOp struct {
	gn    *GateNode
	which int
}

func (op *gateHeadGradOp) Arity() int { return 3 }
func (op *gateHeadGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	outDims := 2
	if op.which == 2 {
		outDims = 1
	}
	return hm.NewFnType(G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: outDims, Of: a})
}
func (op *gateHeadGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	switch op.which {
	case 0:
		return in[0].(tensor.Shape).Clone(), nil
	case 1:
		return in[1].(tensor.Shape).Clone(), nil
	}
	return tensor.Shape{1}, nil
}
func (op *gateHeadGradOp) ReturnsPtr() bool     { return false }
func (op *gateHeadGradOp) CallsExtern() bool    { return false }
func (op *gateHeadGradOp) OverwritesInput() int { return -1 }
func (op *gateHeadGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "commGateHeadGrad%d%p", op.which, op.gn)
}
func (op *gateHeadGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateHeadGradOp) String() string { return fmt.Sprintf("CommGateHeadGrad%d", op.which) }

func (op *gateHeadGradOp) Do(vals ...G.Value) (G.Value, error) {
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
	if rows != len(op.gn.z) || w.Shape().TotalSize() != hid || tg.Shape().TotalSize() != rows {
		return nil, fmt.Errorf("comm: gate head grad: shapes h %v w %v grad %v for %d rows", h.Shape(), w.Shape(), tg.Shape(), len(op.gn.z))
	}
	switch hd := h.Data().(type) {
	case []float32:
		return gateHeadGrad(op.which, op.gn, hd, w.Data().([]float32), tg.Data().([]float32), rows, hid), nil
	case []float64:
		return gateHeadGrad(op.which, op.gn, hd, w.Data().([]float64), tg.Data().([]float64), rows, hid), nil
	}
	return nil, fmt.Errorf("comm: gate head grad: unsupported data %T", h.Data())
}

func gateHeadGrad[T float32 | float64](which int, gn *GateNode, h, w, gg []T, rows, hid int) *tensor.Dense {
	inv := 1 / gn.tau
	dl := func(r int) T {
		z := gn.z[r]
		return T(float64(gg[r]) * z * (1 - z) * inv)
	}
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
