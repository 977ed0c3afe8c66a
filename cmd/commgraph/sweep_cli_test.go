package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestSweepListHasNoSideEffects: --list writes nothing and honours
// --set seeds=[...] (which replaces the sweep file's seeds, also for runs
// and emitted jobs).
func TestSweepListHasNoSideEffects(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	root := filepath.Join(tmp, "runs")
	p := sweepFiles(t, root) // 4 grid points x seeds [1, 2, 3]
	var out, errb bytes.Buffer
	if code := dispatch([]string{"sweep", p, "--list"}, &out, &errb); code != 0 {
		t.Fatalf("--list: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "12 trials") {
		t.Errorf("--list:\n%s", out.String())
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("--list created %s (%v)", root, err)
	}
	out.Reset()
	if code := dispatch([]string{"sweep", p, "--list", "--set", "seeds=[7]"}, &out, &errb); code != 0 {
		t.Fatalf("--list --set seeds: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "4 trials") || !strings.Contains(out.String(), "seed 7 ") || strings.Contains(out.String(), "seed 1 ") {
		t.Errorf("--set seeds=[7] not honoured:\n%s", out.String())
	}
	out.Reset()
	if code := dispatch([]string{"sweep", p, "--list", "--set", "seed=9"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "4 trials") || !strings.Contains(out.String(), "seed 9 ") {
		t.Errorf("--set seed=9: %d\n%s", code, out.String())
	}
	// An emitted job with the same --set runs those trials: its index range
	// is 0-3.
	out.Reset()
	if code := dispatch([]string{"sweep", p, "--emit", "slurm", "--out", "-", "--set", "seeds=[7]"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "#SBATCH --array=0-3%4\n") {
		t.Errorf("emit with --set seeds: %d\n%s", code, out.String())
	}
}

// TestSweepEmitToStdout: --out - writes the job to stdout, the note to
// stderr, and no file named "-".
func TestSweepEmitToStdout(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	p := sweepFiles(t, filepath.Join(tmp, "runs"))
	wd, _ := os.Getwd()
	if err := os.Chdir(tmp); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"sweep", p, "--emit", "k8s", "--out", "-"}, &out, &errb); code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "\napiVersion: \"batch/v1\"\n") || !strings.Contains(out.String(), "completions: 12\n") {
		t.Errorf("stdout is not the manifest:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "kubectl apply -f -") {
		t.Errorf("stderr: %s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(tmp, "-")); err == nil {
		t.Error("a file named - was written")
	}
}

// TestSweepFlagCombinations: flags that do not go together are refused
// before anything is written.
func TestSweepFlagCombinations(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	root := filepath.Join(tmp, "runs")
	p := sweepFiles(t, root)
	for _, args := range [][]string{
		{"--list", "--emit", "k8s"},
		{"--list", "--index", "0"},
		{"--emit", "slurm", "--index", "1"},
		{"--emit", "slurm", "--jobs", "2"},
		{"--out", filepath.Join(tmp, "x.yaml")},
		{"--jobs", "-1"},
		{"--index", "-3"},
	} {
		var out, errb bytes.Buffer
		if code := dispatch(append([]string{"sweep", p}, args...), &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage error") {
			t.Errorf("%v: exit %d, %s", args, code, errb.String())
		}
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("a refused command wrote %s", root)
	}
}

// TestK8sSweepPathInImage: the Job names the sweep file by its path in the
// image (relative to the working directory, where the Dockerfile copies
// configs/): an absolute path inside the current directory is made
// relative, and a file the image does not hold is warned about.
func TestK8sSweepPathInImage(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in, want string
		warn     bool
	}{
		{"configs/sweeps/x.toml", "configs/sweeps/x.toml", false},
		{"./configs/sweeps/x.toml", "configs/sweeps/x.toml", false},
		{filepath.Join(wd, "configs", "sweeps", "x.toml"), "configs/sweeps/x.toml", false},
		{"my_study.toml", "my_study.toml", true},
		{"../configs/x.toml", "../configs/x.toml", true},
		{"/elsewhere/configs/x.toml", "/elsewhere/configs/x.toml", true},
	} {
		got, warn := k8sSweepPath(c.in)
		if got != c.want || (warn != "") != c.warn {
			t.Errorf("%s: got %q (warning %q), want %q (warning %v)", c.in, got, warn, c.want, c.warn)
		}
	}
	// Through the CLI: the sweep file given by its absolute path from the
	// directory holding configs/ appears in the Job relative to it, without
	// a warning; from the directory above, relative with one (the image
	// built there would not hold it under configs/).
	experimentstest.Register()
	tmp := t.TempDir()
	src := sweepFiles(t, filepath.Join(tmp, "runs"))
	cfgDir := filepath.Join(tmp, "repo", "configs", "sweeps")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"abl.toml", "base.toml"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(src), f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(cfgDir, f), string(b))
	}
	abs := filepath.Join(cfgDir, "abl.toml")
	for _, c := range []struct {
		dir, want string
		warn      bool
	}{
		{filepath.Join(tmp, "repo"), "configs/sweeps/abl.toml", false},
		{tmp, "repo/configs/sweeps/abl.toml", true},
	} {
		if err := os.Chdir(c.dir); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := dispatch([]string{"sweep", abs, "--emit", "k8s", "--out", "-"}, &out, &errb)
		os.Chdir(wd)
		if code != 0 {
			t.Fatalf("from %s: exit %d %s", c.dir, code, errb.String())
		}
		if !strings.Contains(out.String(), "- \"sweep\"\n        - \""+c.want+"\"\n") {
			t.Errorf("from %s: the Job does not run %q:\n%s", c.dir, c.want, out.String())
		}
		if strings.Contains(errb.String(), "warning: ") != c.warn {
			t.Errorf("from %s: warning %v expected, stderr %s", c.dir, c.warn, errb.String())
		}
	}
}
