package synthetic_test

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
	"github.com/commgraph/commgraph/envs/synthetic"
)

// minExpY is the objective of these tests: minimise the synthetic space's
// exp(y) metric.
func minExpY(t *testing.T, ds envs.DesignSpace) *envs.Objective {
	t.Helper()
	obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(ds.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func searchEnv(t *testing.T, ds envs.DesignSpace, elite, free int) *envs.RevisionEnv {
	t.Helper()
	return searchEnvGen(t, ds, elite, free, 0, 0)
}

func searchEnvGen(t *testing.T, ds envs.DesignSpace, elite, free, firstGen int, seed uint64) *envs.RevisionEnv {
	t.Helper()
	obj := minExpY(t, ds)
	e, err := envs.NewRevisionEnv(ds, envs.RevisionConfig{Objective: obj, Length: 1, ObsMetrics: []string{synthetic.MetricExpY},
		Start: "elite", Elite: elite, Free: free, FirstGen: firstGen, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// freeKnobs is the number of knobs the current episode of e may change.
func freeKnobs(e *envs.RevisionEnv) int {
	n := 0
	for _, p := range e.Pinned() {
		if p < 0 {
			n++
		}
	}
	return n
}

func buffers(e envs.Env) ([][]float32, []float32) {
	spec := e.Spec()
	obs := make([][]float32, len(spec.Agents))
	for i, a := range spec.Agents {
		obs[i] = make([]float32, a.ObsSize)
	}
	return obs, make([]float32, len(spec.Agents))
}

// TestSearchForm: episodes of the search form start from uniformly drawn
// designs until elite evaluations are placed, then from one of the elite best
// placed designs (never from a design not yet placed, whatever was
// evaluated since); all knobs but free are pinned at the parent's values;
// the reward is the child's score minus the parent's; a counted space
// restored from the records gives the same parents.
func TestSearchForm(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 3)
	s := synthetic.MustNew(c)
	counted := envs.NewCounted(s)
	e := searchEnv(t, counted, 3, 2)
	obs, rew := buffers(e)
	ref := make([]int, 8)
	// While fewer than elite designs are placed (here only the reference, by
	// Records), parents are drawn uniformly and no knob is pinned: the random
	// first generation (first_gen 0).
	counted.Records()
	starts := map[string]bool{}
	for ep := uint64(0); ep < 20; ep++ {
		e.Reset(ep, obs)
		starts[fmt.Sprint(e.Design())] = true
		for i, p := range e.Pinned() {
			if p >= 0 {
				t.Fatalf("first generation, episode %d: knob %d pinned", ep, i)
			}
		}
	}
	if len(starts) < 15 {
		t.Fatalf("first generation: %d distinct parents in 20 episodes, want random ones", len(starts))
	}
	// With first_gen 3: parents from 3 uniform designs drawn once from the
	// seed, with free knobs free as later; the same seed draws the same
	// first generation, another seed another.
	gen := func(firstGen int, seed uint64) map[string]bool {
		eg := searchEnvGen(t, envs.NewCounted(s), 3, 2, firstGen, seed)
		got := map[string]bool{}
		for ep := uint64(0); ep < 20; ep++ {
			eg.Reset(ep, obs)
			got[fmt.Sprint(eg.Design())] = true
			nFree := 0
			for i, p := range eg.Pinned() {
				if p < 0 {
					nFree++
				} else if p != eg.Design()[i] {
					t.Fatalf("first_gen %d, episode %d: knob %d pinned at %d, parent has %d", firstGen, ep, i, p, eg.Design()[i])
				}
			}
			if nFree != 2 {
				t.Fatalf("first_gen %d, episode %d: %d free knobs, want 2", firstGen, ep, nFree)
			}
		}
		return got
	}
	g0 := gen(3, 0)
	if len(g0) < 2 || len(g0) > 3 {
		t.Fatalf("first_gen 3: %d distinct parents in 20 episodes, want the 3 of the first generation (2 or 3 when two coincide)", len(g0))
	}
	key := func(m map[string]bool) string { return fmt.Sprint(slices.Sorted(maps.Keys(m))) }
	if g := gen(3, 0); key(g) != key(g0) {
		t.Fatalf("first_gen 3, seed 0 again: %v, want %v", g, g0)
	}
	if g := gen(3, 99); key(g) == key(g0) {
		t.Fatalf("first_gen 3, seed 99: %v, the same as seed 0's", g)
	}
	// Evaluate up to 40 designs and place them (as a Tracker's read does).
	m := make([]float64, 3)
	want := maps.Clone(starts)
	want[fmt.Sprint(ref)] = true
	for i := range 40 {
		d := make([]int, 8)
		for k := range d {
			d[k] = (i*7 + k*k*3 + i*k) % 4
		}
		want[fmt.Sprint(d)] = true
		if err := counted.Evaluate(d, m); err != nil {
			t.Fatal(err)
		}
	}
	recs := counted.Records() // places them
	score := func(d []int) float64 {
		if err := s.Evaluate(d, m); err != nil {
			t.Fatal(err)
		}
		return e.Objective().Reward(m)
	}
	// The 3 best placed designs (the reference, the first generation's, the
	// 40), ties: the later place first.
	byScore := slices.Clone(recs)
	slices.SortStableFunc(byScore, func(a, b envs.CountedRecord) int {
		if c := -cmp.Compare(score(a.Config), score(b.Config)); c != 0 {
			return c
		}
		return b.Seq - a.Seq
	})
	var top [][]int
	for _, r := range byScore[:3] {
		top = append(top, r.Config)
	}
	if !slices.ContainsFunc(recs, func(r envs.CountedRecord) bool { return slices.Equal(r.Config, ref) }) || len(recs) != len(want) {
		t.Fatalf("%d records, the reference among them: want the reference, the first generation and the designs", len(recs))
	}
	// A design evaluated now but not placed must not become a parent: the
	// optimum.
	free := []int{-1, -1, -1, -1, -1, -1, -1, -1}
	opt, _, err := s.BestGiven(free)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(top, func(x []int) bool { return slices.Equal(x, opt) }) {
		t.Fatal("the optimum is among the placed designs: change the designs")
	}
	if err := counted.Evaluate(opt, m); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var parents [][]int
	for ep := uint64(0); ep < 60; ep++ {
		e.Reset(ep, obs)
		parent := e.Design()
		if !slices.ContainsFunc(top, func(x []int) bool { return slices.Equal(x, parent) }) {
			t.Fatalf("episode %d: parent %v is not among the 3 best placed designs %v", ep, parent, top)
		}
		seen[fmt.Sprint(parent)] = true
		parents = append(parents, parent)
		free := 0
		for i, p := range e.Pinned() {
			if p < 0 {
				free++
			} else if p != parent[i] {
				t.Fatalf("episode %d: knob %d pinned at %d, parent has %d", ep, i, p, parent[i])
			}
		}
		if free != 2 {
			t.Fatalf("episode %d: %d free knobs, want 2", ep, free)
		}
		acts := make([]int, 8)
		for i := range acts {
			acts[i] = (parent[i] + 1) % 4
		}
		r := e.Step(acts, obs, rew)
		child := e.Design()
		diff := 0
		for i := range child {
			if child[i] != parent[i] {
				diff++
			}
		}
		if !r.Terminated || diff != 2 {
			t.Fatalf("episode %d: terminated %v, child differs in %d knobs, want 2", ep, r.Terminated, diff)
		}
		if want := score(child) - score(parent); math.Abs(float64(rew[0])-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Fatalf("episode %d: reward %v, want %v", ep, rew[0], want)
		}
	}
	if len(seen) != 3 {
		t.Errorf("60 episodes drew %d of the 3 parents", len(seen))
	}
	// Restored from the records: the same parents for the same seeds.
	c2 := envs.NewCounted(s)
	e2 := searchEnv(t, c2, 3, 2)
	if err := c2.Restore(recs); err != nil {
		t.Fatal(err)
	}
	for ep := uint64(0); ep < 60; ep++ {
		e2.Reset(ep, obs)
		if d := e2.Design(); !slices.Equal(d, parents[ep]) {
			t.Fatalf("restored, episode %d: parent %v, want %v", ep, d, parents[ep])
		}
	}
}

// TestSearchFormContract: the search form passes the environment contract
// (its archive does not change while nothing is placed).
func TestSearchFormContract(t *testing.T) {
	c, _ := synthetic.Planted(6, 3, 1)
	s := synthetic.MustNew(c)
	envtest.EnvWith(t, func() envs.Env { return searchEnv(t, envs.NewCounted(s), 4, 2) }, envtest.EnvOptions{Steps: 60})
}

// TestSearchFormErrors: the search form needs a counted space, elite >= 1
// and free in [1, knobs]; the run-file keys are checked with their names.
func TestSearchFormErrors(t *testing.T) {
	c, _ := synthetic.Planted(6, 3, 1)
	s := synthetic.MustNew(c)
	obj := minExpY(t, s)
	for _, tc := range []struct {
		ds          envs.DesignSpace
		elite, free int
		want        string
	}{
		{s, 4, 2, "counted space"},
		{envs.NewCounted(s), 0, 2, "elite 0"},
		{envs.NewCounted(s), 4, 0, "free 0"},
		{envs.NewCounted(s), 4, 7, "free 7"},
	} {
		_, err := envs.NewRevisionEnv(tc.ds, envs.RevisionConfig{Objective: obj, Length: 1, Start: "elite", Elite: tc.elite, Free: tc.free})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("elite %d free %d: %v, want an error about %q", tc.elite, tc.free, err, tc.want)
		}
	}
	errs := envs.CheckSearchKeys(0, 11, 0, -1, "first", 10)
	if len(errs) != 4 || !strings.HasPrefix(errs[0].Error(), "elite = 0") || !strings.HasPrefix(errs[1].Error(), "free = 11") ||
		!strings.HasPrefix(errs[2].Error(), "first_gen = -1") || !strings.HasPrefix(errs[3].Error(), `first_start = "first"`) {
		t.Errorf("CheckSearchKeys: %v", errs)
	}
	if errs := envs.CheckSearchKeys(8, 2, 0, 8, "reference", 10); len(errs) != 1 || !strings.Contains(errs[0].Error(), "needs first_gen = 0") {
		t.Errorf("first_start reference with a first generation: %v", errs)
	}
	for _, fs := range []string{"uniform", "reference"} {
		if errs := envs.CheckSearchKeys(8, 2, 0, 0, fs, 10); errs != nil {
			t.Errorf("the defaults, first_start %s: %v", fs, errs)
		}
	}
}

// TestSearchFormStall: with stall > 0, once that many unique evaluations
// are placed after the best was first reached, about half of the episodes
// start from a uniform design with no knob pinned (random immigrants); the
// others still start from the elite; stall = 0 never does.
func TestSearchFormStall(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 5)
	s := synthetic.MustNew(c)
	opt, _, err := s.BestGiven([]int{-1, -1, -1, -1, -1, -1, -1, -1})
	if err != nil {
		t.Fatal(err)
	}
	obj := minExpY(t, s)
	for _, stall := range []int{0, 10, 1000} {
		counted := envs.NewCounted(s)
		e, err := envs.NewRevisionEnv(counted, envs.RevisionConfig{Objective: obj, Length: 1, ObsMetrics: []string{synthetic.MetricExpY},
			Start: "elite", Elite: 2, Free: 1, Stall: stall})
		if err != nil {
			t.Fatal(err)
		}
		m := make([]float64, 3)
		if err := counted.Evaluate(opt, m); err != nil {
			t.Fatal(err)
		}
		counted.Records() // the optimum placed first (after the reference)
		for i := range 30 {
			d := []int{i % 4, (i / 4) % 4, 1, 2, 3, 0, 1, i % 3}
			if err := counted.Evaluate(d, m); err != nil {
				t.Fatal(err)
			}
		}
		counted.Records() // 30-odd worse designs placed after it
		obs, _ := buffers(e)
		immigrants := 0
		for ep := uint64(0); ep < 200; ep++ {
			e.Reset(ep, obs)
			free := freeKnobs(e)
			switch free {
			case 8:
				immigrants++
			case 1:
			default:
				t.Fatalf("stall %d, episode %d: %d free knobs, want 1 (elite parent) or 8 (immigrant)", stall, ep, free)
			}
		}
		want := stall == 10
		if got := immigrants > 70 && immigrants < 130; got != want || (!want && immigrants != 0) {
			t.Errorf("stall %d: %d of 200 episodes were immigrants", stall, immigrants)
		}
	}
}

// TestSearchFormImprovementCredit: with credit = "improvement" every agent
// receives max(0, score(child) - score(parent)) for a child not placed
// before the iteration, and 0 for one that was (however much better than
// its parent), or for a child no better; the credit needs the search form.
func TestSearchFormImprovementCredit(t *testing.T) {
	c, _ := synthetic.Planted(6, 3, 2)
	s := synthetic.MustNew(c)
	obj := minExpY(t, s)
	counted := envs.NewCounted(s)
	e, err := envs.NewRevisionEnv(counted, envs.RevisionConfig{Objective: obj, Length: 1, ObsMetrics: []string{synthetic.MetricExpY},
		Start: "elite", Elite: 2, Free: 6, Credit: "improvement", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	obs, rew := buffers(e)
	m := make([]float64, 3)
	score := func(d []int) float64 {
		if err := s.Evaluate(d, m); err != nil {
			t.Fatal(err)
		}
		return obj.Reward(m)
	}
	opt, _, err := s.BestGiven([]int{-1, -1, -1, -1, -1, -1})
	if err != nil {
		t.Fatal(err)
	}
	// Every child of every parent in turn: the optimum (new, then placed),
	// and every design one knob away from the parent.
	var pos, zeroNew, zeroKnown int
	placedSet := map[string]bool{}
	for round := range 2 {
		for ep := uint64(0); ep < 12; ep++ {
			e.Reset(ep, obs)
			parent := e.Design()
			child := slices.Clone(parent)
			if ep%2 == 0 {
				child = slices.Clone(opt)
			} else {
				child[int(ep/2)%6] = (child[int(ep/2)%6] + 1) % 3
			}
			placed := placedSet[fmt.Sprint(child)]
			e.Step(child, obs, rew)
			delta := score(child) - score(parent)
			var want float64
			if !placed && delta > 0 {
				want = delta
			}
			if math.Abs(float64(rew[0])-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("round %d, episode %d: reward %v, want %v (delta %v, placed %v)", round, ep, rew[0], want, delta, placed)
			}
			for i := range rew {
				if rew[i] != rew[0] {
					t.Fatalf("agent %d: reward %v, agent 0 %v", i, rew[i], rew[0])
				}
			}
			switch {
			case want > 0:
				pos++
			case placed:
				if delta > 0 {
					zeroKnown++
				}
			default:
				zeroNew++
			}
		}
		for _, r := range counted.Records() { // places this round's designs, as a Tracker's read
			placedSet[fmt.Sprint(r.Config)] = true
		}
	}
	if pos == 0 || zeroNew == 0 || zeroKnown == 0 {
		t.Fatalf("cases seen: %d rewarded, %d new and no better, %d placed and better: want each", pos, zeroNew, zeroKnown)
	}
	if _, err := envs.NewRevisionEnv(envs.NewCounted(s), envs.RevisionConfig{Objective: obj, Length: 1, Credit: "improvement"}); err == nil ||
		!strings.Contains(err.Error(), "needs start elite") {
		t.Errorf("improvement without the search form: %v", err)
	}
	if errs := envs.CheckFormKeys("revision", 0.5, "improvement"); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), `credit = "improvement"`) {
		t.Errorf("CheckFormKeys: %v", errs)
	}
	if errs := envs.CheckFormKeys("search", 0.5, "improvement"); errs != nil {
		t.Errorf("CheckFormKeys: %v", errs)
	}
}

// TestSearchFormReferenceStart: with first_start "reference", while fewer
// than elite designs are placed every episode starts from the reference
// design with no knob pinned and charges nothing at its start (the
// reference's evaluation is already counted); its step proposes a whole
// design. Once elite designs are placed, episodes start from the elite
// with all knobs but free pinned, as with the uniform first start.
func TestSearchFormReferenceStart(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 3)
	s := synthetic.MustNew(c)
	counted := envs.NewCounted(s)
	e, err := envs.NewRevisionEnv(counted, envs.RevisionConfig{Objective: minExpY(t, counted), Length: 1, ObsMetrics: []string{synthetic.MetricExpY},
		Start: "elite", Elite: 3, Free: 2, FirstStart: "reference"})
	if err != nil {
		t.Fatal(err)
	}
	obs, rew := buffers(e)
	ref := make([]int, 8) // the default reference: every knob at its first value
	counted.Records()
	before := counted.Unique()
	act := make([]int, 8)
	for ep := uint64(0); ep < 4; ep++ { // four distinct children
		e.Reset(ep, obs)
		if got := e.Design(); !slices.Equal(got, ref) {
			t.Fatalf("first iteration, episode %d: start %v, want the reference %v", ep, got, ref)
		}
		for i, p := range e.Pinned() {
			if p >= 0 {
				t.Fatalf("first iteration, episode %d: knob %d pinned", ep, i)
			}
		}
		for i := range act {
			act[i] = (int(ep) + i) % 4
		}
		e.Step(act, obs, rew)
		if got := e.Design(); !slices.Equal(got, act) {
			t.Fatalf("first iteration, episode %d: child %v, want every knob set by its agent %v", ep, got, act)
		}
	}
	if got := counted.Unique() - before; got != 4 {
		t.Fatalf("four first-iteration episodes charged %d evaluations, want 4 (their children only)", got)
	}
	counted.Records() // place them: the archive of 3 is full
	for ep := uint64(10); ep < 20; ep++ {
		e.Reset(ep, obs)
		if nFree := freeKnobs(e); nFree != 2 {
			t.Fatalf("after the first iteration, episode %d: start %v with %d free knobs, want a parent with 2", ep, e.Design(), nFree)
		}
	}
	if _, err := envs.NewRevisionEnv(envs.NewCounted(s), envs.RevisionConfig{Objective: minExpY(t, counted), Length: 1,
		Start: "elite", Elite: 3, Free: 2, FirstStart: "reference", FirstGen: 4}); err == nil || !strings.Contains(err.Error(), "first start reference") {
		t.Fatalf("first start reference with a first generation: %v, want an error", err)
	}
}

// TestSearchFormFreeGroups: with free groups, a child of an elite parent
// has min(free, group size) free knobs, all in one group, and every group
// is drawn; the first iteration (no parent yet) still frees every knob;
// bad groups are refused.
func TestSearchFormFreeGroups(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 3)
	s := synthetic.MustNew(c)
	counted := envs.NewCounted(s)
	groups := [][]int{{0, 1, 2, 3}, {4, 5, 6}, {7}}
	e, obs := searchAfterFirstIteration(t, counted, envs.RevisionConfig{Free: 2, FreeGroups: groups})
	seen := make([]int, len(groups))
	for ep := uint64(10); ep < 70; ep++ {
		e.Reset(ep, obs)
		var free []int
		for i, p := range e.Pinned() {
			if p < 0 {
				free = append(free, i)
			} else if p != e.Design()[i] {
				t.Fatalf("episode %d: knob %d pinned at %d, the parent has %d", ep, i, p, e.Design()[i])
			}
		}
		if len(free) == 0 {
			t.Fatalf("episode %d: no free knob", ep)
		}
		gi := slices.IndexFunc(groups, func(g []int) bool { return slices.Contains(g, free[0]) })
		for _, k := range free {
			if !slices.Contains(groups[gi], k) {
				t.Fatalf("episode %d: free knobs %v span groups", ep, free)
			}
		}
		if want := min(2, len(groups[gi])); len(free) != want {
			t.Fatalf("episode %d: free knobs %v, want %d of group %v", ep, free, want, groups[gi])
		}
		seen[gi]++
	}
	for gi, n := range seen {
		if n == 0 {
			t.Fatalf("group %d never drawn in 60 episodes (%v)", gi, seen)
		}
	}
	for _, bad := range [][][]int{{{0, 1}, {}}, {{0, 8}}, {{-1}}} {
		if _, err := envs.NewRevisionEnv(envs.NewCounted(s), envs.RevisionConfig{Objective: minExpY(t, counted), Length: 1,
			Start: "elite", Elite: 3, Free: 2, FreeGroups: bad}); err == nil || !strings.Contains(err.Error(), "free group") {
			t.Fatalf("free groups %v: %v, want an error", bad, err)
		}
	}
}

// TestSearchFormFreeLaw: with free_law each child's number of free knobs is
// drawn from 1..Free with P(k) proportional to k^-law: over 6,000 children
// every count's frequency is within 4.5 binomial standard errors of that
// (and a steep law gives one knob nearly always); the pinned knobs keep the
// parent's values; out-of-range laws are refused.
func TestSearchFormFreeLaw(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 3)
	s := synthetic.MustNew(c)
	counts := func(law float64, n int) []int {
		e, obs := searchAfterFirstIteration(t, envs.NewCounted(s), envs.RevisionConfig{Free: 8, FreeLaw: law})
		hist := make([]int, 9)
		for ep := range uint64(n) {
			e.Reset(100+ep, obs)
			for i, p := range e.Pinned() {
				if p >= 0 && p != e.Design()[i] {
					t.Fatalf("episode %d: knob %d pinned at %d, the parent has %d", ep, i, p, e.Design()[i])
				}
			}
			hist[freeKnobs(e)]++
		}
		return hist
	}
	const n = 6000
	hist := counts(1.5, n)
	var z float64
	for k := 1; k <= 8; k++ {
		z += math.Pow(float64(k), -1.5)
	}
	if hist[0] != 0 {
		t.Fatalf("%d children with no free knob", hist[0])
	}
	for k := 1; k <= 8; k++ {
		p := math.Pow(float64(k), -1.5) / z
		se := math.Sqrt(p * (1 - p) / n)
		if got := float64(hist[k]) / n; math.Abs(got-p) > 4.5*se {
			t.Fatalf("law 1.5: %d free knobs in %.4f of the children, want %.4f (histogram %v)", k, got, p, hist)
		}
	}
	if h := counts(10, 2000); h[1] < 1990 {
		t.Fatalf("law 10: histogram %v, want nearly every child with one free knob", h)
	}
	if h := counts(0, 200); h[8] != 200 {
		t.Fatalf("law 0: histogram %v, want every child with free = 8", h)
	}
	for _, law := range []float64{-1, 11, math.NaN()} {
		counted := envs.NewCounted(s)
		if _, err := envs.NewRevisionEnv(counted, envs.RevisionConfig{Objective: minExpY(t, counted), Length: 1, ObsMetrics: []string{synthetic.MetricExpY},
			Start: "elite", Elite: 3, Free: 2, FreeLaw: law}); err == nil || !strings.Contains(err.Error(), "free_law") {
			t.Fatalf("free law %v: %v, want an error", law, err)
		}
	}
}

// searchAfterFirstIteration builds the search form (elite 3, one-step
// episodes, minimum exp(y)) of cfg's Free and free-knob options on the
// 8-knob space counted, runs its first iteration of 3 episodes, in which
// every knob must be free, and returns it with the archive full, ready for
// episodes from parents.
func searchAfterFirstIteration(t *testing.T, counted *envs.Counted, cfg envs.RevisionConfig) (*envs.RevisionEnv, [][]float32) {
	t.Helper()
	cfg.Objective, cfg.Length, cfg.ObsMetrics = minExpY(t, counted), 1, []string{synthetic.MetricExpY}
	cfg.Start, cfg.Elite = "elite", 3
	e, err := envs.NewRevisionEnv(counted, cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs, rew := buffers(e)
	act := make([]int, 8)
	for ep := uint64(0); ep < 3; ep++ {
		e.Reset(ep, obs)
		if n := freeKnobs(e); n != 8 {
			t.Fatalf("first iteration, episode %d: %d free knobs, want 8", ep, n)
		}
		for i := range act {
			act[i] = (int(ep) + i) % 4
		}
		e.Step(act, obs, rew)
	}
	counted.Records() // the archive of 3 is full
	return e, obs
}

// TestSearchFormCrossRate: with cross_rate 1 every archive episode starts
// from a uniform crossover of two archive members: each knob of the start
// is one of the members' values there, and some starts are none of the
// members (a real mix). The crossed start costs no evaluation (Unique
// stays) and the parent's metrics stand for it: the metrics after Reset are
// an archive member's. The pinned knobs keep the crossed values. With
// cross_rate 0 every start is an archive member; out-of-range rates are
// refused with the key.
func TestSearchFormCrossRate(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 3)
	s := synthetic.MustNew(c)
	for _, rate := range []float64{0, 1} {
		counted := envs.NewCounted(s)
		e, obs := searchAfterFirstIteration(t, counted, envs.RevisionConfig{Free: 2, CrossRate: rate})
		obj := minExpY(t, counted)
		recs := counted.Records()
		slices.SortStableFunc(recs, func(a, b envs.CountedRecord) int {
			return cmp.Compare(obj.Reward(b.Metrics), obj.Reward(a.Metrics))
		})
		archive := recs[:3]
		mixed := 0
		for ep := uint64(10); ep < 70; ep++ {
			before := counted.Unique()
			e.Reset(ep, obs)
			if got := counted.Unique(); got != before {
				t.Fatalf("rate %v, episode %d: the start cost %d evaluations", rate, ep, got-before)
			}
			d, m := e.Design(), e.Metrics()
			isMember := slices.ContainsFunc(archive, func(r envs.CountedRecord) bool { return slices.Equal(r.Config, d) })
			if !isMember {
				mixed++
			}
			for i, v := range d {
				if !slices.ContainsFunc(archive, func(r envs.CountedRecord) bool { return r.Config[i] == v }) {
					t.Fatalf("rate %v, episode %d: knob %d = %d is no archive member's", rate, ep, i, v)
				}
				if p := e.Pinned()[i]; p >= 0 && p != v {
					t.Fatalf("rate %v, episode %d: knob %d pinned at %d, the start has %d", rate, ep, i, p, v)
				}
			}
			if !slices.ContainsFunc(archive, func(r envs.CountedRecord) bool { return slices.Equal(r.Metrics, m) }) {
				t.Fatalf("rate %v, episode %d: start metrics %v are no archive member's", rate, ep, m)
			}
		}
		if rate == 0 && mixed > 0 {
			t.Fatalf("rate 0: %d of 60 starts are no archive member", mixed)
		}
		if rate == 1 && mixed < 20 {
			t.Fatalf("rate 1: only %d of 60 starts are crossovers", mixed)
		}
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := envs.NewRevisionEnv(envs.NewCounted(s), envs.RevisionConfig{Objective: minExpY(t, s), Length: 1,
			Start: "elite", Elite: 3, Free: 2, CrossRate: bad}); err == nil || !strings.Contains(err.Error(), "cross_rate") {
			t.Fatalf("cross_rate %v: %v, want an error naming the key", bad, err)
		}
	}
}
