package loops32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowSumsMatchGoLoops: AddBias and AddColSums give the bits of the
// plain loops of the linear layer (y[r*d+j] += b[j]; db[j] += g[r*d+j] row
// by row), for widths with and without a tail, one and several rows,
// misaligned slices, and signed zeros and infinities among the values.
func TestRowSumsMatchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40, 3e38, -3e38}
	vec := func(n int) []float32 {
		v := randVec(r, n+1)[1:] // misaligned by one element
		for i := range v {
			if r.IntN(10) == 0 {
				v[i] = special[r.IntN(len(special))]
			}
		}
		return v
	}
	for _, d := range []int{1, 3, 4, 5, 8, 13, 16, 63, 64, 65, 128} {
		for _, rows := range []int{1, 2, 7, 100} {
			b, y := vec(d), vec(rows*d)
			want := append([]float32(nil), y...)
			for row := 0; row < rows; row++ {
				for j := range b {
					want[row*d+j] += b[j]
				}
			}
			got := append([]float32(nil), y...)
			AddBias(got, b)
			sameOrNaN(t, "AddBias", d, got, want)

			db, g := vec(d), vec(rows*d)
			want = append([]float32(nil), db...)
			for row := 0; row < rows; row++ {
				for j, v := range g[row*d : (row+1)*d] {
					want[j] += v
				}
			}
			got = append([]float32(nil), db...)
			AddColSums(got, g)
			sameOrNaN(t, "AddColSums", d, got, want)
		}
	}
}

// TestMulAddMatchGoLoops: Mul and Add give the bits of dst[i] = a[i] op
// b[i], misaligned, with and without a tail, and with dst aliasing a or b.
func TestMulAddMatchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	for _, n := range []int{1, 3, 4, 7, 8, 12, 64, 65, 1001} {
		a, b := randVec(r, n+1)[1:], randVec(r, n+3)[3:]
		for _, add := range []bool{false, true} {
			want := make([]float32, n)
			for i := range want {
				if add {
					want[i] = a[i] + b[i]
				} else {
					want[i] = a[i] * b[i]
				}
			}
			f, what := Mul, "Mul"
			if add {
				f, what = Add, "Add"
			}
			got := make([]float32, n+2)[2:]
			f(got, a, b)
			sameOrNaN(t, what, n, got, want)
			ca, cb := append([]float32(nil), a...), append([]float32(nil), b...)
			f(ca, ca, b)
			sameOrNaN(t, what+" (dst == a)", n, ca, want)
			f(cb, a, cb)
			sameOrNaN(t, what+" (dst == b)", n, cb, want)
		}
	}
}

// sameOrNaN is same, with any NaN equal to any NaN (inf - inf: the payload
// is not part of the contract).
func sameOrNaN(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != g && w != w {
			continue
		}
		if math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s, d = %d: element %d = %v, the Go loop gives %v", what, n, i, g, w)
		}
	}
}

func BenchmarkAddColSums64(b *testing.B) {
	g := make([]float32, 4096*64)
	db := make([]float32, 64)
	for i := 0; i < b.N; i++ {
		AddColSums(db, g)
	}
}

func BenchmarkAddColSumsGo64(b *testing.B) {
	g := make([]float32, 4096*64)
	db := make([]float32, 64)
	for i := 0; i < b.N; i++ {
		for r := 0; r < len(g); r += 64 {
			for j, v := range g[r : r+64] {
				db[j] += v
			}
		}
	}
}
