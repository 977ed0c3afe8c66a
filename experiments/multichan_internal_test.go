package experiments

import (
	"slices"
	"testing"

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
	if p.Revision.FreeLaw != 0 {
		t.Fatalf("free_law default: %v, want 0", p.Revision.FreeLaw)
	}
	c.FreeLaw = 1.5
	if p, err = buildMultichan(c, run); err != nil {
		t.Fatal(err)
	}
	if p.Revision.FreeLaw != 1.5 {
		t.Fatalf("free_law 1.5 reached the env as %v", p.Revision.FreeLaw)
	}
	if p.Revision.CrossRate != 0 {
		t.Fatalf("cross_rate default: %v, want 0", p.Revision.CrossRate)
	}
	c.CrossRate = 0.5
	if p, err = buildMultichan(c, run); err != nil {
		t.Fatal(err)
	}
	if p.Revision.CrossRate != 0.5 {
		t.Fatalf("cross_rate 0.5 reached the env as %v", p.Revision.CrossRate)
	}
}
