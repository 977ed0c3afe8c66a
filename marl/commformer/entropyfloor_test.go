package commformer

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl"
)

// coefTrace runs n iterations from a trainer whose raised bonus starts at
// raised and returns the entropy bonus each iteration trained with ("entropy_coef"
// absent = NaN), each update's mean entropy, and the trainer.
func coefTrace(t *testing.T, cfg Config, raised float64, n int) (coefs, ents []float64, tr *Trainer) {
	t.Helper()
	tr, err := New(&signalEnv{Len: 3}, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	tr.entRaised = raised
	for range n {
		m := iterate(t, tr, 1)
		v, ok := m["entropy_coef"]
		if !ok {
			v = math.NaN()
		}
		coefs = append(coefs, v)
		ents = append(ents, m["entropy"])
	}
	return coefs, ents, tr
}

func sameCoefs(got, want []float64) bool {
	return slices.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Abs(b) })
}

// TestEntropyFloor: with entropy_target the bonus rises by 1.5 after every
// update whose entropy is under the floor (from at least 0.001, up to
// entropy_coef_max), falls back by 1.5 towards the scheduled bonus above it
// and never below it; without entropy_target it is the schedule and is not
// reported. The floor's unit is the uniform policies' mean entropy
// (signalEnv: agents of 2 and 3 actions), reported as entropy_floor.
func TestEntropyFloor(t *testing.T) {
	base := tinyConfig()
	ec := base.EntropyCoef

	got, _, tr := coefTrace(t, base, 0, 2)
	if !math.IsNaN(got[0]) || !math.IsNaN(got[1]) || tr.entropyCoef() != ec {
		t.Fatalf("entropy_target = 0: reported %v, bonus %g (want none, %g)", got, tr.entropyCoef(), ec)
	}
	U := tr.uniformEntropy()
	if want := (math.Log(2) + math.Log(3)) / 2; math.Abs(U-want) > 1e-12 {
		t.Fatalf("uniform entropy %g, want %g", U, want)
	}

	// A floor just under the uniform entropy: every update is below it.
	up := base
	up.EntropyTarget, up.EntropyCoefMax = 0.999999, 3*ec
	got, ents, tu := coefTrace(t, up, 0, 5)
	if f := iterate(t, tu, 1)["entropy_floor"]; math.Abs(f-up.EntropyTarget*U) > 1e-12 {
		t.Fatalf("reported floor %g, want %g", f, up.EntropyTarget*U)
	}
	for _, h := range ents {
		if !(h < up.EntropyTarget*U) {
			t.Fatalf("entropy %g is not under the floor %g: the case does not test the rise", h, up.EntropyTarget*U)
		}
	}
	if want := []float64{ec, 1.5 * ec, 2.25 * ec, 3 * ec, 3 * ec}; !sameCoefs(got, want) {
		t.Fatalf("rising bonus %v, want %v", got, want)
	}

	// From a scheduled bonus of 0 the floor raises from 0.001.
	zero := up
	zero.EntropyCoef, zero.EntropyCoefMax = 0, 1
	got, _, _ = coefTrace(t, zero, 0, 3)
	if want := []float64{0, 1.5e-3, 2.25e-3}; !sameCoefs(got, want) {
		t.Fatalf("bonus rising from 0: %v, want %v", got, want)
	}

	// A floor far below: a raised bonus falls back by 1.5 until it is under
	// the schedule, which then rules again.
	down := base
	down.EntropyTarget = 1e-9
	got, _, _ = coefTrace(t, down, 5*ec, 6)
	if want := []float64{5 * ec, 5 * ec / 1.5, 5 * ec / 2.25, 5 * ec / 3.375, ec, ec}; !sameCoefs(got, want) {
		t.Fatalf("falling bonus %v, want %v", got, want)
	}

	// The floor is entropy_target x the uniform entropy: a first update just
	// above it leaves the bonus, just below it raises it (the first update is
	// the same in every case: it trains with the scheduled bonus).
	_, ents, _ = coefTrace(t, down, 0, 1)
	for _, c := range []struct {
		f    float64
		want float64
	}{{0.9999, ec}, {1.0001, 1.5 * ec}} {
		edge := base
		edge.EntropyTarget = c.f * ents[0] / U
		got, _, _ = coefTrace(t, edge, 0, 2)
		if math.Abs(got[1]-c.want) > 1e-12 {
			t.Fatalf("first entropy %g at 1/%g x the floor: second bonus %g, want %g", ents[0], c.f, got[1], c.want)
		}
	}

	// The raised bonus is the one the loss trains with.
	_, e0, _ := coefTrace(t, down, 0, 1)
	_, e1, _ := coefTrace(t, down, 100*ec, 1)
	if e0[0] == e1[0] {
		t.Fatalf("a 100x bonus left the update's entropy at %g", e0[0])
	}
}

// TestEntropyFloorResume: the raised bonus is checkpointed, so a run resumed
// after two iterations continues bit for bit; a checkpoint of a later
// iteration without it, or with a bad one, is refused with an error.
func TestEntropyFloorResume(t *testing.T) {
	cfg := determinismConfig()
	cfg.EntropyTarget, cfg.EntropyCoefMax = 0.999999, 1
	got, want, ref := resumedMetric(t, cfg, "entropy_coef")
	if got != want || math.Abs(want-cfg.EntropyCoef*2.25) > 1e-12 {
		t.Fatalf("resumed bonus %g, uninterrupted %g, want %g", got, want, cfg.EntropyCoef*2.25)
	}

	c, err := ref.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		blobs []marl.NamedBlob
		want  string
	}{
		{"no floor state", nil, "no entropy floor state"},
		{"short blob", []marl.NamedBlob{{Name: entropyBlob, Data: []byte{1, 2}}}, "has 2 bytes"},
		{"negative bonus", []marl.NamedBlob{{Name: entropyBlob, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(-1))}}, "finite bonus"},
		{"NaN bonus", []marl.NamedBlob{{Name: entropyBlob, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN()))}}, "finite bonus"},
	} {
		bad := *c
		bad.Blobs = tc.blobs
		fresh, err := New(&signalEnv{Len: 3}, cfg, 21)
		if err != nil {
			t.Fatal(err)
		}
		if err := fresh.Restore(&bad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Restore error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// forcingEnv is signalEnv with the speaker bound to action 0 in the second
// step of every episode (envs.ActionForcer), as the search form binds the
// knobs a child keeps.
type forcingEnv struct{ signalEnv }

func (e *forcingEnv) ForcedActions(dst []int) {
	dst[0], dst[1] = -1, -1
	if e.t%3 == 1 {
		dst[0] = 0
	}
}

func (e *forcingEnv) Clone() envs.Env {
	return &forcingEnv{*e.signalEnv.Clone().(*signalEnv)}
}

// TestEntropyFloorForcedAgents: an agent the environment binds to one action
// has entropy 0 in the loss, so the floor's unit counts it 0: the uniform
// entropy is the mean of ln(actions) over the rollout's entries with bound
// entries left at 0, exactly what the rollout's forced actions give.
func TestEntropyFloorForcedAgents(t *testing.T) {
	cfg := tinyConfig()
	cfg.EntropyTarget = 0.5
	tr, err := New(&forcingEnv{signalEnv{Len: 3}}, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	m := iterate(t, tr, 1)
	var sum float64
	bound := 0
	for k, a := range tr.forced {
		if k%2 == 0 && a >= 0 {
			bound++
			continue
		}
		sum += math.Log(float64([]int{2, 3}[k%2]))
	}
	if bound == 0 || bound == len(tr.forced)/2 {
		t.Fatalf("%d of %d speaker entries bound: the case does not test the unit", bound, len(tr.forced)/2)
	}
	want := 0.5 * sum / float64(len(tr.forced))
	if math.Abs(m["entropy_floor"]-want) > 1e-12 {
		t.Fatalf("floor %g, want %g (%d bound speaker entries)", m["entropy_floor"], want, bound)
	}
	if free := 0.5 * (math.Log(2) + math.Log(3)) / 2; !(want < free) {
		t.Fatalf("floor with bound entries %g not below the free one %g", want, free)
	}
}
