package commformer

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/synthetic"
)

func tinyRevisionEnv(t *testing.T, seed uint64) envs.Env {
	t.Helper()
	space := synthetic.MustNew(synthetic.Config{Values: []int{3, 3, 3, 3},
		Pairs: []synthetic.Pair{{A: 0, B: 1, S: 3}}, MainScale: 0.5, Seed: seed})
	obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	env, err := envs.NewRevisionEnv(space, envs.RevisionConfig{Objective: obj, Length: 1, Pinned: 0.5,
		ObsMetrics: []string{synthetic.MetricExpY}, Oracle: space.Oracle, AgentID: true})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestInfluence: the measured influence is zero where no message can flow
// (graph none; the diagonal), non-negative and finite elsewhere, and positive for some pair
// on a dense graph; measuring changes nothing (a second measurement is
// identical, and the next iteration equals that of a trainer that never
// measured).
func TestInfluence(t *testing.T) {
	ctx := context.Background()
	small := func(g comm.Variant) Config {
		c := tinyRecoveryConfig()
		c.Graph, c.Iterations, c.Epochs = g, 4, 2
		c.Warmup, c.AlphaStart, c.PostStable = 0, 0, false
		return c
	}
	for _, v := range []comm.Variant{comm.None, comm.Full, comm.Learned} {
		tr, err := New(tinyRevisionEnv(t, 1), small(v), 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Influence(); err == nil || !strings.Contains(err.Error(), "rollout") {
			t.Fatalf("%s: influence before any rollout: %v", v, err)
		}
		for range 2 {
			if _, err := tr.Iterate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		s, err := tr.Influence()
		if err != nil {
			t.Fatal(err)
		}
		again, err := tr.Influence()
		if err != nil {
			t.Fatal(err)
		}
		n := 4
		pos := 0
		for i := range n {
			for j := range n {
				x := s[i*n+j]
				if x != again[i*n+j] {
					t.Fatalf("%s: influence[%d][%d] %v then %v", v, i, j, x, again[i*n+j])
				}
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					t.Fatalf("%s: influence[%d][%d] = %v", v, i, j, x)
				}
				if (i == j || v == comm.None) && x != 0 {
					t.Fatalf("%s: influence[%d][%d] = %v where no message flows", v, i, j, x)
				}
				if x > 1e-6 {
					pos++
				}
			}
		}
		if v != comm.None && pos == 0 {
			t.Fatalf("%s: no sender influences any receiver: %v", v, s)
		}
		// The next iteration equals that of an unmeasured twin.
		twin, err := New(tinyRevisionEnv(t, 1), small(v), 1)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := twin.Iterate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		m1, err := tr.Iterate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := twin.Iterate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"episode_return", "loss_policy", "loss_value"} {
			if m1[k] != m2[k] {
				t.Fatalf("%s: %s %v after measuring, %v without", v, k, m1[k], m2[k])
			}
		}
	}
}

// TestInfluenceSource: with alpha_source = influence the warm-up graph is
// dense and unweighted, alpha is the log mean influence (unchanged by the
// updates between measurements, untouched by gradient), the exact graph
// follows it after the warm-up, and the keys are checked.
func TestInfluenceSource(t *testing.T) {
	c := tinyRecoveryConfig()
	c.AlphaSource, c.InfluenceEvery = "influence", 2
	c.Warmup, c.AlphaStart, c.Iterations, c.PostRatio, c.Epochs = 6, 2, 8, 0.75, 2
	tr, err := New(tinyRevisionEnv(t, 2), c, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var last []float64
	for it := 1; it <= c.Iterations; it++ {
		m, err := tr.Iterate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l := tr.Graph().Logits()
		measured := it > c.AlphaStart && it <= c.Warmup && (it-c.AlphaStart)%c.InfluenceEvery == 0
		if _, ok := m["influence_seconds"]; !ok {
			t.Fatalf("iteration %d: no influence_seconds metric", it)
		}
		if it <= c.AlphaStart {
			for _, v := range l {
				if v != l[0] {
					t.Fatalf("iteration %d: alpha moved before alpha_start: %v", it, l)
				}
			}
		}
		if last != nil && !measured {
			for i := range l {
				if l[i] != last[i] {
					t.Fatalf("iteration %d: alpha changed without a measurement", it)
				}
			}
		}
		if it < c.Warmup {
			for i, v := range tr.Adjacency() {
				if v != 1 {
					t.Fatalf("iteration %d: warm-up adjacency entry %d = %v, want 1", it, i, v)
				}
			}
		}
		last = l
	}
	if tr.trainMode() != comm.ModeFrozen {
		t.Fatal("graph not frozen at the end")
	}
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.AlphaSource = "magic" }, "alpha_source"},
		{func(c *Config) { c.AlphaSource, c.Graph = "influence", comm.Full }, "needs graph"},
		{func(c *Config) { c.AlphaSource, c.Warmup, c.AlphaStart = "influence", 5, 5 }, "warmup (5) > alpha_start (5)"},
		{func(c *Config) { c.InfluenceEvery = 0 }, "influence_every"},
	} {
		bad := tinyRecoveryConfig()
		tc.mut(&bad)
		if _, err := New(tinyRevisionEnv(t, 2), bad, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("config error %v, want one naming %q", err, tc.want)
		}
	}
}

// TestAlphaSymmetric: with alpha_symmetric the logits stay symmetric under
// both sources (and move: the test would pass vacuously on a constant
// alpha), so the exact graph's ranking of a pair does not depend on the
// direction.
func TestAlphaSymmetric(t *testing.T) {
	for _, src := range []string{"gradient", "influence", "payoff"} {
		c := tinyRecoveryConfig()
		c.AlphaSource, c.AlphaSymmetric, c.InfluenceEvery = src, true, 1
		c.Warmup, c.AlphaStart, c.Iterations, c.PostRatio, c.Epochs, c.AlphaEvery = 5, 1, 5, 1, 2, 1
		tr, err := New(tinyRevisionEnv(t, 3), c, 2)
		if err != nil {
			t.Fatal(err)
		}
		for range c.Iterations {
			if _, err := tr.Iterate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		l := tr.Graph().Logits()
		n, moved := 4, false
		for i := range n {
			for j := range n {
				if i != j && l[i*n+j] != l[j*n+i] {
					t.Fatalf("%s: alpha[%d][%d] = %v, alpha[%d][%d] = %v", src, i, j, l[i*n+j], j, i, l[j*n+i])
				}
				if i != j && l[i*n+j] != l[1] {
					moved = true
				}
			}
		}
		if !moved {
			t.Fatalf("%s: alpha did not move: %v", src, l)
		}
	}
}

// TestPairScores: a hand-computed 3 x 3 example. Row 0's off-diagonal mean
// is 1, row 1's is 2, row 2's is 0, so the centred entries are c01 = 1,
// c02 = -1, c10 = -1, c12 = 1, c20 = 3, c21 = -3 and the pair scores
// c01+c10 = 0, c02+c20 = 2, c12+c21 = -2; the diagonal is untouched.
func TestPairScores(t *testing.T) {
	a := []float64{
		9, 2, 0,
		1, 9, 3,
		3, -3, 9,
	}
	pairScores(a, 3)
	want := []float64{
		9, 0, 2,
		0, 9, -2,
		2, -2, 9,
	}
	for i := range a {
		if math.Abs(a[i]-want[i]) > 1e-12 {
			t.Fatalf("pairScores = %v, want %v", a, want)
		}
	}
}
