package experiments_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// TestSummaryFileChecked: summary.json carries a format version and a
// checksum; it reads back to the same value, and a changed value, a
// truncation, an unknown field or version is an error, while a file from
// before versions (neither field) is still read.
func TestSummaryFileChecked(t *testing.T) {
	reg := 0.25
	sum := experiments.Summary{Name: "a", Variant: "random", Task: "space", Env: "grid", Seed: 3, Iterations: 7,
		EnvSteps: 1234, UniqueEvals: 56, Primary: experiments.Primary{Name: "regret", X: "unique_evals"},
		Threshold: experiments.Num(math.NaN()), Final: map[string]experiments.Num{"regret": 0.25, "loss": experiments.Num(math.Inf(1)), "lr": 3e-4},
		Best: &experiments.Design{Names: []string{"k"}, Knobs: map[string]string{"k": "v1"}, Objective: 1.0 / 3, Regret: &reg}}
	data, err := experiments.EncodeSummary(sum)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.Contains(text, `"format": 1,`) || !strings.Contains(text, `"sha256": "`) {
		t.Fatalf("no version or checksum in\n%s", text)
	}
	got, err := experiments.DecodeSummary(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "a" || got.Iterations != 7 || got.Best.Objective != 1.0/3 || *got.Best.Regret != reg ||
		!math.IsNaN(float64(got.Threshold)) || !math.IsInf(float64(got.Final["loss"]), 1) || got.Final["lr"] != 3e-4 {
		t.Errorf("read back %+v", got)
	}
	// Re-encoding what was read gives the same bytes.
	if again, _ := experiments.EncodeSummary(got); string(again) != text {
		t.Errorf("re-encoded differs:\n%s\n%s", again, text)
	}
	bad := map[string]string{
		"changed value":  strings.Replace(text, `"iterations": 7`, `"iterations": 8`, 1),
		"changed design": strings.Replace(text, `"k": "v1"`, `"k": "v2"`, 1),
		"truncated":      text[:len(text)/2],
		"unknown field":  strings.Replace(text, `"name": "a",`, `"name": "a", "nmae": "b",`, 1),
		"newer format":   strings.Replace(text, `"format": 1,`, `"format": 2,`, 1),
		"no checksum":    strings.Replace(text, `"sha256": "`, `"sha265": "`, 1),
		"empty":          "",
	}
	for name, b := range bad {
		if b == text {
			t.Fatalf("%s: the edit did not apply", name)
		}
		if _, err := experiments.DecodeSummary([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := experiments.DecodeSummary([]byte(strings.Replace(text, `"iterations": 7`, `"iterations": 8`, 1))); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("changed value: %v", err)
	}
	legacy := `{"name": "old", "variant": "v", "task": "t", "env": "grid", "seed": 1, "iterations": 4, "env_steps": 0, "unique_evals": 0, "primary": {"name": "regret", "higher_is_better": false, "x": "unique_evals"}, "threshold": 0, "final": {}, "eval": {}}`
	if s, err := experiments.DecodeSummary([]byte(legacy)); err != nil || s.Name != "old" || s.Iterations != 4 {
		t.Errorf("summary from before versions: %+v, %v", s, err)
	}
}

// TestEditedSummaryRefused: a finished run whose summary.json was edited
// is refused by a rerun and listed as skipped by the report, each naming
// the file and what to do; doing it (delete summary.json and DONE, rerun)
// writes the same summary again from the last checkpoint.
func TestEditedSummaryRefused(t *testing.T) {
	cfg := fakeConfig(t, "edited")
	cfg.Seeds = []int64{1, 2}
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	path := filepath.Join(dir, "summary.json")
	orig := read(t, path)
	edited := strings.Replace(orig, `"iterations": 23`, `"iterations": 22`, 1)
	if edited == orig {
		t.Fatal("the edit did not apply")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), "delete summary.json and DONE") {
		t.Errorf("rerun of an edited run: %v", err)
	}
	rep, err := experiments.BuildReport(cfg.OutDir, experiments.DefaultReportOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 || len(rep.Skipped) != 1 || rep.Skipped[0].Dir != dir || !strings.Contains(rep.Skipped[0].Reason, "checksum mismatch") {
		t.Errorf("report: %d runs, skipped %+v", len(rep.Runs), rep.Skipped)
	}
	for _, f := range []string{"summary.json", "DONE"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != orig {
		t.Errorf("summary after the advised rerun differs:\n%s\n%s", got, orig)
	}
}

// TestUnknownOptimumSaysWhy: a synthetic space too large to enumerate and
// beyond the exact solver has no regret, and the summary says why instead
// of leaving the regret out silently; a small one has its regret.
func TestUnknownOptimumSaysWhy(t *testing.T) {
	for _, c := range []struct {
		set  []string
		want string // "" = the optimum is known
	}{
		{[]string{"env.synthetic.knobs=64", "env.synthetic.values=64", "env.synthetic.graph=planted"}, "designs enumerated at most"},
		{nil, ""},
	} {
		cfg := synthConfig(t, "opt")
		cfg.Budget.Iterations = 2
		for _, kv := range c.set {
			if err := experiments.ApplyOverride(&cfg, kv); err != nil {
				t.Fatal(err)
			}
		}
		sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b := sums[0].Best
		switch {
		case b == nil:
			t.Errorf("%v: no best design", c.set)
		case c.want == "" && (b.Regret == nil || b.NoOptimum != ""):
			t.Errorf("%v: regret %v, no_optimum %q", c.set, b.Regret, b.NoOptimum)
		case c.want != "" && (b.Regret != nil || !strings.Contains(b.NoOptimum, c.want) || !strings.Contains(b.NoOptimum, "more than 2^63")):
			t.Errorf("%v: regret %v, no_optimum %q", c.set, b.Regret, b.NoOptimum)
		}
	}
}
