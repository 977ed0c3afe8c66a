package attention

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// kernel is a fused operation with a hand-written forward and backward pass.
// Fused kernels replace chains of small gorgonia ops (each of which allocates
// and walks memory) by one pass, and they share their arithmetic with the
// plain-float32 inference path, so training and acting compute the same
// function.
type kernel interface {
	name() string
	arity() int
	// outShape returns the output shape for the input shapes.
	outShape(in []tensor.Shape) (tensor.Shape, error)
	// diffWRT reports which inputs receive a gradient.
	diffWRT() []bool
	// forward computes the output into out (every element must be
	// written: out is reused from run to run).
	forward(in []*tensor.Dense, out *tensor.Dense) error
	// backward writes the gradient of each input into grads[i] (nil where
	// diffWRT is false), given the inputs, the forward output and the
	// gradient of the output. Every element must be written: the buffers
	// are reused from run to run and hold the previous run's values.
	backward(in []*tensor.Dense, out, gout *tensor.Dense, grads []*tensor.Dense) error
}

// cacher is implemented by kernels that can keep forward intermediates for
// their backward pass. SymDiff enables the cache, so forward-only graphs
// (acting) do not pay for it. A kernel instance belongs to one node of one
// graph, and a TapeMachine runs the node's forward before its backward in
// every run, so the cache always holds the current run's values.
type cacher interface{ enableCache() }

var opIDs atomic.Uint64

// fusedOp adapts a kernel to gorgonia's Op and SDOp interfaces.
type fusedOp struct {
	k        kernel
	id       uint64 // unique per op instance so gorgonia never merges two of them
	inDims   []int
	outDims  int
	outShape tensor.Shape
	out      *tensor.Dense // output buffer, reused from run to run
}

func applyKernel(k kernel, children ...*G.Node) (*G.Node, error) {
	if len(children) != k.arity() {
		return nil, fmt.Errorf("attention: %s: %d inputs, want %d", k.name(), len(children), k.arity())
	}
	op := &fusedOp{k: k, id: opIDs.Add(1)}
	shapes := make([]tensor.Shape, len(children))
	for i, c := range children {
		if c == nil {
			return nil, fmt.Errorf("attention: %s: input %d is nil", k.name(), i)
		}
		shapes[i] = c.Shape()
		op.inDims = append(op.inDims, c.Shape().Dims())
	}
	os, err := k.outShape(shapes)
	if err != nil {
		return nil, fmt.Errorf("attention: %s: %w", k.name(), err)
	}
	op.outDims = os.Dims()
	op.outShape = os
	n, err := G.ApplyOp(op, children...)
	if err != nil {
		return nil, fmt.Errorf("attention: %s: %w", k.name(), err)
	}
	return n, nil
}

func (op *fusedOp) Arity() int { return op.k.arity() }

func (op *fusedOp) Type() hm.Type {
	// Every input and the output are tensors of one dtype 'a'.
	a := hm.TypeVariable('a')
	ts := make(hm.Types, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, G.TensorType{Dims: d, Of: a})
	}
	ts = append(ts, G.TensorType{Dims: op.outDims, Of: a})
	return hm.NewFnType(ts...)
}

func (op *fusedOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	shapes, err := G.DimSizersToShapes(ds)
	if err != nil {
		return nil, err
	}
	return op.k.outShape(shapes)
}

func toDense(vs []G.Value) ([]*tensor.Dense, error) {
	out := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("input %d is %T, want *tensor.Dense", i, v)
		}
		out[i] = d
	}
	return out, nil
}

func (op *fusedOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := toDense(vs)
	if err != nil {
		return nil, fmt.Errorf("attention: %s: %w", op.k.name(), err)
	}
	op.out = reuse(op.out, in[0].Dtype(), op.outShape)
	if err := op.k.forward(in, op.out); err != nil {
		return nil, err
	}
	return op.out, nil
}

// reuse returns buf if it has the dtype and shape, else a new tensor.
//
// Ops keep their output and gradient buffers from run to run: a fresh
// multi-megabyte allocation per op and run cost more than the arithmetic of
// the cheap ops (page faults on first touch, GC), and gorgonia frees
// nothing itself. This is safe because a TapeMachine runs each op once per
// run, in a fixed order, and the previous run's values are dead by then;
// the catch for callers is that a value read from a node (or a gradient
// from Grads) is overwritten by the next run: copy it if it must survive.
func reuse(buf *tensor.Dense, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if buf != nil && buf.Dtype() == dt && buf.Shape().Eq(shape) {
		return buf
	}
	return newLike(dt, shape...)
}

func (op *fusedOp) ReturnsPtr() bool     { return false }
func (op *fusedOp) CallsExtern() bool    { return false }
func (op *fusedOp) OverwritesInput() int { return -1 }
func (op *fusedOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s#%d", op.k.name(), op.id)
}
func (op *fusedOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *fusedOp) String() string { return op.k.name() }

func (op *fusedOp) DiffWRT(n int) []bool { return op.k.diffWRT() }

// SymDiff builds one backward node computing every input gradient, and one
// extraction node per differentiable input that hands out its gradient.
//
// The backward node keeps the gradients (one tensor each) and outputs a
// one-element token; each extraction node takes the token (which orders it
// after the backward node on the tape) and returns its input's gradient
// tensor without copying. No two live values share memory, so gorgonia's
// in-place register reuse cannot corrupt a gradient.
func (op *fusedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if c, ok := op.k.(cacher); ok {
		c.enableCache()
	}
	diff := op.k.diffWRT()
	shapes := make([]tensor.Shape, len(inputs))
	for i, in := range inputs {
		shapes[i] = in.Shape().Clone()
	}
	bw := &fusedBwdOp{fwd: op, shapes: shapes}
	children := append(append(G.Nodes{}, inputs...), output, grad)
	all, err := G.ApplyOp(bw, children...)
	if err != nil {
		return nil, fmt.Errorf("attention: %s backward: %w", op.k.name(), err)
	}
	res := make(G.Nodes, len(inputs))
	for i := range inputs {
		if !diff[i] {
			continue
		}
		ex := &extractOp{src: bw, idx: i, shape: shapes[i], id: opIDs.Add(1)}
		if res[i], err = G.ApplyOp(ex, all); err != nil {
			return nil, fmt.Errorf("attention: %s backward extract %d: %w", op.k.name(), i, err)
		}
	}
	return res, nil
}

// fusedBwdOp evaluates a kernel's backward pass.
type fusedBwdOp struct {
	fwd    *fusedOp
	shapes []tensor.Shape
	bufs   []*tensor.Dense // gradient buffers, reused from run to run
	ready  []bool          // bufs[i] computed this run and not yet handed out
	token  *tensor.Dense
}

func (op *fusedBwdOp) Arity() int { return op.fwd.k.arity() + 2 }
func (op *fusedBwdOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make(hm.Types, 0, op.Arity()+1)
	for _, d := range op.fwd.inDims {
		ts = append(ts, G.TensorType{Dims: d, Of: a})
	}
	ts = append(ts, G.TensorType{Dims: op.fwd.outDims, Of: a}, G.TensorType{Dims: op.fwd.outDims, Of: a}, G.TensorType{Dims: 1, Of: a})
	return hm.NewFnType(ts...)
}
func (op *fusedBwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1}, nil
}
func (op *fusedBwdOp) Do(vs ...G.Value) (G.Value, error) {
	in, err := toDense(vs)
	if err != nil {
		return nil, fmt.Errorf("attention: %s backward: %w", op.fwd.k.name(), err)
	}
	n := op.fwd.k.arity()
	dt := in[0].Dtype()
	if op.bufs == nil {
		op.bufs = make([]*tensor.Dense, n)
		op.ready = make([]bool, n)
	}
	diff := op.fwd.k.diffWRT()
	grads := make([]*tensor.Dense, n)
	for i := 0; i < n; i++ {
		if diff[i] {
			op.bufs[i] = reuse(op.bufs[i], dt, op.shapes[i])
			grads[i] = op.bufs[i]
		}
	}
	if err := op.fwd.k.backward(in[:n], in[n], in[n+1], grads); err != nil {
		return nil, err
	}
	for i := range grads {
		op.ready[i] = grads[i] != nil
	}
	op.token = reuse(op.token, dt, tensor.Shape{1})
	return op.token, nil
}
func (op *fusedBwdOp) ReturnsPtr() bool     { return false }
func (op *fusedBwdOp) CallsExtern() bool    { return false }
func (op *fusedBwdOp) OverwritesInput() int { return -1 }
func (op *fusedBwdOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "%s.grad#%d", op.fwd.k.name(), op.fwd.id)
}
func (op *fusedBwdOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *fusedBwdOp) String() string { return op.fwd.k.name() + ".grad" }

// extractOp returns one input's gradient computed by a fusedBwdOp.
type extractOp struct {
	src   *fusedBwdOp
	idx   int
	shape tensor.Shape
	id    uint64
}

func (op *extractOp) Arity() int { return 1 }
func (op *extractOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(G.TensorType{Dims: 1, Of: a}, G.TensorType{Dims: op.shape.Dims(), Of: a})
}
func (op *extractOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *extractOp) Do(vs ...G.Value) (G.Value, error) {
	if op.src.ready == nil || !op.src.ready[op.idx] {
		return nil, fmt.Errorf("attention: %s: gradient %d not computed", op.src.fwd.k.name(), op.idx)
	}
	op.src.ready[op.idx] = false // handed out once per run
	return op.src.bufs[op.idx], nil
}
func (op *extractOp) ReturnsPtr() bool     { return false }
func (op *extractOp) CallsExtern() bool    { return false }
func (op *extractOp) OverwritesInput() int { return -1 }
func (op *extractOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "extract(%d,%v)#%d", op.idx, op.shape, op.id)
}
func (op *extractOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *extractOp) String() string { return fmt.Sprintf("extract(%d,%v)", op.idx, op.shape) }
