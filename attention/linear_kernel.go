package attention

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/tensor"

	"github.com/commgraph/commgraph/attention/gemm"
	"github.com/commgraph/commgraph/attention/internal/loops32"
)

// linearKernel is the fused affine map y = x W + b (x [M, in], W [in, out],
// b [out]) with its backward pass dx = dy W^T, dW = x^T dy, db = sum_rows dy,
// all matrix products through the installed GEMM backend. noDX skips dx
// when x is data that needs no gradient (the observation input). The
// products run on up to workers goroutines (Binder.Workers; the bits do not
// depend on it).
type linearKernel struct {
	noDX    bool
	workers int
}

func (linearKernel) name() string      { return "Linear" }
func (linearKernel) arity() int        { return 3 }
func (k linearKernel) diffWRT() []bool { return []bool{!k.noDX, true, true} }
func (linearKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	x, w, b := s[0], s[1], s[2]
	if x.Dims() != 2 || w.Dims() != 2 || x[1] != w[0] || b.TotalSize() != w[1] {
		return nil, fmt.Errorf("x %v, W %v, b %v do not match", x, w, b)
	}
	return tensor.Shape{x[0], w[1]}, nil
}

func gemmT[T float](workers int, tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		gemm.SgemmN(workers, tA, tB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gemm.Current().Dgemm(tA, tB, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// linearForward computes y = x W + b.
func linearForward[T float](workers int, y, x, w, b []T, m, in, out int) {
	// beta = 0 lets the backend write C directly (no scratch pass).
	gemmT(workers, blas.NoTrans, blas.NoTrans, m, out, in, 1, x, in, w, out, 0, y, out)
	if y32, ok := as32(y); ok {
		b32, _ := as32(b)
		loops32.AddBias(y32[:m*out], b32[:out])
		return
	}
	for r := 0; r < m; r++ {
		yr := y[r*out : (r+1)*out]
		for j, bj := range b[:out] {
			yr[j] += bj
		}
	}
}

func linearBackward[T float](workers int, dx, dw, db, x, w, gy []T, m, in, out int) {
	if dx != nil {
		gemmT(workers, blas.NoTrans, blas.Trans, m, in, out, 1, gy, out, w, out, 0, dx, in)
	}
	gemmT(workers, blas.Trans, blas.NoTrans, in, out, m, 1, x, in, gy, out, 0, dw, out)
	colSums(db, gy, out)
}

func (k linearKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	m, ni, no := in[0].Shape()[0], in[1].Shape()[0], in[1].Shape()[1]
	switch in[0].Dtype() {
	case tensor.Float32:
		linearForward(k.workers, slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]), m, ni, no)
	default:
		linearForward(k.workers, slice[float64](out), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]), m, ni, no)
	}
	return nil
}

func (k linearKernel) backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) error {
	m, ni, no := in[0].Shape()[0], in[1].Shape()[0], in[1].Shape()[1]
	switch in[0].Dtype() {
	case tensor.Float32:
		linearBackward(k.workers, slice[float32](grads[0]), slice[float32](grads[1]), slice[float32](grads[2]),
			slice[float32](in[0]), slice[float32](in[1]), slice[float32](gout), m, ni, no)
	default:
		linearBackward(k.workers, slice[float64](grads[0]), slice[float64](grads[1]), slice[float64](grads[2]),
			slice[float64](in[0]), slice[float64](in[1]), slice[float64](gout), m, ni, no)
	}
	return nil
}
