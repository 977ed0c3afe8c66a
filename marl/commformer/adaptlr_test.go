package commformer

import (
	"bytes"
	"math"
	"testing"

	"github.com/commgraph/commgraph/marl/contract"
)

// lrTrace runs n iterations and returns the reported rate after each
// ("lr" absent = NaN) and the trainer.
func lrTrace(t *testing.T, cfg Config, seed uint64, n int) ([]float64, *Trainer) {
	t.Helper()
	tr, err := New(&signalEnv{Len: 3}, cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n)
	for i := range out {
		m := iterate(t, tr, 1)
		v, ok := m["lr"]
		if !ok {
			v = math.NaN()
		}
		out[i] = v
	}
	return out, tr
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Abs(b) }

// TestAdaptiveLR: with target_kl the model's rate falls by 1.5 after an
// update whose KL is above twice the target and rises by 1.5 below half of
// it, clamped to [lr_min, lr_max]; inside the band it stays; without
// target_kl it is constant and not reported.
func TestAdaptiveLR(t *testing.T) {
	base := tinyConfig()
	lr := base.LR

	off, tr := lrTrace(t, base, 3, 2)
	if !math.IsNaN(off[0]) || !math.IsNaN(off[1]) || tr.modelOpt.LR != lr {
		t.Fatalf("target_kl = 0: reported %v, rate %g (want none, %g)", off, tr.modelOpt.LR, lr)
	}

	down := base
	down.TargetKL, down.LRMin = 1e-15, lr/3 // every update's KL is far above it
	got, _ := lrTrace(t, down, 3, 3)
	for i, want := range []float64{lr / 1.5, lr / 2.25, lr / 3} {
		if !closeTo(got[i], want) {
			t.Fatalf("falling rate %v, want %g at iteration %d", got, want, i+1)
		}
	}

	up := base
	up.TargetKL, up.LRMax = 1e6, 2*lr // and far below this one
	got, _ = lrTrace(t, up, 3, 3)
	for i, want := range []float64{1.5 * lr, 2 * lr, 2 * lr} {
		if !closeTo(got[i], want) {
			t.Fatalf("rising rate %v, want %g at iteration %d", got, want, i+1)
		}
	}

	// A target that puts the first update's own KL (same seed, same first
	// update) anywhere inside [target/2, 2 target] leaves the rate where it was.
	ref, err := New(&signalEnv{Len: 3}, base, 3)
	if err != nil {
		t.Fatal(err)
	}
	kl := iterate(t, ref, 1)["approx_kl"]
	if !(kl > 0) {
		t.Fatalf("first update's KL %g", kl)
	}
	for _, f := range []float64{0.55, 1, 1.9} { // KL = f x target
		band := base
		band.TargetKL = kl / f
		got, _ = lrTrace(t, band, 3, 1)
		if got[0] != lr {
			t.Fatalf("KL at %g x the target: rate %g, want %g", f, got[0], lr)
		}
	}
}

// TestAdaptiveLRResume: the adapted rate is part of the checkpoint, so a
// run resumed after two iterations continues from it, bit for bit.
func TestAdaptiveLRResume(t *testing.T) {
	cfg := determinismConfig()
	cfg.TargetKL = 1e6 // the rate rises every iteration
	got, want, _ := resumedMetric(t, cfg, "lr")
	if got != want || !closeTo(want, cfg.LR*1.5*1.5*1.5) {
		t.Fatalf("resumed rate %g, uninterrupted %g, want %g", got, want, cfg.LR*1.5*1.5*1.5)
	}
}

// resumedMetric runs cfg (seed 21, signalEnv) for two iterations,
// checkpoints it, and runs a third both uninterrupted (want) and in a fresh
// trainer restored from the checkpoint (got), returning the metric key of
// the third iteration from each. The two trainers' states must then be
// byte-identical. ref is the uninterrupted trainer.
func resumedMetric(t *testing.T, cfg Config, key string) (got, want float64, ref *Trainer) {
	t.Helper()
	ref, err := New(&signalEnv{Len: 3}, cfg, 21)
	if err != nil {
		t.Fatal(err)
	}
	iterate(t, ref, 2)
	ck, err := contract.MarshalAlgorithm(ref)
	if err != nil {
		t.Fatal(err)
	}
	want = iterate(t, ref, 1)[key]
	res, err := New(&signalEnv{Len: 3}, cfg, 21)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.UnmarshalAlgorithm(res, ck); err != nil {
		t.Fatal(err)
	}
	got = iterate(t, res, 1)[key]
	s1, _ := contract.MarshalAlgorithm(ref)
	s2, _ := contract.MarshalAlgorithm(res)
	if !bytes.Equal(s1, s2) {
		t.Errorf("states differ after resume (%s %g against %g)", key, got, want)
	}
	return got, want, ref
}
