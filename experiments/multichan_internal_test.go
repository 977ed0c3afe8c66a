package experiments

import (
	"slices"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/multichan"
)

// TestMultichanFreeWithinReachesEnv: env.multichan.free_within = "channel"
// gives the search form's environment one free group per channel; "any"
// (the default) none, so the study's runs are unchanged; free_law and
// cross_rate reach it too.
func TestMultichanFreeWithinReachesEnv(t *testing.T) {
	c := multichan.DefaultEnvConfig()
	c.Traces = []string{"stream", "random"}
	c.Form = "search"
	run := RunInfo{Seed: 1, MaxMemory: 1 << 32}
	p, err := buildMultichan(c, run)
	if err != nil {
		t.Fatal(err)
	}
	if p.Revision == nil || p.Revision.FreeGroups != nil {
		t.Fatalf("free_within any: revision %+v", p.Revision)
	}
	c.FreeWithin = "channel"
	if p, err = buildMultichan(c, run); err != nil {
		t.Fatal(err)
	}
	want := [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}}
	if !slices.EqualFunc(p.Revision.FreeGroups, want, slices.Equal) {
		t.Fatalf("free_within channel: groups %v, want %v", p.Revision.FreeGroups, want)
	}
	// Each number key: its default 0 reaches the env, then a set value.
	for _, k := range []struct {
		key string
		set func(*multichan.EnvConfig, float64)
		got func(*envs.RevisionConfig) float64
		val float64
	}{
		{"free_law", func(c *multichan.EnvConfig, v float64) { c.FreeLaw = v }, func(r *envs.RevisionConfig) float64 { return r.FreeLaw }, 1.5},
		{"cross_rate", func(c *multichan.EnvConfig, v float64) { c.CrossRate = v }, func(r *envs.RevisionConfig) float64 { return r.CrossRate }, 0.5},
	} {
		if got := k.got(p.Revision); got != 0 {
			t.Fatalf("%s default: %v, want 0", k.key, got)
		}
		c2 := c
		k.set(&c2, k.val)
		p2, err := buildMultichan(c2, run)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.got(p2.Revision); got != k.val {
			t.Fatalf("%s %v reached the env as %v", k.key, k.val, got)
		}
	}
}
