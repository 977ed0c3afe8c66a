package commformer

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maskedLogSoftmax returns log-softmax over the rows of x + mask (x and mask
// [R, A]; mask is 0 for available actions and maskNeg otherwise, and gets no
// gradient). One fused pass replaces gorgonia's Add + LogSoftMax (and their
// backward ops), which cost more than the tiny arithmetic at 12,000 rows.
func maskedLogSoftmax(x, mask *G.Node) (*G.Node, error) {
	if !x.Shape().Eq(mask.Shape()) || x.Dims() != 2 {
		return nil, fmt.Errorf("commformer: masked log-softmax: logits %v, mask %v", x.Shape(), mask.Shape())
	}
	return G.ApplyOp(&lsmOp{shape: x.Shape().Clone()}, x, mask)
}

// lsmOp: (x, mask) -> y = (x+mask) - logsumexp_row(x+mask), or with bwd set,
// (y, gy) -> dx = gy - softmax(y) * sum_row(gy).
type lsmOp struct {
	shape tensor.Shape
	bwd   bool
	buf   *tensor.Dense // reused output
}

func (op *lsmOp) Arity() int { return 2 }
func (op *lsmOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, t)
}
func (op *lsmOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *lsmOp) ReturnsPtr() bool                               { return false }
func (op *lsmOp) CallsExtern() bool                              { return false }
func (op *lsmOp) OverwritesInput() int                           { return -1 }
func (op *lsmOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "maskedLogSoftmax%v%p", op.bwd, op) }
func (op *lsmOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *lsmOp) String() string {
	if op.bwd {
		return "MaskedLogSoftmaxGrad"
	}
	return "MaskedLogSoftmax"
}

func (op *lsmOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op *lsmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.bwd {
		return nil, fmt.Errorf("commformer: second derivative of the masked log-softmax is not implemented")
	}
	dx, err := G.ApplyOp(&lsmOp{shape: op.shape, bwd: true}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

func (op *lsmOp) Do(vs ...G.Value) (G.Value, error) {
	a, ok1 := vs[0].(*tensor.Dense)
	b, ok2 := vs[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("commformer: %v: inputs %T, %T", op, vs[0], vs[1])
	}
	if op.buf == nil || op.buf.Dtype() != a.Dtype() {
		op.buf = tensor.New(tensor.Of(a.Dtype()), tensor.WithShape(op.shape...))
	}
	cols := op.shape[1]
	switch a.Dtype() {
	case tensor.Float32:
		lsmRun(op.bwd, op.buf.Float32s(), a.Float32s(), b.Float32s(), cols)
	case tensor.Float64:
		lsmRun(op.bwd, op.buf.Float64s(), a.Float64s(), b.Float64s(), cols)
	default:
		return nil, fmt.Errorf("commformer: %v: unsupported dtype %v", op, a.Dtype())
	}
	return op.buf, nil
}

func lsmRun[T float32 | float64](bwd bool, out, a, b []T, cols int) {
	for r := 0; r+cols <= len(a); r += cols {
		o := out[r : r+cols]
		if bwd { // a = y, b = gy
			y, gy := a[r:r+cols], b[r:r+cols]
			var s float64
			for _, g := range gy {
				s += float64(g)
			}
			for j := range o {
				o[j] = T(float64(gy[j]) - math.Exp(float64(y[j]))*s)
			}
			continue
		}
		x, m := a[r:r+cols], b[r:r+cols]
		mx := math.Inf(-1)
		for j := range x {
			mx = max(mx, float64(x[j])+float64(m[j]))
		}
		var s float64
		for j := range x {
			s += math.Exp(float64(x[j]) + float64(m[j]) - mx)
		}
		lse := mx + math.Log(s)
		for j := range x {
			o[j] = T(float64(x[j]) + float64(m[j]) - lse)
		}
	}
}
