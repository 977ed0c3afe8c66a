package gemm

import (
	"sync"

	"github.com/commgraph/commgraph/attention/gemm/internal/kernel"
	"github.com/commgraph/commgraph/attention/internal/par"

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

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major matrices,
// on up to GOMAXPROCS goroutines (see SgemmN).
func (nb Native) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	nb.sgemm(0, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm is Sgemm on up to workers goroutines (0 = GOMAXPROCS).
func (Native) sgemm(workers int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	// Split C into blocks of whole micro-tile rows or, when C has few rows
	// (a weight gradient x^T dy: k = batch rows), of whole 16-column
	// slivers, one part each. Every element of C is computed by the same
	// sequence of operations however C is split (the same panels of the
	// inner dimension in the same order, the same micro-kernel on the same
	// values, edge tiles included), so the result does not depend on the
	// number of goroutines.
	w := par.Workers(workers)
	rowParts, colParts := min(w, m/(4*mr)), min(w, n/nr)
	if 2*m*n*k < parallelFlops || (rowParts < 2 && colParts < 2) {
		blockedSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, beta == 0)
		return
	}
	job := splitPool.Get().(*splitJob)
	*job = splitJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, overwrite: beta == 0}
	parts := rowParts
	if rowParts < 2 {
		job.cols, parts = true, colParts
	}
	par.Run(parts, job, &job.wg)
	*job = splitJob{}
	splitPool.Put(job)
}

// splitJob is one Sgemm split over row blocks or column blocks of C (a
// par.Task); pooled, so that a split call does not allocate.
type splitJob struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	overwrite      bool
	cols           bool // split the columns (else the rows)
	wg             sync.WaitGroup
}

var splitPool = sync.Pool{New: func() any { return new(splitJob) }}

// Part computes block p of n: whole micro-tile rows (or 16-column slivers),
// the last block taking the edge.
func (j *splitJob) Part(p, n int) {
	if j.cols {
		s0, s1 := par.Range(p, n, j.n/nr)
		c0, c1 := s0*nr, s1*nr
		if p == n-1 {
			c1 = j.n
		}
		var sb []float32
		if j.transB {
			sb = j.b[c0*j.ldb:]
		} else {
			sb = j.b[c0:]
		}
		blockedSgemm(j.transA, j.transB, j.m, c1-c0, j.k, j.alpha, j.a, j.lda, sb, j.ldb, j.c[c0:], j.ldc, j.overwrite)
		return
	}
	t0, t1 := par.Range(p, n, j.m/mr)
	r0, r1 := t0*mr, t1*mr
	if p == n-1 {
		r1 = j.m
	}
	var sa []float32
	if j.transA {
		sa = j.a[r0:]
	} else {
		sa = j.a[r0*j.lda:]
	}
	blockedSgemm(j.transA, j.transB, r1-r0, j.n, j.k, j.alpha, sa, j.lda, j.b, j.ldb, j.c[r0*j.ldc:], j.ldc, j.overwrite)
}

// parallelFlops is the size (2mnk) above which Sgemm splits the work
// across goroutines.
var parallelFlops = 4 << 20

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
