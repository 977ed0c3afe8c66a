package attention

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/commgraph/commgraph/attention/internal/loops32"
)

// addLayerNormKernel is LN(x + y), the post-LayerNorm residual of the
// transformer blocks, as one op. As a gorgonia Add followed by the LayerNorm
// op, the sum cost a fresh tensor per run (gorgonia's Add clones its left
// operand: a multi-megabyte allocation and copy per residual, and the GC
// work that follows); here the sum lives in a buffer the kernel keeps from
// run to run. The arithmetic is that of the two ops: s = x + y element by
// element in the dtype, then the LayerNorm of s; the gradient of x and of y
// is the LayerNorm's input gradient (written twice: the two gradients are
// separate values to gorgonia, which may accumulate into either in place).
type addLayerNormKernel struct {
	ln  layerNormKernel
	sum *tensor.Dense // x + y of the last forward, the LayerNorm's input
}

func (k *addLayerNormKernel) enableCache() { k.ln.enableCache() }

func (*addLayerNormKernel) name() string    { return "AddLayerNorm" }
func (*addLayerNormKernel) arity() int      { return 4 }
func (*addLayerNormKernel) diffWRT() []bool { return []bool{true, true, true, true} }
func (k *addLayerNormKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	if !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("residual x %v and y %v differ", s[0], s[1])
	}
	return k.ln.outShape([]tensor.Shape{s[0], s[2], s[3]})
}

// addInto sets dst[i] = a[i] + b[i] (float32: attention/internal/loops32, the same
// rounded sums).
func addInto[T float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	if d32, ok := as32(dst); ok {
		a32, _ := as32(a)
		b32, _ := as32(b)
		loops32.Add(d32, a32, b32)
		return
	}
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func (k *addLayerNormKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	k.sum = reuse(k.sum, in[0].Dtype(), in[0].Shape())
	switch in[0].Dtype() {
	case tensor.Float32:
		addInto(slice[float32](k.sum), slice[float32](in[0]), slice[float32](in[1]))
	default:
		addInto(slice[float64](k.sum), slice[float64](in[0]), slice[float64](in[1]))
	}
	return k.ln.forward([]*tensor.Dense{k.sum, in[2], in[3]}, out)
}

func (k *addLayerNormKernel) backward(in []*tensor.Dense, out, gout *tensor.Dense, grads []*tensor.Dense) error {
	if k.sum == nil {
		return fmt.Errorf("attention: %s: backward before forward", k.name())
	}
	// The LayerNorm's input gradient goes to x and, row by row as it is
	// computed, to y.
	return k.ln.backwardDup([]*tensor.Dense{k.sum, in[2], in[3]}, gout, []*tensor.Dense{grads[0], grads[2], grads[3]}, grads[1])
}
