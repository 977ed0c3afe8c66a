package attention

import (
	"math"

	"github.com/commgraph/commgraph/attention/internal/loops32"
	"github.com/viterin/vek/vek32"
)

// Float32 layer norm, row by row: the row sums through vek's AVX2 kernels,
// the element-wise work in fused passes (attention/internal/loops32); the
// same arithmetic as layerNorm / layerNormBackward except that the row sums
// are accumulated in float32 (rows are at most a few hundred wide).

func layerNorm32(y, x, gain, bias []float32, d int, eps float64, means, rstds []float64) {
	gain, bias = gain[:d], bias[:d]
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		mean := vek32.Sum(xr) / float32(d)
		loops32.SubScalar(yr, xr, mean)
		v := vek32.Dot(yr, yr) / float32(d)
		rstd := float32(1 / math.Sqrt(float64(v)+eps))
		if means != nil {
			means[r/d], rstds[r/d] = float64(mean), float64(rstd)
		}
		loops32.ScaleMulAdd(yr, rstd, gain, bias)
	}
}

// layerNormBackward32 also copies each row of dx into dx2 when dx2 is not
// nil (the second input gradient of AddLayerNorm).
func layerNormBackward32(dx, dx2, dgain, dbias, x, gain, gy []float32, d int, eps float64, means, rstds []float64) {
	clear(dgain)
	clear(dbias)
	gain = gain[:d]
	xh := make([]float32, d)
	dxh := make([]float32, d)
	for r := 0; r < len(x); r += d {
		xr, gr, dxr := x[r:r+d], gy[r:r+d], dx[r:r+d]
		var mean, rstd float32
		if means != nil {
			mean, rstd = float32(means[r/d]), float32(rstds[r/d])
		} else {
			m, s := rowStats(xr, eps)
			mean, rstd = float32(m), float32(s)
		}
		loops32.LNBackRow(xh, dxh, dgain, dbias, xr, gr, gain, mean, rstd)
		m1 := vek32.Sum(dxh) / float32(d)
		m2 := vek32.Dot(dxh, xh) / float32(d)
		// dx = rstd (dxh - m1 - xh m2)
		loops32.LNBackDx(dxr, xh, dxh, -m2, -m1, rstd)
		if dx2 != nil {
			copy(dx2[r:r+d], dxr)
		}
	}
}
