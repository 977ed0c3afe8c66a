package loops32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The reference forms are the plain loops the routines replace; the
// explicit float32 conversions keep a compiler from fusing a product and a
// sum into one FMA (the Go spec allows that only without them).

func refDot(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float32(a[i] * b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func refDotRel(q, ra, k, rb []float32) float32 {
	var s [4]float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		for m := 0; m < 4; m++ {
			s[m] += float32((q[i+m] + ra[i+m]) * (k[i+m] + rb[i+m]))
		}
	}
	for ; i < len(q); i++ {
		s[0] += float32((q[i] + ra[i]) * (k[i] + rb[i]))
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch r.IntN(20) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = float32(r.NormFloat64() * 1e-30) // tiny: subnormal products
		default:
			v[i] = float32(r.NormFloat64() * math.Exp(4*r.Float64()-2))
		}
	}
	return v
}

func same(t *testing.T, what string, n int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s, n = %d: element %d = %v, the Go loop gives %v", what, n, i, got[i], want[i])
		}
	}
}

// TestMatchGoLoops: every routine gives the Go loop's bits, for lengths
// with and without a tail and offsets that misalign the SSE loads, on the
// eight-lane (AVX) forms where the machine has them and on the four-lane
// forms.
func TestMatchGoLoops(t *testing.T) {
	orig := useAVX
	defer func() { useAVX = orig }()
	for _, avx := range []bool{orig, false} {
		useAVX = avx
		matchGoLoops(t)
	}
}

func matchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9))
	for _, n := range []int{1, 3, 4, 5, 8, 12, 15, 16, 17, 20, 63, 64, 65, 128, 261} {
		for rep := 0; rep < 20; rep++ {
			off := r.IntN(4)
			vec := func() []float32 { return randVec(r, n+off)[off:] }
			a, b, c, d := vec(), vec(), vec(), vec()
			same(t, "Dot", n, []float32{Dot(a, b)}, []float32{refDot(a, b)})
			same(t, "DotRel", n, []float32{DotRel(a, b, c, d)}, []float32{refDotRel(a, b, c, d)})

			s := float32(r.NormFloat64())
			y, wy := vec(), []float32(nil)
			wy = append(wy, y...)
			Axpy(s, a, y)
			for i := range wy {
				wy[i] += float32(s * a[i])
			}
			same(t, "Axpy", n, y, wy)

			dq, dk, dra, drb := vec(), vec(), vec(), vec()
			want := [][]float32{append([]float32(nil), dq...), append([]float32(nil), dk...), append([]float32(nil), dra...), append([]float32(nil), drb...)}
			RelGrad(s, a, b, c, d, dq, dk, dra, drb)
			for i := 0; i < n; i++ {
				kb := float32(s * (c[i] + d[i]))
				qa := float32(s * (a[i] + b[i]))
				want[0][i] += kb
				want[2][i] += kb
				want[1][i] += qa
				want[3][i] += qa
			}
			same(t, "RelGrad dq", n, dq, want[0])
			same(t, "RelGrad dk", n, dk, want[1])
			same(t, "RelGrad dra", n, dra, want[2])
			same(t, "RelGrad drb", n, drb, want[3])

			// The two halves of RelGradPair give RelGrad's bits.
			px, py, pz, pw := append([]float32(nil), want[0]...), append([]float32(nil), want[1]...), append([]float32(nil), want[2]...), append([]float32(nil), want[3]...)
			RelGrad(s, a, b, c, d, want[0], want[1], want[2], want[3])
			RelGradPair(s, a, b, c, d, px, py)
			RelGradPair(s, a, b, c, d, pz, pw)
			same(t, "RelGradPair dq", n, px, want[0])
			same(t, "RelGradPair dk", n, py, want[1])
			same(t, "RelGradPair dra", n, pz, want[2])
			same(t, "RelGradPair drb", n, pw, want[3])
		}
	}
}

func BenchmarkDot64(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := randVec(r, 64), randVec(r, 64)
	var s float32
	for i := 0; i < b.N; i++ {
		s += Dot(x, y)
	}
	_ = s
}

func BenchmarkDotGo64(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y := randVec(r, 64), randVec(r, 64)
	var s float32
	for i := 0; i < b.N; i++ {
		s += refDot(x, y)
	}
	_ = s
}

// TestLayerNormPassesMatchGoLoops: the fused layer-norm passes give the
// bits of their Go loops.
func TestLayerNormPassesMatchGoLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2))
	for _, n := range []int{1, 3, 4, 7, 64, 65, 261} {
		for rep := 0; rep < 20; rep++ {
			off := r.IntN(4)
			vec := func() []float32 { return randVec(r, n+off)[off:] }
			x, g, b := vec(), vec(), vec()
			c, s := float32(r.NormFloat64()), float32(r.NormFloat64())
			y, wy := make([]float32, n), make([]float32, n)
			SubScalar(y, x, c)
			for i := range wy {
				wy[i] = x[i] - c
			}
			same(t, "SubScalar", n, y, wy)
			ScaleMulAdd(y, s, g, b)
			for i := range wy {
				wy[i] = float32(float32(wy[i]*s)*g[i]) + b[i]
			}
			same(t, "ScaleMulAdd", n, y, wy)

			gy, gain := vec(), vec()
			dgain, dbias := vec(), vec()
			wdg, wdb := append([]float32(nil), dgain...), append([]float32(nil), dbias...)
			xh, dxh := make([]float32, n), make([]float32, n)
			LNBackRow(xh, dxh, dgain, dbias, x, gy, gain, c, s)
			wxh, wdxh := make([]float32, n), make([]float32, n)
			for i := 0; i < n; i++ {
				h := float32(x[i]-c) * s
				wxh[i] = h
				wdg[i] += float32(gy[i] * h)
				wdb[i] += gy[i]
				wdxh[i] = gy[i] * gain[i]
			}
			same(t, "LNBackRow xh", n, xh, wxh)
			same(t, "LNBackRow dxh", n, dxh, wdxh)
			same(t, "LNBackRow dgain", n, dgain, wdg)
			same(t, "LNBackRow dbias", n, dbias, wdb)

			// LNRowParts + LNGainBias = LNBackRow, bit for bit.
			pxh, pdxh := make([]float32, n), make([]float32, n)
			pdg, pdb := append([]float32(nil), wdg...), append([]float32(nil), wdb...)
			LNBackRow(xh, dxh, dgain, dbias, x, gy, gain, c, s)
			LNRowParts(pxh, pdxh, x, gy, gain, c, s)
			LNGainBias(pdg, pdb, x, gy, c, s)
			same(t, "LNRowParts xh", n, pxh, xh)
			same(t, "LNRowParts dxh", n, pdxh, dxh)
			same(t, "LNGainBias dgain", n, pdg, dgain)
			same(t, "LNGainBias dbias", n, pdb, dbias)

			m1, m2 := float32(r.NormFloat64()), float32(r.NormFloat64())
			dx, wdx := make([]float32, n), make([]float32, n)
			LNBackDx(dx, xh, dxh, m2, m1, s)
			for i := range wdx {
				wdx[i] = float32(float32(float32(xh[i]*m2)+dxh[i])+m1) * s
			}
			same(t, "LNBackDx", n, dx, wdx)
		}
	}
}

// TestGELUSelectMatchesGoLoop: the four-lane GELU selection gives the bits
// of the scalar Go form on random inputs and on special ones (signed
// zeros, infinities, NaN, values at and around the tail cut).
func TestGELUSelectMatchesGoLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	const cut = float32(13.190906)
	cutBits := math.Float32bits(cut)
	special := []float32{0, float32(math.Copysign(0, -1)), cut, -cut, math.Nextafter32(cut, 20), -math.Nextafter32(cut, 20),
		math.Nextafter32(cut, 0), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40, 100, -100}
	c := float32(0.39894228040143267794)
	for _, n := range []int{1, 3, 4, 14, 64, 257} {
		for rep := 0; rep < 20; rep++ {
			x := make([]float32, n)
			for i := range x {
				if r.IntN(4) == 0 {
					x[i] = special[r.IntN(len(special))]
				} else {
					x[i] = float32(r.NormFloat64() * 4)
				}
			}
			u, e := randVec(r, n), randVec(r, n)
			y, dy := make([]float32, n), make([]float32, n)
			GELUSelect(y, dy, x, u, e, cutBits, c)
			wy, wdy := make([]float32, n), make([]float32, n)
			for i := range x {
				wy[i], wdy[i] = geluSelect1(x[i], u[i], e[i], cutBits, c)
			}
			same(t, "GELUSelect y", n, y, wy)
			same(t, "GELUSelect dy", n, dy, wdy)
		}
	}
}
