package gemm

import (
	"sync"
	"sync/atomic"

	"github.com/viterin/vek"
	"github.com/viterin/vek/vek32"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// BLAS is the interface gorgonia and its tensor package accept.
type BLAS = G.BLAS

// Vek is gonum's BLAS with Sgemm and Dgemm replaced by vek's AVX2 matrix
// product (falls back to vek's pure-Go loops on CPUs without AVX2). Other
// routines are gonum's.
type Vek struct {
	gonum.Implementation
}

var (
	sgemmCalls atomic.Int64
	dgemmCalls atomic.Int64
)

// Calls returns how many Sgemm and Dgemm calls the backends of this package
// have served since start-up (for tests that check the kernel is in use).
func Calls() (sgemm, dgemm int64) { return sgemmCalls.Load(), dgemmCalls.Load() }

type holder struct{ b BLAS }

var current atomic.Pointer[holder]

func init() { current.Store(&holder{gonum.Implementation{}}) }

// Use installs Default() as the BLAS of gorgonia and gorgonia's tensor
// package and returns its name. Call it once at start-up, before building
// machines; it is safe to call again.
func Use() string {
	b, name := Default()
	G.Use(b)
	current.Store(&holder{b})
	return name
}

// Current returns the implementation installed by the last Use (gonum's
// before any call).
func Current() BLAS { return current.Load().b }

// Sgemm computes C = alpha op(A) op(B) + beta C (row-major, as gonum's
// blas.Float32) with the implementation installed by Use.
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Current().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// RowBlocksExact reports whether the current backend gives every element
// of C the same bits however many rows the call has, so that a product
// done in row blocks (separate calls) equals the whole. True for Native,
// whose micro-kernel sums over k in the same order for every tile
// (TestNativeSplitBitIdentical, TestWorkersActingBitIdentical); not
// assumed for the others (OpenBLAS picks kernels by matrix size), where
// callers that need the same bits must not split.
func RowBlocksExact() bool {
	_, ok := Current().(Native)
	return ok
}

// SgemmN is Sgemm on up to workers goroutines (0 = GOMAXPROCS) when the
// installed backend is Native (other backends ignore workers). The result
// does not depend on workers (see Native.Sgemm).
func SgemmN(workers int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cur := Current()
	if nb, ok := cur.(Native); ok {
		nb.sgemm(workers, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	cur.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// kBlock bounds the inner dimension of one kernel call: vek's kernel streams
// all of B once per row of A, so long inner dimensions (weight gradients,
// k = batch rows) are split into panels whose slice of B stays in cache.
const kBlock = 520

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major matrices.
func (Vek) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmCalls.Add(1)
	checkArgs(tA, tB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	gemmVek(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, vek32.MatMul_Into)
}

// Dgemm computes C = alpha op(A) op(B) + beta C for row-major matrices.
func (Vek) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	dgemmCalls.Add(1)
	checkArgs(tA, tB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	gemmVek(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, vek.MatMul_Into)
}

type float interface{ ~float32 | ~float64 }

// scratch buffers, reused across calls (grown on demand).
type bufPool[T float] struct{ p sync.Pool }

func (bp *bufPool[T]) get(n int) *[]T {
	if v := bp.p.Get(); v != nil {
		s := v.(*[]T)
		if cap(*s) >= n {
			*s = (*s)[:n]
			return s
		}
	}
	s := make([]T, n)
	return &s
}

func (bp *bufPool[T]) put(s *[]T) { bp.p.Put(s) }

var (
	pool32 bufPool[float32]
	pool64 bufPool[float64]
)

func pool[T float]() *bufPool[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&pool32).(*bufPool[T])
	}
	return any(&pool64).(*bufPool[T])
}

// pack copies rows r0 <= r < r1 of op(X) (op(X) has cols columns; X has
// leading dimension ld) into dst as a dense row-major (r1-r0) x cols block.
func pack[T float](dst []T, trans bool, x []T, ld, r0, r1, cols int) {
	if !trans {
		for r := r0; r < r1; r++ {
			copy(dst[(r-r0)*cols:(r-r0+1)*cols], x[r*ld:r*ld+cols])
		}
		return
	}
	// op(X)[r][c] = X[c][r]; walk X row by row for contiguous reads.
	for c := 0; c < cols; c++ {
		for r, v := range x[c*ld+r0 : c*ld+r1] {
			dst[r*cols+c] = v
		}
	}
}

// packCols copies columns c0 <= c < c1 of op(X) (op(X) has rows rows; X has
// leading dimension ld) into dst as a dense row-major rows x (c1-c0) block.
func packCols[T float](dst []T, trans bool, x []T, ld, rows, c0, c1 int) {
	w := c1 - c0
	if !trans {
		for r := 0; r < rows; r++ {
			copy(dst[r*w:(r+1)*w], x[r*ld+c0:r*ld+c1])
		}
		return
	}
	// op(X)[r][c] = X[c][r]: transpose in square tiles so that both the
	// reads and the strided writes stay within a few cache lines.
	const tile = 8
	for cb := c0; cb < c1; cb += tile {
		ce := min(cb+tile, c1)
		for rb := 0; rb < rows; rb += tile {
			re := min(rb+tile, rows)
			for c := cb; c < ce; c++ {
				xr := x[c*ld+rb : c*ld+re]
				for r, v := range xr {
					dst[(rb+r)*w+c-c0] = v
				}
			}
		}
	}
}

func gemmVek[T float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int,
	matMulInto func(dst, x, y []T, n int) []T) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	transA := tA != blas.NoTrans
	transB := tB != blas.NoTrans
	p := pool[T]()

	// vek's kernel needs op(A) row-major, so a transposed A is repacked.
	// When op(A) = A^T is the larger operand (weight gradients x^T dy with
	// x [rows, in], dy [rows, out], in > out), compute C^T = op(B)^T A
	// instead: only the smaller dy is transposed, and x is read in place.
	if transA && !transB && m > n {
		tmp := p.get(n * m)
		defer p.put(tmp)
		ct := *tmp
		gemmVek(blas.Trans, blas.NoTrans, n, m, k, 1, b, ldb, a, lda, 0, ct, m, matMulInto)
		for r := 0; r < m; r++ {
			cr := c[r*ldc : r*ldc+n]
			for j := range cr {
				v := alpha * ct[j*m+r]
				if beta != 0 {
					v += beta * cr[j]
				}
				cr[j] = v
			}
		}
		return
	}

	// dst receives op(A) op(B): C itself when no scaling or stride is needed.
	direct := alpha == 1 && beta == 0 && ldc == n
	var dst []T
	if direct {
		dst = c[:m*n]
	} else {
		tmp := p.get(m * n)
		defer p.put(tmp)
		dst = *tmp
	}
	kb := min(k, kBlock)
	var apBuf, bpBuf, part *[]T
	if transA || lda != k || k > kBlock {
		apBuf = p.get(m * kb)
		defer p.put(apBuf)
	}
	if transB || ldb != n {
		bpBuf = p.get(kb * n)
		defer p.put(bpBuf)
	}
	if k > kBlock {
		part = p.get(m * n)
		defer p.put(part)
	}
	for k0 := 0; k0 < k; k0 += kBlock {
		k1 := min(k0+kBlock, k)
		kk := k1 - k0
		ap := a[:m*kk]
		if apBuf != nil {
			ap = (*apBuf)[:m*kk]
			packCols(ap, transA, a, lda, m, k0, k1)
		}
		var bp []T
		if bpBuf != nil {
			bp = (*bpBuf)[:kk*n]
			pack(bp, transB, b, ldb, k0, k1, n)
		} else {
			bp = b[k0*n : k1*n]
		}
		if k0 == 0 {
			matMulInto(dst, ap, bp, kk)
			continue
		}
		matMulInto(*part, ap, bp, kk)
		for i, v := range *part {
			dst[i] += v
		}
	}
	if direct {
		return
	}
	for r := 0; r < m; r++ {
		cr := c[r*ldc : r*ldc+n]
		tr := dst[r*n : (r+1)*n]
		if beta == 0 {
			for j, v := range tr {
				cr[j] = alpha * v
			}
		} else {
			for j, v := range tr {
				cr[j] = alpha*v + beta*cr[j]
			}
		}
	}
}

func scaleC[T float](m, n int, beta T, c []T, ldc int) {
	for r := 0; r < m; r++ {
		cr := c[r*ldc : r*ldc+n]
		if beta == 0 {
			clear(cr)
		} else if beta != 1 {
			for j := range cr {
				cr[j] *= beta
			}
		}
	}
}

// checkArgs panics like gonum's BLAS on inconsistent arguments (a
// programming error, not bad user input).
func checkArgs(tA, tB blas.Transpose, m, n, k, lda, ldb, ldc, la, lb, lc int) {
	ok := func(t blas.Transpose) bool {
		return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans
	}
	if !ok(tA) || !ok(tB) {
		panic("gemm: bad transpose")
	}
	if m < 0 || n < 0 || k < 0 {
		panic("gemm: negative dimension")
	}
	rowsA, colsA := m, k
	if tA != blas.NoTrans {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB != blas.NoTrans {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) || ldb < max(1, colsB) || ldc < max(1, n) {
		panic("gemm: bad leading dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	if (rowsA > 0 && la < (rowsA-1)*lda+colsA) || (rowsB > 0 && lb < (rowsB-1)*ldb+colsB) || lc < (m-1)*ldc+n {
		panic("gemm: slice too short")
	}
}
