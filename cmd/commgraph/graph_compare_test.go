package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/envs/synthetic"
	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// syntheticRunTOML: 4 knobs of 3 values with planted pairs (k0,k1), (k2,k3).
const syntheticRunTOML = `name = "syn"
seed = 1
[env]
kind = "synthetic"
[env.synthetic]
knobs = 4
values = 3
pairs = 2
strength = 1.5
space_seed = 3
episode_len = 1
[algorithm]
kind = "random"
[budget]
iterations = 1
`

// compareSnapshot is a learned 4-agent snapshot (k = 1) with the given
// off-diagonal logits; each row hears its highest-logit other sender.
func compareSnapshot(logits [][]float64) *comm.Snapshot {
	n := len(logits)
	s := &comm.Snapshot{Iteration: 5, Agents: []string{"k0", "k1", "k2", "k3"}, Variant: comm.Learned, Sparsity: 0.25, K: 1,
		Logits: logits}
	for i := 0; i < n; i++ {
		pr := make([]float64, n)
		ar := make([]int, n)
		ar[i] = 1
		best := -1
		for j := 0; j < n; j++ {
			pr[j] = 1.0 / float64(n) // any valid probabilities
			if j != i && (best < 0 || logits[i][j] > logits[i][best]) {
				best = j
			}
		}
		ar[best] = 1
		s.Probabilities = append(s.Probabilities, pr)
		s.Adjacency = append(s.Adjacency, ar)
		s.ReceiveRates = append(s.ReceiveRates, 1)
	}
	return s
}

// Logits over the planted pairs {k0,k1}, {k2,k3}: every agent prefers its
// partner by a full logit (perfect), by 0.005 (tied: undecided), or
// prefers a non-partner and ranks its partner last (wrong).
var (
	perfectLogits = [][]float64{{0, 1, 0, -0.1}, {1, 0, 0, -0.1}, {0, -0.1, 0, 1}, {0, -0.1, 1, 0}}
	tiedLogits    = [][]float64{{0, 0.005, 0, 0}, {0.005, 0, 0, 0}, {0, 0, 0, 0.005}, {0, 0, 0.005, 0}}
	wrongLogits   = [][]float64{{0, -1, 1, 0}, {-1, 0, 0, 1}, {1, 0, 0, -1}, {0, 1, -1, 0}}
)

// compareRun writes a run directory with config.toml (toml) and one graph
// snapshot; it returns the run directory.
func compareRun(t *testing.T, toml string, s *comm.Snapshot) string {
	t.Helper()
	run := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(filepath.Join(run, "graphs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if toml != "" {
		writeFile(t, filepath.Join(run, "config.toml"), toml)
	}
	if err := comm.WriteJSON(filepath.Join(run, "graphs", "iter-000005.json"), s); err != nil {
		t.Fatal(err)
	}
	return run
}

// syntheticSweep writes the exhaustive sweep table of the synthetic space of
// syntheticRunTOML (its knob names and planted pairs).
func syntheticSweep(t *testing.T) string {
	t.Helper()
	ds := synthetic.MustNew(synthetic.Config{Values: []int{3, 3, 3, 3},
		Pairs: []synthetic.Pair{{A: 0, B: 1, S: 1.5}, {A: 2, B: 3, S: 1.5}}, Seed: 3})
	path := filepath.Join(t.TempDir(), "syn.sweep")
	if _, err := exhaustive.Run(context.Background(), ds, path, exhaustive.Options{Jobs: 1}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGraphCompare(t *testing.T) {
	experimentstest.Register()
	good := compareSnapshot(perfectLogits)
	bad := compareSnapshot(wrongLogits)
	tied := compareSnapshot(tiedLogits)
	sweep := syntheticSweep(t)
	adj := filepath.Join(t.TempDir(), "truth.txt")
	writeFile(t, adj, "# pairs {0,1} and {2,3}\n0 1 0 0\n1 0 0 0\n0 0 0 1\n0 0 1 0\n")
	oneWay := filepath.Join(t.TempDir(), "oneway.txt")
	writeFile(t, oneWay, "0 1 0 0\n0 0 0 0\n0 0 0 0\n0 0 0 0\n")
	five := filepath.Join(t.TempDir(), "five.txt")
	writeFile(t, five, "0 1 0 0 0\n1 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n")

	cases := []struct {
		name  string
		snap  *comm.Snapshot
		toml  string
		args  []string // after RUN
		code  int
		want  []string // substrings of stdout (code 0) or stderr
		check func(t *testing.T, r compareResult)
	}{
		{name: "planted perfect", snap: good, toml: syntheticRunTOML, args: []string{"--truth", "planted", "--json"},
			check: func(t *testing.T, r compareResult) {
				c := r.Comparison
				for _, v := range []comm.Recovery{c.Directed, c.Symmetrised} {
					if v.PrecisionAtE != 1 || v.Recall != 1 || v.Precision != 1 || v.AUROC != 1 || v.HitRate != 1 {
						t.Errorf("perfect graph: %+v", v)
					}
				}
				if c.Directed.TrueItems != 4 || c.Symmetrised.TrueItems != 2 || c.K != 1 || c.N != 4 || c.UndecidedRows != 0 {
					t.Errorf("counts: %+v", c)
				}
				if len(r.Truth.Pairs) != 2 || r.Truth.Pairs[0] != (truthPair{"k0", "k1", 1.5}) {
					t.Errorf("truth pairs %+v", r.Truth.Pairs)
				}
			}},
		{name: "planted table", snap: good, toml: syntheticRunTOML, args: []string{"--truth", "planted"},
			want: []string{"precision@|E|", "AUROC", "hit rate", "4 of 12", "2 of 6", "undecided rows: 0 of 4", "k = 1"}},
		{name: "planted wrong", snap: bad, toml: syntheticRunTOML, args: []string{"--truth", "planted", "--json"},
			check: func(t *testing.T, r compareResult) {
				d := r.Comparison.Directed
				if d.PrecisionAtE != 0 || d.Recall != 0 || d.AUROC != 0 || d.HitRate != 0 {
					t.Errorf("wrong graph: %+v", d)
				}
			}},
		{name: "undecided noted", snap: tied, toml: syntheticRunTOML, args: []string{"--truth", "planted"},
			want: []string{"undecided rows: 4 of 4", "note: 4 of 4 rows are undecided"}},
		// The ANOVA of the sweep recovers exactly the planted pairs (their
		// shares are large, every other pair's is 0).
		{name: "sweep min-share", snap: good, toml: syntheticRunTOML, args: []string{"--truth", "sweep:" + sweep, "--json"},
			check: func(t *testing.T, r compareResult) {
				if r.Truth.Metric != "exp_y" || len(r.Truth.Pairs) != 2 || r.Comparison.Directed.PrecisionAtE != 1 {
					t.Errorf("sweep truth %+v, comparison %+v", r.Truth, r.Comparison.Directed)
				}
			}},
		{name: "sweep top 1", snap: good, toml: "", args: []string{"--truth", "sweep:" + sweep, "--top", "1", "--metric", "exp_y", "--json"},
			check: func(t *testing.T, r compareResult) {
				if r.Truth.Metric != "exp_y" || len(r.Truth.Pairs) != 1 || r.Comparison.Directed.TrueItems != 2 {
					t.Errorf("--top 1: %+v", r.Truth)
				}
			}},
		// Without a run config the first metric with a log is used (y can be negative).
		{name: "sweep default metric", snap: good, args: []string{"--truth", "sweep:" + sweep, "--json"},
			check: func(t *testing.T, r compareResult) {
				if r.Truth.Metric != "exp_y" || len(r.Truth.Pairs) != 2 {
					t.Errorf("default metric: %+v", r.Truth)
				}
			}},
		{name: "sweep metric without log", snap: good, args: []string{"--truth", "sweep:" + sweep, "--metric", "y"}, code: 1, want: []string{"log needs finite positive values"}},
		{name: "file", snap: good, args: []string{"--truth", adj, "--json"},
			check: func(t *testing.T, r compareResult) {
				if r.Comparison.Directed.AUROC != 1 || r.Truth.Kind != "file" || r.Truth.Pairs[0].A != "k0" {
					t.Errorf("file truth: %+v %+v", r.Truth, r.Comparison.Directed)
				}
			}},
		// A directed truth: only 0 hears 1. Agent 0 does hear 1: directed
		// recall 1, precision 1/4 (4 edges), symmetrised pairs {0,1},{2,3}.
		{name: "file directed", snap: good, args: []string{"--truth", oneWay, "--json"},
			check: func(t *testing.T, r compareResult) {
				d, s := r.Comparison.Directed, r.Comparison.Symmetrised
				if d.TrueItems != 1 || d.Recall != 1 || d.Precision != 0.25 || s.TrueItems != 1 || s.Precision != 0.5 {
					t.Errorf("directed truth: %+v %+v", d, s)
				}
			}},
		// --group: k0 and k1 hear each other (2 of 2; chance 1/3); by index too.
		{name: "group", snap: good, args: []string{"--truth", adj, "--group", "k0,1", "--json"},
			check: func(t *testing.T, r compareResult) {
				if g := r.Group; g == nil || g.InGroup != 2 || g.Chosen != 2 || g.Fraction != 1 || g.Chance != 1.0/3 || g.Agents[1] != "k1" {
					t.Errorf("group %+v", g)
				}
			}},
		{name: "group table", snap: bad, args: []string{"--truth", adj, "--group", "k0,k1,k2"},
			want: []string{"group k0, k1, k2: 2 of the 3 senders they chose are in the group (66.7%; chance 66.7%)"}},
		{name: "group unknown agent", snap: good, args: []string{"--truth", adj, "--group", "k0,x"}, code: 2, want: []string{`"x" is not an agent`}},
		{name: "group repeated", snap: good, args: []string{"--truth", adj, "--group", "k0,0"}, code: 2, want: []string{"repeated"}},
		// Errors.
		{name: "no truth", snap: good, args: nil, code: 2, want: []string{"--truth is required"}},
		{name: "unknown kind", snap: good, args: []string{"--truth", "anova:x.sweep"}, code: 2, want: []string{`unknown truth kind "anova"`}},
		{name: "missing file", snap: good, args: []string{"--truth", "plantd"}, code: 2, want: []string{"no such file", "planted, sweep:FILE"}},
		{name: "top without sweep", snap: good, args: []string{"--truth", "planted", "--top", "2"}, code: 2, want: []string{"--top applies only"}},
		{name: "top and min-share", snap: good, args: []string{"--truth", "sweep:" + sweep, "--top", "2", "--min-share", "0.1"}, code: 2, want: []string{"exclude each other"}},
		{name: "bad metric", snap: good, args: []string{"--truth", "sweep:" + sweep, "--metric", "time_ns"}, code: 2, want: []string{`--metric "time_ns"`, "exp_y"}},
		{name: "count mismatch", snap: good, args: []string{"--truth", five}, code: 1, want: []string{"has 5 agents, the graph 4"}},
		{name: "not synthetic", snap: good, toml: sweepBaseTOML, args: []string{"--truth", "planted"}, code: 1, want: []string{`env.kind = "fake" has no planted interactions`}},
		{name: "planted without config", snap: good, args: []string{"--truth", "planted"}, code: 1, want: []string{"no config.toml"}},
		{name: "share too high", snap: good, args: []string{"--truth", "sweep:" + sweep, "--min-share", "0.99"}, code: 1, want: []string{"no pair carries a share >= 0.99"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := compareRun(t, c.toml, c.snap)
			var out, errb bytes.Buffer
			code := dispatch(append([]string{"graph", "compare", run}, c.args...), &out, &errb)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out.String(), errb.String())
			}
			text := out.String()
			if c.code != 0 {
				text = errb.String()
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if c.check != nil {
				var r compareResult
				if err := json.Unmarshal(out.Bytes(), &r); err != nil {
					t.Fatalf("JSON: %v\n%s", err, out.String())
				}
				c.check(t, r)
			}
		})
	}
}

// TestGraphCompareSnapshotFile: a snapshot file inside a run works like the
// run; --iter picks an older snapshot.
func TestGraphCompareSnapshotFile(t *testing.T) {
	experimentstest.Register()
	run := compareRun(t, syntheticRunTOML, compareSnapshot(wrongLogits))
	newer := compareSnapshot(perfectLogits)
	newer.Iteration = 9
	if err := comm.WriteJSON(filepath.Join(run, "graphs", "iter-000009.json"), newer); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want float64
	}{
		{[]string{run}, 1},
		{[]string{run, "--iter", "5"}, 0},
		{[]string{filepath.Join(run, "graphs", "iter-000005.json")}, 0},
	} {
		var out, errb bytes.Buffer
		if code := dispatch(append([]string{"graph", "compare", "--truth", "planted", "--json"}, c.args...), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errb.String())
		}
		var r compareResult
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Comparison.Directed.AUROC != c.want {
			t.Errorf("%v: AUROC %v, want %v", c.args, r.Comparison.Directed.AUROC, c.want)
		}
	}
}

// TestGraphExportWarnsUndecided: exporting an undecided graph warns on
// stderr (and still exports); a decided one does not.
func TestGraphExportWarnsUndecided(t *testing.T) {
	for _, c := range []struct {
		logits [][]float64
		warn   bool
	}{{tiedLogits, true}, {perfectLogits, false}} {
		run := compareRun(t, "", compareSnapshot(c.logits))
		for _, args := range [][]string{
			{"--format", "dot", "--out", "-"},
			{"--format", "json", "--all", "--out", filepath.Join(t.TempDir(), "all")},
		} {
			var out, errb bytes.Buffer
			if code := dispatch(append([]string{"graph", "export", run}, args...), &out, &errb); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errb.String())
			}
			got := strings.Contains(errb.String(), "warning:") && strings.Contains(errb.String(), "4 of 4 rows within noise")
			if got != c.warn {
				t.Errorf("%v (warn %v): stderr %q", args, c.warn, errb.String())
			}
			if c.warn && args[1] == "dot" && !strings.Contains(out.String(), `comment="undecided: 4 of 4 rows within noise"`) {
				t.Errorf("DOT lacks the note:\n%s", out.String())
			}
		}
	}
}

// TestGraphComparePNG: --png writes the side-by-side heatmap (planted and
// sweep truths); on an error nothing is written.
func TestGraphComparePNG(t *testing.T) {
	experimentstest.Register()
	run := compareRun(t, syntheticRunTOML, compareSnapshot(perfectLogits))
	sweep := syntheticSweep(t)
	dir := t.TempDir()
	for i, truth := range []string{"planted", "sweep:" + sweep} {
		png := filepath.Join(dir, fmt.Sprintf("cmp%d.png", i))
		var out, errb bytes.Buffer
		if code := dispatch([]string{"graph", "compare", run, "--truth", truth, "--png", png}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", truth, code, errb.String())
		}
		f, err := os.Open(png)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 1280 || img.Bounds().Dy() != 520 {
			t.Errorf("%s: PNG %v", truth, err)
		}
	}
	bad := filepath.Join(dir, "bad.png")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"graph", "compare", run, "--truth", "sweep:" + sweep, "--min-share", "0.99", "--png", bad}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("PNG written on error")
	}
}

// TestGraphCompareAll: --all prints one row per logged snapshot, oldest
// first, and excludes --iter and --png.
func TestGraphCompareAll(t *testing.T) {
	experimentstest.Register()
	run := compareRun(t, syntheticRunTOML, compareSnapshot(wrongLogits))
	newer := compareSnapshot(perfectLogits)
	newer.Iteration = 9
	if err := comm.WriteJSON(filepath.Join(run, "graphs", "iter-000009.json"), newer); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"graph", "compare", run, "--truth", "planted", "--all", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Iterations []struct {
			Iteration  int              `json:"iteration"`
			Comparison *comm.Comparison `json:"comparison"`
		} `json:"iterations"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Iterations) != 2 || r.Iterations[0].Iteration != 5 || r.Iterations[0].Comparison.Directed.AUROC != 0 ||
		r.Iterations[1].Iteration != 9 || r.Iterations[1].Comparison.Directed.AUROC != 1 {
		t.Errorf("--all: %s", out.String())
	}
	out.Reset()
	if code := dispatch([]string{"graph", "compare", run, "--truth", "planted", "--all"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "precision@|E| dir") || strings.Count(out.String(), "4 of 4")+strings.Count(out.String(), "0 of 4") != 2 {
		t.Errorf("--all table: %d\n%s", code, out.String())
	}
	for _, args := range [][]string{{"--all", "--iter", "5"}, {"--all", "--png", filepath.Join(t.TempDir(), "x.png")}} {
		errb.Reset()
		if code := dispatch(append([]string{"graph", "compare", run, "--truth", "planted"}, args...), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d (%s)", args, code, errb.String())
		}
	}
}
