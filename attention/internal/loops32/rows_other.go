//go:build !amd64

package loops32

func addRows4(y, x *float32, n, rows, ys, xs int) {
	for r := 0; r < rows; r++ {
		for i := 0; i < n; i++ {
			*at(y, r*ys+i) += *at(x, r*xs+i)
		}
	}
}

func colSums32(db, g *float32, rows, d int) {
	for r := 0; r < rows; r++ {
		for j := 0; j < 32; j++ {
			*at(db, j) += *at(g, r*d+j)
		}
	}
}

func mul4(dst, a, b *float32, n int) {
	for i := 0; i < n; i++ {
		*at(dst, i) = *at(a, i) * *at(b, i)
	}
}

func add4(dst, a, b *float32, n int) {
	for i := 0; i < n; i++ {
		*at(dst, i) = *at(a, i) + *at(b, i)
	}
}
