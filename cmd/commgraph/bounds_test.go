package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestUnboundedInputsRefused: a PNG export or a sweep grid too large for
// memory is refused before any work, naming the flags or keys, with the
// flag or key that raises the limit; raising it lets the same input
// through.
func TestUnboundedInputsRefused(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	runs := filepath.ToSlash(filepath.Join(tmp, "runs"))
	cfg := filepath.Join(tmp, "r.toml")
	writeFile(t, cfg, "name = \"r\"\nout_dir = \""+runs+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n[log]\ntiming = false\n")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", cfg, "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("run: %s", errb.String())
	}
	dir := filepath.Join(tmp, "runs", "r", "seed-1")
	errb.Reset()
	code := dispatch([]string{"graph", "export", dir, "--format", "png", "--width", "40000", "--height", "40000", "--out", filepath.Join(tmp, "g.png")}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "--width 40000 x --height 40000") || !strings.Contains(errb.String(), "GiB") || !strings.Contains(errb.String(), "--max-memory") {
		t.Errorf("huge PNG: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"graph", "export", dir, "--format", "png", "--width", "800", "--height", "600", "--max-memory", "0.001", "--out", filepath.Join(tmp, "g.png")}, &out, &errb); code != exitUsage {
		t.Errorf("PNG over a lowered limit: exit %d, %s", code, errb.String())
	}
	// A GIF holds every frame until it is encoded: 800 x 600 fits a limit
	// of 0.0055 GiB (5.9 MB) as one PNG (5.8 MB) but not as a GIF of the
	// run's snapshots (+0.48 MB a frame).
	snaps, _ := filepath.Glob(filepath.Join(dir, "graphs", "iter-*.json"))
	errb.Reset()
	if code := dispatch([]string{"graph", "export", dir, "--format", "png", "--width", "800", "--height", "600", "--max-memory", "0.0055", "--out", filepath.Join(tmp, "g.png")}, &out, &errb); code != 0 {
		t.Errorf("PNG under the limit: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	code = dispatch([]string{"graph", "export", dir, "--format", "gif", "--width", "800", "--height", "600", "--max-memory", "0.0055", "--out", filepath.Join(tmp, "g.gif")}, &out, &errb)
	if want := fmt.Sprintf("%d snapshots: a GIF", len(snaps)); code != exitUsage || !strings.Contains(errb.String(), want) || len(snaps) == 0 {
		t.Errorf("GIF of %d frames over the limit: exit %d, %s", len(snaps), code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"run", cfg, "--max-memory", "-1"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "--max-memory") {
		t.Errorf("negative --max-memory: exit %d, %s", code, errb.String())
	}
	sweep := func(maxTrials int) string {
		p := filepath.Join(tmp, fmt.Sprintf("sw%d.toml", maxTrials))
		writeFile(t, p, fmt.Sprintf("name = \"sw\"\nbase = \"r.toml\"\nseeds = [1, 2]\nmax_trials = %d\n[grid]\n\"algorithm.fake.lr\" = [0.1, 0.2, 0.3]\n\"algorithm.fake.batch\" = [1, 2]\n", maxTrials))
		return p
	}
	errb.Reset()
	code = dispatch([]string{"sweep", sweep(11), "--list"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "12 trials (algorithm.fake.lr (3 values) x algorithm.fake.batch (2 values) x 2 seeds), above max_trials = 11") {
		t.Errorf("sweep above max_trials: exit %d, %s", code, errb.String())
	}
	out.Reset()
	if code := dispatch([]string{"sweep", sweep(12), "--list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "12 trials") {
		t.Errorf("sweep at max_trials: exit %d, %s%s", code, out.String(), errb.String())
	}
}
