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
	forwardAdjacency(a.last, a.alpha, a.noise, a.mode, n, g.k, g.cfg.Tau, a.ys, a.idx)
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
	backwardAdjacency(out, alpha, a.noise, gA, a.mode, n, a.g.cfg.Tau, make([]float64, n*n))
	return floatsTensor(ta.Dtype(), []int{n, n}, out), nil
}

// ---- gate: g = 1[sigmoid((l + noise)/tau) > 0.5], straight-through ----

type gateOp struct{ gn *GateNode }

func (op *gateOp) Arity() int { return 1 }
func (op *gateOp) Type() hm.Type {
	t := hm.TypeVariable('a')
	return hm.NewFnType(t, t)
}
func (op *gateOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *gateOp) ReturnsPtr() bool      { return false }
func (op *gateOp) CallsExtern() bool     { return false }
func (op *gateOp) OverwritesInput() int  { return -1 }
func (op *gateOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commGate%p", op.gn) }
func (op *gateOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateOp) String() string { return "CommGate" }

func (op *gateOp) Do(vals ...G.Value) (G.Value, error) {
	t, err := asTensor(op, vals[0])
	if err != nil {
		return nil, err
	}
	gn := op.gn
	gn.logits = tensorFloats(t, gn.logits)
	if len(gn.logits) != len(gn.noise) {
		return nil, fmt.Errorf("comm: gate: %d logits, want %d", len(gn.logits), len(gn.noise))
	}
	gateForward(gn.z, gn.last, gn.logits, gn.noise, gn.tau)
	return floatsTensor(t.Dtype(), t.Shape().Clone(), gn.last), nil
}

func (op *gateOp) DiffWRT(int) []bool { return []bool{true} }

func (op *gateOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&gateGradOp{gn: op.gn}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// gateGradOp: (l, dL/dg) -> dL/dl = dL/dg * z(1-z)/tau (the straight-through
// gradient of z = sigmoid((l + noise)/tau)).
type gateGradOp struct{ gn *GateNode }

func (op *gateGradOp) Arity() int { return 2 }
func (op *gateGradOp) Type() hm.Type {
	t := hm.TypeVariable('a')
	return hm.NewFnType(t, t, t)
}
func (op *gateGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *gateGradOp) ReturnsPtr() bool      { return false }
func (op *gateGradOp) CallsExtern() bool     { return false }
func (op *gateGradOp) OverwritesInput() int  { return -1 }
func (op *gateGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "commGateGrad%p", op.gn) }
func (op *gateGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *gateGradOp) String() string { return "CommGateGrad" }

func (op *gateGradOp) Do(vals ...G.Value) (G.Value, error) {
	tl, err := asTensor(op, vals[0])
	if err != nil {
		return nil, err
	}
	tg, err := asTensor(op, vals[1])
	if err != nil {
		return nil, err
	}
	gn := op.gn
	l := tensorFloats(tl, nil)
	gg := tensorFloats(tg, nil)
	out := make([]float64, len(l))
	for i := range l {
		z := sigmoid((l[i] + gn.noise[i]) / gn.tau)
		out[i] = gg[i] * z * (1 - z) / gn.tau
	}
	return floatsTensor(tl.Dtype(), tl.Shape().Clone(), out), nil
}
