package loops32

// addRows4 sets y[r*ys+i] += x[r*xs+i] for r < rows, i < n: rows > 0, n > 0
// a multiple of 4, strides in elements (0 repeats a row).
//
//go:noescape
func addRows4(y, x *float32, n, rows, ys, xs int)

// colSums32 sets db[j] += gp[r*d+j] for r < rows, j < 32 (rows > 0).
//
//go:noescape
func colSums32(db, gp *float32, rows, d int)

// mul4 and add4 set dst[i] = a[i] op b[i] for i < n (n > 0, a multiple of 4).
//
//go:noescape
func mul4(dst, a, b *float32, n int)

//go:noescape
func add4(dst, a, b *float32, n int)
