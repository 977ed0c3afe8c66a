package gemm

import (
	"runtime"
	"sync"

	"github.com/commgraph/commgraph/attention/gemm/internal/kernel"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Native is gonum's BLAS with Sgemm replaced by this package's blocked
// matrix product: panels of the inner dimension and a 6x16 AVX2/FMA
// register-blocked micro-kernel in assembly (Goto & van de Geijn 2008)
// that reads the operands in place where their layout allows;
// Dgemm is vek's. On CPUs without AVX2+FMA, Sgemm falls back to Vek.
type Native struct {
	gonum.Implementation
}

const (
	mr = 6   // micro-tile rows
	nr = 16  // micro-tile columns
	kc = 256 // panel depth: a 6 x kc sliver of A and a kc x 16 sliver of B fit in L1
)

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major matrices.
func (Native) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !kernel.Have {
		Vek{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmCalls.Add(1)
	checkArgs(tA, tB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if beta != 0 {
		scaleC(m, n, beta, c, ldc)
	}
	// With beta = 0 the first panel stores over C instead of clearing it.
	transA, transB := tA != blas.NoTrans, tB != blas.NoTrans
	workers := min(runtime.GOMAXPROCS(0), m/(4*mr))
	if workers < 2 || 2*m*n*k < parallelFlops {
		blockedSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, beta == 0)
		return
	}
	// Split the rows of C into blocks of whole micro-tiles, one goroutine
	// each. Every element of C is computed by the same sequence of
	// operations however the rows are split, so the result does not depend
	// on GOMAXPROCS.
	var wg sync.WaitGroup
	per := (m/mr + workers - 1) / workers * mr
	for i0 := 0; i0 < m; i0 += per {
		rows := min(per, m-i0)
		var sa []float32
		if transA {
			sa = a[i0:]
		} else {
			sa = a[i0*lda:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			blockedSgemm(transA, transB, rows, n, k, alpha, sa, lda, b, ldb, c[i0*ldc:], ldc, beta == 0)
		}()
	}
	wg.Wait()
}

// parallelFlops is the size (2mnk) above which Sgemm splits the work
// across GOMAXPROCS goroutines.
const parallelFlops = 4 << 20

// Dgemm is vek's.
func (Native) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	Vek{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type packBufs struct {
	a, b []float32
	tile [mr * nr]float32
}

var packPool = sync.Pool{New: func() any { return new(packBufs) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// blockedSgemm adds alpha op(A) op(B) to C.
//
// The inner dimension is cut into panels of kc. Within a panel, full 6x16
// tiles of C read A and B in place through the strided micro-kernel (A
// element (i, p) is at i*ars + p*acs for either transpose; B is read in
// place when its rows are contiguous, i.e. not transposed, and packed into
// 16-column slivers otherwise). Tiles on the right and bottom edges are
// computed into a zeroed 6x16 scratch tile from zero-padded packed slivers
// and added to C element by element.
func blockedSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	if alpha != 1 {
		// The micro-kernel computes alpha = 1 products: form the product
		// in scratch, then scale it into C.
		tmp := pool[float32]().get(m * n)
		defer pool[float32]().put(tmp)
		blockedSgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, *tmp, n, true)
		for r := 0; r < m; r++ {
			cr := c[r*ldc : r*ldc+n]
			for j, v := range (*tmp)[r*n : (r+1)*n] {
				if overwrite {
					cr[j] = alpha * v
				} else {
					cr[j] += alpha * v
				}
			}
		}
		return
	}
	bufs := packPool.Get().(*packBufs)
	defer packPool.Put(bufs)
	ars, acs := lda, 1
	if transA {
		ars, acs = 1, lda
	}
	fullRows, fullCols := m/mr, n/nr
	nPan := (n + nr - 1) / nr
	for p0 := 0; p0 < k; p0 += kc {
		kk := min(kc, k-p0)
		add := 1 // accumulate into C, except the first panel when overwriting
		if overwrite && p0 == 0 {
			add = 0
		}
		// B access for this panel: a transposed B is packed into slivers;
		// otherwise full slivers are read in place and only a partial
		// right-edge sliver is packed (zero-padded).
		switch {
		case transB:
			bufs.b = grow(bufs.b, nPan*kk*nr)
			packB(bufs.b, true, b, ldb, p0, kk, n)
		case fullCols < nPan:
			bufs.b = grow(bufs.b, kk*nr)
			packBEdge(bufs.b, b, ldb, p0, kk, fullCols*nr, n-fullCols*nr)
		}
		bAt := func(s int) (*float32, int) {
			switch {
			case transB:
				return &bufs.b[s*kk*nr], nr
			case s < fullCols:
				return &b[p0*ldb+s*nr], ldb
			default:
				return &bufs.b[0], nr
			}
		}
		aAt := func(i int) *float32 {
			if transA {
				return &a[p0*lda+i]
			}
			return &a[i*lda+p0]
		}
		for ib := 0; ib < fullRows; ib++ {
			i := ib * mr
			ap := aAt(i)
			for s := 0; s < fullCols; s++ {
				bp, brs := bAt(s)
				kernel.SgemmStrided6x16(kk, ap, ars, acs, bp, brs, &c[i*ldc+s*nr], ldc, add)
			}
			if fullCols < nPan { // right edge: packed sliver into the tile
				bp, brs := bAt(fullCols)
				kernel.SgemmStrided6x16(kk, ap, ars, acs, bp, brs, &bufs.tile[0], nr, 0)
				addTile(c, ldc, i, fullCols*nr, mr, n-fullCols*nr, &bufs.tile, add == 0)
			}
		}
		if fullRows*mr < m { // bottom edge: pack the last rows
			rows := m - fullRows*mr
			bufs.a = grow(bufs.a, kk*mr)
			packA(bufs.a, transA, a, lda, fullRows*mr, rows, p0, kk)
			for s := 0; s < nPan; s++ {
				bp, brs := bAt(s)
				kernel.SgemmStrided6x16(kk, &bufs.a[0], 1, mr, bp, brs, &bufs.tile[0], nr, 0)
				addTile(c, ldc, fullRows*mr, s*nr, rows, min(nr, n-s*nr), &bufs.tile, add == 0)
			}
		}
	}
}

// addTile adds (or, with set, copies) the top-left rows x cols of tile to
// C at (i, j).
func addTile(c []float32, ldc, i, j, rows, cols int, tile *[mr * nr]float32, set bool) {
	for r := 0; r < rows; r++ {
		cr := c[(i+r)*ldc+j : (i+r)*ldc+j+cols]
		if set {
			copy(cr, tile[r*nr:r*nr+cols])
			continue
		}
		for q, v := range tile[r*nr : r*nr+cols] {
			cr[q] += v
		}
	}
}

// packA packs rows i0 <= i < i0+mm and columns p0 <= p < p0+kk of op(A)
// into slivers of mr rows: sliver s holds, for each p, the mr values
// op(A)[i0+s*mr+r][p] (zero beyond the last row).
func packA(dst []float32, trans bool, a []float32, lda, i0, mm, p0, kk int) {
	mPan := (mm + mr - 1) / mr
	for s := 0; s < mPan; s++ {
		sl := dst[s*kk*mr : (s+1)*kk*mr]
		rows := min(mr, mm-s*mr)
		if rows < mr {
			clear(sl)
		}
		if trans {
			// op(A)[i][p] = A[p][i]: rows of A are contiguous in i.
			base := i0 + s*mr
			if rows == mr {
				for p := 0; p < kk; p++ {
					src := a[(p0+p)*lda+base : (p0+p)*lda+base+mr]
					d := sl[p*mr : p*mr+mr]
					d[0], d[1], d[2], d[3], d[4], d[5] = src[0], src[1], src[2], src[3], src[4], src[5]
				}
				continue
			}
			for p := 0; p < kk; p++ {
				row := (p0+p)*lda + base
				copy(sl[p*mr:p*mr+rows], a[row:row+rows])
			}
			continue
		}
		for r := 0; r < rows; r++ {
			i := i0 + s*mr + r
			for p, v := range a[i*lda+p0 : i*lda+p0+kk] {
				sl[p*mr+r] = v
			}
		}
	}
}

// packB packs rows p0 <= p < p0+kk of op(B) (n columns) into slivers of nr
// columns: sliver s holds, for each p, op(B)[p][s*nr .. s*nr+nr) (zero
// beyond the last column).
func packB(dst []float32, trans bool, b []float32, ldb, p0, kk, n int) {
	nPan := (n + nr - 1) / nr
	for s := 0; s < nPan; s++ {
		sl := dst[s*kk*nr : (s+1)*kk*nr]
		cols := min(nr, n-s*nr)
		if cols < nr {
			clear(sl)
		}
		if !trans {
			for p := 0; p < kk; p++ {
				row := (p0+p)*ldb + s*nr
				copy(sl[p*nr:p*nr+cols], b[row:row+cols])
			}
		} else {
			// op(B)[p][j] = B[j][p]
			for j := 0; j < cols; j++ {
				src := b[(s*nr+j)*ldb+p0 : (s*nr+j)*ldb+p0+kk]
				for p, v := range src {
					sl[p*nr+j] = v
				}
			}
		}
	}
}

// packBEdge packs rows p0 <= p < p0+kk, columns j0 <= j < j0+cols (cols <
// nr) of an untransposed B into one zero-padded sliver of nr columns.
func packBEdge(dst []float32, b []float32, ldb, p0, kk, j0, cols int) {
	clear(dst[:kk*nr])
	for p := 0; p < kk; p++ {
		row := (p0+p)*ldb + j0
		copy(dst[p*nr:p*nr+cols], b[row:row+cols])
	}
}
