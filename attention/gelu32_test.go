package attention

import (
	"math"
	"testing"
)

// TestGELU32ExtremeInputs: the vectorised float32 GELU stays finite and exact
// for large finite inputs. vek32's AVX2 exp returns Inf, NaN or huge negative
// numbers for arguments between about -104 and -88 (and some above 88), which
// GELU's exp(-x^2/2) reaches for 13.2 < |x| < 14.4; 13.300822 is the
// pre-activation that turned a value-head GELU output into +Inf (and the
// following LayerNorm row into NaN) in predator-prey seed 3 at iteration 162.
func TestGELU32ExtremeInputs(t *testing.T) {
	mags := []float32{13.1, 13.190906, 13.2, 13.25, 13.300822, 13.5, 13.8, 14, 14.142136, 14.3, 14.4, 15, 20, 100, 1e4, 1e19, 1e20, math.MaxFloat32}
	for _, m := range mags {
		for _, x := range []float32{m, -m} {
			// 37 copies: the SIMD body and the scalar tail both see x.
			n := 37
			xs := make([]float32, n)
			for i := range xs {
				xs[i] = x
			}
			y, dy := make([]float32, n), make([]float32, n)
			gelu32(y, dy, xs)
			ya, da, ones := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range ones {
				ones[i] = 1
			}
			activate(GELU, ya, xs)
			activateBackward(GELU, da, xs, ones)
			yw, dw := make([]float32, n), make([]float32, n)
			geluWithDeriv(yw, dw, xs)
			c, p := geluCDF(float64(x))
			wantY, wantD := float64(x)*c, c+float64(x)*p
			for i := range xs {
				for _, got := range []struct {
					what string
					v    float32
					want float64
				}{{"value", y[i], wantY}, {"derivative", dy[i], wantD}, {"activate", ya[i], wantY}, {"activateBackward", da[i], wantD}, {"geluWithDeriv value", yw[i], wantY}, {"geluWithDeriv derivative", dw[i], wantD}} {
					g := float64(got.v)
					if math.IsNaN(g) || math.IsInf(g, 0) || math.Abs(g-got.want) > 2e-6*math.Max(1, math.Abs(got.want)) {
						t.Fatalf("gelu32 %s at x=%v (element %d of %d) = %v, want %v", got.what, x, i, n, got.v, got.want)
					}
				}
			}
		}
	}
}
