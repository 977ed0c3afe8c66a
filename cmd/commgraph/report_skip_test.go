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

// TestReportRootsByLayout: report walks what the commands write (a run, a
// config's seeds out_dir/name, an output directory out_dir, also for names
// with a slash) and refuses a directory that merely has runs somewhere
// below it (like a /tmp holding other people's output directories); a run
// deeper than its name explains is not collected.
func TestReportRootsByLayout(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	scratch := filepath.Join(tmp, "scratch")
	out := filepath.Join(scratch, "out")
	cfg := filepath.Join(tmp, "r.toml")
	writeFile(t, cfg, "name = \"r\"\nseeds = [1]\nout_dir = \""+filepath.ToSlash(out)+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n[log]\ntiming = false\n")
	var o, e bytes.Buffer
	if code := dispatch([]string{"run", cfg, "--quiet"}, &o, &e); code != 0 {
		t.Fatalf("run: %d %s", code, e.String())
	}
	// The same run again, four levels below out: not part of out's results.
	deep := filepath.Join(out, "a", "b", "c", "seed-1")
	if err := os.MkdirAll(filepath.Dir(deep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(out, "r", "seed-1"), deep); err != nil {
		t.Fatal(err)
	}
	if code := dispatch([]string{"run", cfg, "--quiet"}, &o, &e); code != 0 {
		t.Fatalf("run: %d %s", code, e.String())
	}
	// A run named with a slash (as sweep trials are): out2/grp/r2/seed-1.
	out2 := filepath.Join(scratch, "out2")
	cfg2 := filepath.Join(tmp, "r2.toml")
	writeFile(t, cfg2, "name = \"grp/r2\"\nseeds = [1]\nout_dir = \""+filepath.ToSlash(out2)+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n[log]\ntiming = false\n")
	if code := dispatch([]string{"run", cfg2, "--quiet"}, &o, &e); code != 0 {
		t.Fatalf("run: %d %s", code, e.String())
	}
	for _, c := range []struct {
		root string
		ok   bool
	}{
		{filepath.Join(out, "r", "seed-1"), true},
		{filepath.Join(out, "r"), true},
		{out, true},
		{out2, true},
		{filepath.Join(out2, "grp"), true},
		{scratch, false},
		{tmp, false},
	} {
		o.Reset()
		e.Reset()
		code := dispatch([]string{"report", c.root, "--no-plots", "--out", filepath.Join(tmp, "rep")}, &o, &e)
		switch {
		case c.ok && (code != 0 || !strings.Contains(o.String(), "1 finished runs")):
			t.Errorf("report %s: exit %d, want 1 finished run:\n%s%s", c.root, code, o.String(), e.String())
		case !c.ok && (code != exitUsage || !strings.Contains(e.String(), "not a run or sweep directory")):
			t.Errorf("report %s: exit %d, want a refusal:\n%s", c.root, code, e.String())
		}
	}
}
