package commformer

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/marl/contract"
)

// TestInteractionFKnownTables checks interactionF against tables whose
// answer is known: a purely additive table has F = 0 (no interaction left
// after the fit, even when unbalanced), a pure interaction has F equal to
// the closed form of the balanced two-way ANOVA, and tables without
// evidence score fTiny.
func TestInteractionFKnownTables(t *testing.T) {
	// table builds an R x C table whose cell (a, b) holds the values vals(a, b).
	table := func(R, C int, vals func(a, b int) []float64) []float64 {
		cells := make([]float64, 3*R*C)
		for a := range R {
			for b := range C {
				for _, v := range vals(a, b) {
					k := 3 * (a*C + b)
					cells[k]++
					cells[k+1] += v
					cells[k+2] += v * v
				}
			}
		}
		return cells
	}
	// Additive, unbalanced counts, with within-cell noise: no interaction.
	add := table(3, 4, func(a, b int) []float64 {
		base := 2*float64(a) - 0.5*float64(b)
		out := []float64{base - 1, base + 1}
		for range a * b { // unbalanced: more samples in later cells
			out = append(out, base)
		}
		return out
	})
	if f := interactionF(add, 3, 4); f > 1e-9 {
		t.Errorf("additive table: F = %g, want 0", f)
	}
	// Pure interaction, balanced: cell means +-1 in a checkerboard, each cell
	// {mu-1, mu+1}. Interaction SS = sum n (mean)^2 = 4 cells * 2 * 1 = 8 on
	// 1 df; within SS = 4 cells * 2 = 8 on 4 df: F = 8 / (8/4) = 4.
	checker := table(2, 2, func(a, b int) []float64 {
		mu := 1.0
		if a != b {
			mu = -1
		}
		return []float64{mu - 1, mu + 1}
	})
	if f := interactionF(checker, 2, 2); math.Abs(f-4) > 1e-9 {
		t.Errorf("checkerboard: F = %g, want 4", f)
	}
	// One sample per cell: no within degrees of freedom.
	one := table(2, 2, func(a, b int) []float64 { return []float64{float64(a * b)} })
	if f := interactionF(one, 2, 2); f != fTiny {
		t.Errorf("one sample per cell: F = %g, want fTiny", f)
	}
	// A single column: no interaction degrees of freedom.
	col := table(3, 1, func(a, b int) []float64 { return []float64{0, 1} })
	if f := interactionF(col, 3, 1); f != fTiny {
		t.Errorf("one column: F = %g, want fTiny", f)
	}
}

// TestPayoffRanksPlantedPartner feeds payoffStats random actions on a
// 6-agent task whose agent-0 and agent-3 rewards carry a pair term of their
// two actions, plus main effects and noise everywhere: the log F of the
// planted directions must rank first in rows 0 and 3, forced samples must be
// skipped as receivers, and the checkpoint bytes must round-trip.
func TestPayoffRanksPlantedPartner(t *testing.T) {
	const n, S = 6, 4000
	acts := []int{4, 4, 4, 3, 4, 2}
	p := newPayoffStats(acts)
	r := rand.New(rand.NewPCG(1, 2))
	actions := make([]int32, S*n)
	rewards := make([]float32, S*n)
	forced := make([]int32, S*n)
	for s := range S {
		a := actions[s*n : (s+1)*n]
		for i := range n {
			a[i] = int32(r.IntN(acts[i]))
			forced[s*n+i] = -1
		}
		for i := range n {
			v := 0.5*float64(a[i]) + r.NormFloat64()
			if i == 0 || i == 3 {
				// pair term: +1 when the two agree modulo 2, -1 otherwise
				if (a[0]+a[3])%2 == 0 {
					v++
				} else {
					v--
				}
			}
			rewards[s*n+i] = float32(v)
		}
		if s%2 == 0 { // agent 4 is pinned in half the samples, with a huge reward there
			forced[s*n+4] = a[4]
			rewards[s*n+4] = 1e6 * float32(a[1])
		}
	}
	p.add(actions, rewards, forced)
	lf := make([]float64, n*n)
	p.logF(lf)
	best := func(i int) int {
		bj := -1
		for j := range n {
			if j != i && (bj < 0 || lf[i*n+j] > lf[i*n+bj]) {
				bj = j
			}
		}
		return bj
	}
	if b0, b3 := best(0), best(3); b0 != 3 || b3 != 0 {
		t.Fatalf("best senders: row 0 -> %d, row 3 -> %d, want 3 and 0 (log F %v)", b0, b3, lf)
	}
	// Row 4's forced samples (where its reward is a function of agent 1's
	// action) are skipped: agent 1 must not stand out in row 4.
	if lf[4*n+1] > math.Log(10) {
		t.Errorf("row 4, sender 1: log F = %g; the forced samples were counted", lf[4*n+1])
	}
	// Unrelated pairs stay near F = 1.
	if lf[1*n+2] > math.Log(10) || lf[0*n+3] < math.Log(100) {
		t.Errorf("log F: unrelated pair %g, planted pair %g", lf[1*n+2], lf[0*n+3])
	}
	q := newPayoffStats(acts)
	if err := q.unmarshal(p.marshal()); err != nil {
		t.Fatal(err)
	}
	for k := range p.cell {
		if p.cell[k] != q.cell[k] {
			t.Fatalf("cell %d: %g after the round trip, want %g", k, q.cell[k], p.cell[k])
		}
	}
	if err := newPayoffStats([]int{4, 4}).unmarshal(p.marshal()); err == nil {
		t.Error("statistics of another task loaded without an error")
	}
}

// TestPayoffSource runs alpha_source = payoff on the tiny revision task: the
// logits stay at their start before alpha_start, change with every rollout
// folded in up to the end of the warm-up and not after it, the warm-up
// graph is dense and unweighted, a run resumed from a mid-warm-up
// checkpoint ends with the same logits and parameters bit for bit (the pair
// tables travel in the checkpoint), a checkpoint without the tables is
// refused once they would be needed, and the config is checked.
func TestPayoffSource(t *testing.T) {
	c := tinyRecoveryConfig()
	c.AlphaSource, c.AlphaSymmetric = "payoff", true
	c.Warmup, c.AlphaStart, c.Iterations, c.PostRatio, c.Epochs = 6, 2, 9, 6.0/9, 2
	ctx := context.Background()
	tr, err := New(tinyRevisionEnv(t, 2), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	var last []float64
	var ck []byte
	for it := 1; it <= c.Iterations; it++ {
		if _, err := tr.Iterate(ctx); err != nil {
			t.Fatal(err)
		}
		l := tr.Graph().Logits()
		measured := it > c.AlphaStart && it <= c.Warmup
		if last != nil && measured == slices.Equal(l, last) {
			t.Fatalf("iteration %d: logits changed %v, want %v", it, !measured, measured)
		}
		if it < c.Warmup {
			for i, v := range tr.Adjacency() {
				if v != 1 {
					t.Fatalf("iteration %d: warm-up adjacency entry %d = %v, want 1", it, i, v)
				}
			}
		}
		if it == 4 {
			cp, err := tr.Checkpoint()
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := cp.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			ck = buf.Bytes()
		}
		last = l
	}
	if tr.trainMode() != comm.ModeFrozen {
		t.Fatal("graph not frozen at the end")
	}
	res, err := New(tinyRevisionEnv(t, 2), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.UnmarshalAlgorithm(res, ck); err != nil {
		t.Fatal(err)
	}
	for res.Iteration() < c.Iterations {
		if _, err := res.Iterate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(res.Graph().Logits(), tr.Graph().Logits()) || !sameBits(paramValues(res), paramValues(tr)) {
		t.Fatal("the run resumed at iteration 4 differs from the uninterrupted one")
	}
	// Without the tables the resumed run would score only the rollouts after
	// the checkpoint: refused.
	cp, err := contract.DecodeCheckpoint(bytes.NewReader(ck))
	if err != nil {
		t.Fatal(err)
	}
	cp.Blobs = nil
	fresh, err := New(tinyRevisionEnv(t, 2), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Restore(cp); err == nil || !strings.Contains(err.Error(), "no payoff statistics") {
		t.Fatalf("restore without the pair tables: %v", err)
	}
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.AlphaSource, c.Graph = "payoff", comm.Full }, "needs graph"},
		{func(c *Config) { c.AlphaSource, c.Warmup, c.AlphaStart = "payoff", 5, 5 }, "warmup (5) > alpha_start (5)"},
	} {
		bad := tinyRecoveryConfig()
		tc.mut(&bad)
		if _, err := New(tinyRevisionEnv(t, 2), bad, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("config error %v, want one naming %q", err, tc.want)
		}
	}
}
