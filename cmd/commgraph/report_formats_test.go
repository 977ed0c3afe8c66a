package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestReportFormats: --format csv writes only CSV to stdout (the list of
// files goes to stderr); --pareto X,Y adds the front as a table, a CSV and a
// PNG; a malformed --pareto is a usage error before any work, and a metric
// no run has is an error that lists the metrics there are.
func TestReportFormats(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "runs")
	writeFile(t, filepath.Join(tmp, "base.toml"), sweepBaseTOML)
	sw := filepath.Join(tmp, "two.toml")
	writeFile(t, sw, `name = "two"
base = "base.toml"
seeds = [1, 2]
out_dir = "`+out+`"
[grid]
"algorithm.fake.lr" = [1e-3, 1e-4]
`)
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"sweep", sw, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("sweep: %d %s", code, stderr.String())
	}
	root := filepath.Join(out, "two")
	stdout.Reset()
	stderr.Reset()
	if code := dispatch([]string{"report", root, "--format", "csv", "--pareto", "policy_loss,entropy", "--logx=false"}, &stdout, &stderr); code != 0 {
		t.Fatalf("report csv: %d %s", code, stderr.String())
	}
	recs, err := csv.NewReader(&stdout).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "variant" || recs[1][2] != "eval_return" || recs[1][4] != "2" {
		t.Fatalf("stdout is not the cells CSV (%v): %v", err, recs)
	}
	for _, f := range []string{"report.csv", "pareto-policy_loss-entropy.csv", "pareto-policy_loss-entropy.png"} {
		if _, err := os.Stat(filepath.Join(root, "report", f)); err != nil {
			t.Errorf("report file: %v", err)
		}
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("stderr does not list %s:\n%s", f, stderr.String())
		}
	}
	data, _ := os.ReadFile(filepath.Join(root, "report", "pareto-policy_loss-entropy.csv"))
	if prec, err := csv.NewReader(bytes.NewReader(data)).ReadAll(); err != nil || len(prec) != 5 || prec[0][3] != "policy_loss" {
		t.Errorf("Pareto CSV (%v):\n%s", err, data)
	}
	stdout.Reset()
	if code := dispatch([]string{"report", root, "--format", "md", "--pareto", "policy_loss,entropy", "--no-plots"}, &stdout, &stderr); code != 0 {
		t.Fatalf("report md: %d %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Pareto front of policy_loss (lower is better) and entropy (lower is better):") {
		t.Errorf("md report without the Pareto table:\n%s", stdout.String())
	}
	for _, bad := range []string{"policy_loss", "policy_loss,policy_loss", "a,b,c", ","} {
		if code := dispatch([]string{"report", root, "--pareto", bad}, &stdout, &stderr); code != 2 {
			t.Errorf("--pareto %q: exit %d, want 2", bad, code)
		}
	}
	for _, bad := range []string{"250", "100,100", "abc", "100,"} {
		stderr.Reset()
		if code := dispatch([]string{"report", root, "--at", bad}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--at") {
			t.Errorf("--at %q: exit %d, want 2 naming --at: %s", bad, code, stderr.String())
		}
	}
	// --versus needs tasks judged by regret: these fake runs have none.
	stderr.Reset()
	if code := dispatch([]string{"report", root, "--versus", "graph=learned lr=0.001"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "no task judged by regret") {
		t.Errorf("--versus without regret tasks: exit %d, want 2: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := dispatch([]string{"report", root, "--pareto", "latency_p99,entropy"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "policy_loss") {
		t.Errorf("--pareto with a missing metric: exit %d, %s", code, stderr.String())
	}
}

// TestReportPooledDirs: `report DIR DIR --out OUT` pools two sweeps (a
// study's rounds on different seeds) into one set of cells; several DIRs
// without --out, and a directory given twice (every seed twice), are
// refused with exit 2 before any file is written.
func TestReportPooledDirs(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "runs")
	writeFile(t, filepath.Join(tmp, "base.toml"), sweepBaseTOML)
	for name, seeds := range map[string]string{"round1": "[1, 2]", "round2": "[3]"} {
		sw := filepath.Join(tmp, name+".toml")
		writeFile(t, sw, `name = "`+name+`"
base = "base.toml"
seeds = `+seeds+`
out_dir = "`+out+`"
[grid]
"algorithm.fake.lr" = [1e-3, 1e-4]
`)
		var stdout, stderr bytes.Buffer
		if code := dispatch([]string{"sweep", sw, "--quiet"}, &stdout, &stderr); code != 0 {
			t.Fatalf("sweep %s: %d %s", name, code, stderr.String())
		}
	}
	r1, r2 := filepath.Join(out, "round1"), filepath.Join(out, "round2")
	pooled := filepath.Join(tmp, "pooled")
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"report", r1, r2, "--out", pooled, "--format", "csv", "--no-plots"}, &stdout, &stderr); code != 0 {
		t.Fatalf("pooled report: %d %s", code, stderr.String())
	}
	recs, err := csv.NewReader(&stdout).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][4] != "3" || recs[2][4] != "3" {
		t.Fatalf("pooled cells should hold 3 seeds each (%v): %v", err, recs)
	}
	if _, err := os.Stat(filepath.Join(pooled, "report.csv")); err != nil {
		t.Errorf("pooled report's files: %v", err)
	}
	refused := filepath.Join(tmp, "refused")
	for _, c := range []struct {
		args []string
		why  string
	}{
		{[]string{"report", r1, r2}, "give --out"},                                                  // several DIRs, no --out
		{[]string{"report", r1, r1, "--out", refused}, "same variant, task and seed twice"},         // every seed twice
		{[]string{"report", r1, filepath.Join(tmp, "nope"), "--out", refused}, "no such directory"}, // a missing second DIR
	} {
		stderr.Reset()
		if code := dispatch(c.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.why) {
			t.Errorf("%v: exit %d, want 2 saying %q: %s", c.args, code, c.why, stderr.String())
		}
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("a refused report wrote its output directory: %v", err)
	}
}
