package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/viterin/vek/vek32"
)

// layerNorm32Passes and layerNormBackward32Passes are the float32 layer norm
// as one vek pass per operation (the form before the fused passes).
func layerNorm32Passes(y, x, gain, bias []float32, d int, eps float64) {
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		mean := vek32.Sum(xr) / float32(d)
		copy(yr, xr)
		vek32.SubNumber_Inplace(yr, mean)
		v := vek32.Dot(yr, yr) / float32(d)
		rstd := float32(1 / math.Sqrt(float64(v)+eps))
		vek32.MulNumber_Inplace(yr, rstd)
		vek32.Mul_Inplace(yr, gain[:d])
		vek32.Add_Inplace(yr, bias[:d])
	}
}

func layerNormBackward32Passes(dx, dgain, dbias, x, gain, gy []float32, d int, eps float64) {
	clear(dgain)
	clear(dbias)
	xh, dxh, tmp := make([]float32, d), make([]float32, d), make([]float32, d)
	for r := 0; r < len(x); r += d {
		xr, gr, dxr := x[r:r+d], gy[r:r+d], dx[r:r+d]
		m, s := rowStats(xr, eps)
		mean, rstd := float32(m), float32(s)
		copy(xh, xr)
		vek32.SubNumber_Inplace(xh, mean)
		vek32.MulNumber_Inplace(xh, rstd)
		vek32.Mul_Into(tmp, gr, xh)
		vek32.Add_Inplace(dgain, tmp)
		vek32.Add_Inplace(dbias, gr)
		vek32.Mul_Into(dxh, gr, gain[:d])
		m1 := vek32.Sum(dxh) / float32(d)
		m2 := vek32.Dot(dxh, xh) / float32(d)
		copy(dxr, xh)
		vek32.MulNumber_Inplace(dxr, -m2)
		vek32.Add_Inplace(dxr, dxh)
		vek32.AddNumber_Inplace(dxr, -m1)
		vek32.MulNumber_Inplace(dxr, rstd)
	}
}

// TestLayerNorm32FusedMatchesPasses: the fused float32 layer norm, forward
// and backward, gives the bits of the one-pass-per-operation form, for
// widths with and without a tail of the 4-wide passes.
func TestLayerNorm32FusedMatchesPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 4))
	for _, d := range []int{1, 3, 8, 13, 64, 261} {
		const rows = 9
		r32 := func(n int, lo, hi float64) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(lo + (hi-lo)*rng.Float64())
			}
			return v
		}
		x, g, b, gy := r32(rows*d, -3, 5), r32(d, 0.5, 1.5), r32(d, -1, 1), r32(rows*d, -1, 1)
		y, yw := make([]float32, rows*d), make([]float32, rows*d)
		layerNorm32(y, x, g, b, d, LayerNormEps, nil, nil)
		layerNorm32Passes(yw, x, g, b, d, LayerNormEps)
		dx, dg, db := make([]float32, rows*d), make([]float32, d), make([]float32, d)
		dxw, dgw, dbw := make([]float32, rows*d), make([]float32, d), make([]float32, d)
		layerNormBackward32(dx, nil, dg, db, x, g, gy, d, LayerNormEps, nil, nil)
		layerNormBackward32Passes(dxw, dgw, dbw, x, g, gy, d, LayerNormEps)
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"y", y, yw}, {"dx", dx, dxw}, {"dgain", dg, dgw}, {"dbias", db, dbw}} {
			for i := range c.want {
				if math.Float32bits(c.got[i]) != math.Float32bits(c.want[i]) {
					t.Fatalf("d = %d: %s[%d] = %v, the one-pass-per-operation form gives %v", d, c.name, i, c.got[i], c.want[i])
				}
			}
		}
	}
}
