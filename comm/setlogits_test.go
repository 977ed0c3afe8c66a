package comm

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestUniformWarmupAndSetLogits: with UniformWarmup the warm-up graph is
// all ones whatever alpha holds (a measured alpha does not feed back into
// what is heard), while the exact graph is the top-k of the logits that
// SetLogits wrote; SetLogits refuses a wrong length, non-finite values and
// fixed variants.
func TestUniformWarmupAndSetLogits(t *testing.T) {
	const n = 4
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := mustGraph(t, dt, GraphConfig{N: n, Senders: 1, Tau: 1, Variant: Learned, Warmup: 5, UniformWarmup: true, Seed: 3})
		logits := []float64{
			0, 1, 5, 2,
			7, 0, 1, 3,
			1, 2, 0, 9,
			4, 8, 1, 0,
		}
		if err := g.SetLogits(logits); err != nil {
			t.Fatal(err)
		}
		got := g.Logits()
		for i, v := range logits {
			if got[i] != v {
				t.Fatalf("%v: logit %d = %v after SetLogits, want %v", dt, i, got[i], v)
			}
		}
		for i, v := range g.Matrix(ModeWarmup, nil) {
			if v != 1 {
				t.Fatalf("%v: uniform warm-up entry %d = %v, want 1", dt, i, v)
			}
		}
		want := []int{2, 0, 3, 1} // each row's largest off-diagonal logit
		ex := g.Exact()
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				w := 0.0
				if j == i || j == want[i] {
					w = 1
				}
				if ex[i*n+j] != w {
					t.Fatalf("%v: exact[%d][%d] = %v, want %v", dt, i, j, ex[i*n+j], w)
				}
			}
		}
		for _, bad := range []struct {
			v    []float64
			want string
		}{
			{make([]float64, n*n-1), "15 values"},
			{append(make([]float64, n*n-1), math.NaN()), "non-finite"},
			{append(make([]float64, n*n-1), math.Inf(1)), "non-finite"},
		} {
			if err := g.SetLogits(bad.v); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Fatalf("%v: SetLogits(%v) = %v, want an error with %q", dt, bad.v, err, bad.want)
			}
		}
	}
	fixed := mustGraph(t, tensor.Float64, GraphConfig{N: n, Variant: Full})
	if err := fixed.SetLogits(make([]float64, n*n)); err == nil {
		t.Fatal("SetLogits on a fixed variant succeeded")
	}
}
