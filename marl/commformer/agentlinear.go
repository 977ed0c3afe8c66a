package commformer

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/attention/gemm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// agentLinear is a per-agent linear layer: for rows laid out [B*N, In] with
// the N agents of one sample in consecutive rows, row b*N+i is multiplied by
// agent i's own weights: y[b*N+i] = x[b*N+i] W_i + c_i. The rows of one
// agent form a strided matrix (leading dimension N*In), so each agent is one
// GEMM on the shared buffer, without gathering or transposing.
type agentLinear struct {
	W       *attention.Param // [N, In, Out]
	B       *attention.Param // [N, Out]
	N       int
	In, Out int
}

func newAgentLinear(ps *attention.Params, name string, n, in, out int, w attention.Init) *agentLinear {
	return &agentLinear{
		W: ps.New(name+".w", []int{n, in, out}, w),
		B: ps.New(name+".b", []int{n, out}, attention.Zeros),
		N: n, In: in, Out: out,
	}
}

func (l *agentLinear) forward(b *attention.Binder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if x.Dims() != 2 || s[1] != l.In || s[0]%l.N != 0 {
		return nil, fmt.Errorf("commformer: agent linear %s: input %v, want [B*%d %d]", l.W.Name, s, l.N, l.In)
	}
	return G.ApplyOp(&alOp{kind: alFwd, n: l.N, in: l.In, out: l.Out, rows: s[0], id: alIDs.Add(1)}, x, b.Node(l.W), b.Node(l.B))
}

var alIDs atomic.Uint64

const (
	alFwd = iota // (x, W, c) -> y
	alDX         // (gy, W) -> dx
	alDW         // (x, gy) -> dW
	alDB         // (gy) -> dc
)

type alOp struct {
	kind             int
	n, in, out, rows int
	id               uint64
	// out is the output tensor, reused by every run of the op (a run's
	// values are consumed before the next run starts).
	buf *tensor.Dense
}

func (op *alOp) Arity() int {
	switch op.kind {
	case alFwd:
		return 3
	case alDB:
		return 1
	}
	return 2
}

func (op *alOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t2, t3 := G.TensorType{Dims: 2, Of: a}, G.TensorType{Dims: 3, Of: a}
	switch op.kind {
	case alFwd:
		return hm.NewFnType(t2, t3, t2, t2)
	case alDX:
		return hm.NewFnType(t2, t3, t2)
	case alDW:
		return hm.NewFnType(t2, t2, t3)
	}
	return hm.NewFnType(t2, t2)
}

func (op *alOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.kind {
	case alFwd:
		return tensor.Shape{op.rows, op.out}, nil
	case alDX:
		return tensor.Shape{op.rows, op.in}, nil
	case alDW:
		return tensor.Shape{op.n, op.in, op.out}, nil
	}
	return tensor.Shape{op.n, op.out}, nil
}

func (op *alOp) ReturnsPtr() bool     { return false }
func (op *alOp) CallsExtern() bool    { return false }
func (op *alOp) OverwritesInput() int { return -1 }
func (op *alOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "agentLinear%d#%d", op.kind, op.id)
}
func (op *alOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *alOp) String() string { return fmt.Sprintf("AgentLinear%d", op.kind) }

func (op *alOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *alOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.kind != alFwd {
		return nil, fmt.Errorf("commformer: second derivatives of the agent linear layer are not implemented")
	}
	x, w := inputs[0], inputs[1]
	mk := func(kind int, in ...*G.Node) (*G.Node, error) {
		return G.ApplyOp(&alOp{kind: kind, n: op.n, in: op.in, out: op.out, rows: op.rows, id: alIDs.Add(1)}, in...)
	}
	dx, err := mk(alDX, grad, w)
	if err != nil {
		return nil, err
	}
	dw, err := mk(alDW, x, grad)
	if err != nil {
		return nil, err
	}
	db, err := mk(alDB, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

func (op *alOp) Do(vs ...G.Value) (G.Value, error) {
	in := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("commformer: %v: input %d is %T", op, i, v)
		}
		in[i] = d
	}
	shape, _ := op.InferShape()
	if op.buf == nil || op.buf.Dtype() != in[0].Dtype() {
		op.buf = tensor.New(tensor.Of(in[0].Dtype()), tensor.WithShape(shape...))
	}
	out := op.buf
	switch in[0].Dtype() {
	case tensor.Float32:
		alRun(op, gemm32{gemm.Current()}, out.Float32s(), in)
	case tensor.Float64:
		alRun(op, gemm64{gemm.Current()}, out.Float64s(), in)
	default:
		return nil, fmt.Errorf("commformer: %v: unsupported dtype %v", op, in[0].Dtype())
	}
	return out, nil
}

// gemm64 adapts the backend's Dgemm to the generic gemmer.
type gemm64 struct{ blas.Float64Level3 }

func (g gemm64) Gemm(ta, tb blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	g.Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type gemmer[T float32 | float64] interface {
	Gemm(ta, tb blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)
}

// gemm32 adapts the backend's Sgemm (attention/gemm: the fast kernel
// installed by gemm.Use, the same one gorgonia's products run on).
type gemm32 struct{ blas.Float32Level3 }

func (g gemm32) Gemm(ta, tb blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func alRun[T float32 | float64](op *alOp, g gemmer[T], out []T, in []*tensor.Dense) {
	data := func(d *tensor.Dense) []T { return d.Data().([]T) }
	N, In, Out := op.n, op.in, op.out
	B := op.rows / N
	switch op.kind {
	case alFwd:
		x, w, c := data(in[0]), data(in[1]), data(in[2])
		for r := 0; r < op.rows; r++ {
			copy(out[r*Out:(r+1)*Out], c[(r%N)*Out:(r%N+1)*Out])
		}
		for i := 0; i < N; i++ {
			g.Gemm(blas.NoTrans, blas.NoTrans, B, Out, In, 1, x[i*In:], N*In, w[i*In*Out:(i+1)*In*Out], Out, 1, out[i*Out:], N*Out)
		}
	case alDX:
		gy, w := data(in[0]), data(in[1])
		for i := 0; i < N; i++ {
			g.Gemm(blas.NoTrans, blas.Trans, B, In, Out, 1, gy[i*Out:], N*Out, w[i*In*Out:(i+1)*In*Out], Out, 0, out[i*In:], N*In)
		}
	case alDW:
		x, gy := data(in[0]), data(in[1])
		for i := 0; i < N; i++ {
			g.Gemm(blas.Trans, blas.NoTrans, In, Out, B, 1, x[i*In:], N*In, gy[i*Out:], N*Out, 0, out[i*In*Out:(i+1)*In*Out], Out)
		}
	case alDB:
		gy := data(in[0])
		clear(out)
		for r := 0; r < op.rows; r++ {
			o := out[(r%N)*Out : (r%N+1)*Out]
			for j, v := range gy[r*Out : (r+1)*Out] {
				o[j] += v
			}
		}
	}
}
