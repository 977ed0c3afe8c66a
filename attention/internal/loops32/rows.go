package loops32

// Row-wise sums of the linear layer (attention/linear_kernel.go): adding the
// bias to every output row, and the bias gradient as the sum of the rows.
// Each output element gets the same float32 additions, in the same order
// (rows in increasing order), as the plain loops; the lanes run over the
// columns, which are independent sums.

// AddBias adds b to every row of y (rows of len(b); len(y) a multiple of
// it): y[r*d+j] += b[j].
func AddBias(y, b []float32) {
	d := len(b)
	if d == 0 {
		return
	}
	rows := len(y) / d
	addRows(y, b, d, rows, d, 0)
}

// AddColSums adds the sum of the rows of g (rows of len(db)) to db, row by
// row: db[j] += g[r*d+j] for r = 0, 1, ... (clear db first for the plain
// column sums).
func AddColSums(db, g []float32) {
	d := len(db)
	if d == 0 {
		return
	}
	rows := len(g) / d
	if rows <= 0 {
		return
	}
	g = g[:rows*d]
	// Blocks of 32 columns summed in registers over all rows, then the
	// remaining columns row by row.
	j := 0
	for ; j+32 <= d; j += 32 {
		colSums32(&db[j], &g[j], rows, d)
	}
	if j < d {
		addRows(db[j:], g[j:], d-j, rows, 0, d)
	}
}

// addRows sets y[r*ys+i] += x[r*xs+i] for r < rows, i < n.
func addRows(y, x []float32, n, rows, ys, xs int) {
	if rows <= 0 {
		return
	}
	// Bounds: the last row of each operand must fit.
	y = y[:(rows-1)*ys+n]
	x = x[:(rows-1)*xs+n]
	n4 := n &^ 3
	if n4 > 0 {
		addRows4(&y[0], &x[0], n4, rows, ys, xs)
	}
	if n4 == n {
		return
	}
	for r := 0; r < rows; r++ {
		yr, xr := y[r*ys:r*ys+n], x[r*xs:r*xs+n]
		for i := n4; i < n; i++ {
			yr[i] += xr[i]
		}
	}
}

// Mul sets dst[i] = a[i] * b[i] and Add dst[i] = a[i] + b[i] for
// i < len(dst) (dst may be a or b itself).
func Mul(dst, a, b []float32) { binary(dst, a, b, false) }

// Add: see Mul.
func Add(dst, a, b []float32) { binary(dst, a, b, true) }

func binary(dst, a, b []float32, add bool) {
	n := len(dst)
	a, b = a[:n], b[:n]
	n4 := n &^ 3
	if n4 > 0 {
		if add {
			add4(&dst[0], &a[0], &b[0], n4)
		} else {
			mul4(&dst[0], &a[0], &b[0], n4)
		}
	}
	for i := n4; i < n; i++ {
		if add {
			dst[i] = a[i] + b[i]
		} else {
			dst[i] = a[i] * b[i]
		}
	}
}
