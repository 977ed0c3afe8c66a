package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestReportListsSkippedRuns: report names every run it leaves out and
// why (damaged metrics, missing summary, unfinished); --metric with a
// metric no run has exits 2 listing the metrics that exist; a root that is
// not a run or sweep directory is refused (exit 2), not walked.
func TestReportListsSkippedRuns(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	runs := filepath.Join(tmp, "runs")
	cfg := filepath.Join(tmp, "r.toml")
	writeFile(t, cfg, "name = \"r\"\nseeds = [1, 2, 3, 4]\nout_dir = \""+filepath.ToSlash(runs)+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 3\n[log]\ntiming = false\n")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", cfg, "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	root := filepath.Join(runs, "r")
	writeFile(t, filepath.Join(root, "seed-2", "metrics.jsonl"), "{\"iteration\":1,\n{\"iteration\":2}\n")
	os.Remove(filepath.Join(root, "seed-3", "summary.json"))
	os.Remove(filepath.Join(root, "seed-4", "DONE"))
	out.Reset()
	errb.Reset()
	if code := dispatch([]string{"report", root, "--no-plots"}, &out, &errb); code != 0 {
		t.Fatalf("report: %d %s", code, errb.String())
	}
	for _, want := range []string{
		"run left out: " + filepath.Join(root, "seed-2") + ": metrics: " + filepath.Join(root, "seed-2", "metrics.jsonl") + ":1:",
		"run left out: " + filepath.Join(root, "seed-3") + ": read summary",
		"unfinished run left out: " + filepath.Join(root, "seed-4"),
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	if !strings.Contains(out.String(), "1 finished runs") {
		t.Errorf("stdout: %s", out.String())
	}
	errb.Reset()
	if code := dispatch([]string{"report", root, "--metric", "nosuch", "--no-plots"}, &out, &errb); code != exitUsage ||
		!strings.Contains(errb.String(), `"nosuch"`) || !strings.Contains(errb.String(), "metrics that exist: ") || !strings.Contains(errb.String(), "policy_loss") {
		t.Errorf("--metric nosuch: exit %d, stderr %s", code, errb.String())
	}
	junk := filepath.Join(tmp, "home")
	os.MkdirAll(filepath.Join(junk, "docs", "a"), 0o755)
	writeFile(t, filepath.Join(junk, "notes.txt"), "")
	errb.Reset()
	if code := dispatch([]string{"report", junk}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "not a run or sweep directory") {
		t.Errorf("junk root: exit %d, stderr %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(junk, "report")); err == nil {
		t.Error("a refused root got a report directory")
	}
}
