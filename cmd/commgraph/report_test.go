package main

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

func TestReportCommand(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "runs")
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"sweep", sweepFiles(t, out), "--jobs", "2", "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("sweep: %d %s", code, stderr.String())
	}
	root := filepath.Join(out, "abl")
	for _, format := range []string{"md", "ascii"} {
		stdout.Reset()
		if code := dispatch([]string{"report", root, "--format", format}, &stdout, &stderr); code != 0 {
			t.Fatalf("report: %d %s", code, stderr.String())
		}
		s := stdout.String()
		for _, want := range []string{"graph=learned lr=0.001", "graph=none lr=0.0001", "fake-task: eval_return IQM", "(n=3)", "curve-fake-task.png"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s report lacks %q:\n%s", format, want, s)
			}
		}
		if testing.Verbose() {
			t.Log("\n" + s)
		}
	}
	stdout.Reset()
	if code := dispatch([]string{"report", root, "--format", "json", "--no-plots"}, &stdout, &stderr); code != 0 {
		t.Fatalf("report json: %d %s", code, stderr.String())
	}
	var me map[string]map[string]map[string]map[string]map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &me); err != nil {
		t.Fatalf("marl-eval JSON: %v", err)
	}
	if n := len(me["fake"]["fake-task"]["graph=learned lr=0.001"]); n != 3 {
		t.Errorf("marl-eval runs of one variant: %d, want 3 seeds", n)
	}
	f, err := os.Open(filepath.Join(root, "report", "curve-fake-task.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := image.Decode(f); err != nil {
		t.Errorf("curve PNG: %v", err)
	}
	stderr.Reset()
	if code := dispatch([]string{"report", tmp + "/nothing"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tmp+"/nothing") {
		t.Errorf("report of a missing dir: %d %s", code, stderr.String())
	}
	if code := dispatch([]string{"report", root, "--format", "html"}, &stdout, &stderr); code != 2 {
		t.Errorf("--format html: %d", code)
	}
}
