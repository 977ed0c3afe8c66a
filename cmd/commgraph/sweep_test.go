package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

const sweepBaseTOML = `name = "base"
[env]
kind = "fake"
[algorithm]
kind = "fake"
[budget]
iterations = 7
[eval]
every = 3
[log]
timing = false
graph_every = 2
[checkpoint]
every = 2
`

func sweepFiles(t *testing.T, out string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "base.toml"), sweepBaseTOML)
	p := filepath.Join(dir, "abl.toml")
	writeFile(t, p, `name = "abl"
base = "base.toml"
seeds = [1, 2, 3]
out_dir = "`+out+`"
[grid]
"algorithm.commformer.graph" = ["learned", "none"]
"algorithm.commformer.lr" = [1e-3, 1e-4]
[slurm]
limit = 4
[k8s]
parallelism = 3
mount_path = "`+out+`"
`)
	return p
}

// runDirFiles maps relative paths of result files under root to contents.
func runDirFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		base := filepath.Base(p)
		if base == "meta.json" || base == "config.toml" || strings.HasSuffix(base, ".ckpt") {
			return nil // wall-clock facts, output paths, and pruned checkpoints
		}
		b, _ := os.ReadFile(p)
		out[rel] = string(b)
		return nil
	})
	return out
}

func TestSweepIndexTrialsEqualLocalRun(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	localOut, idxOut := filepath.Join(tmp, "local"), filepath.Join(tmp, "idx")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"sweep", sweepFiles(t, localOut), "--jobs", "3", "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("local sweep: %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "12 ran, 0 already done, 0 failed") {
		t.Errorf("local sweep output:\n%s", out.String())
	}
	idxSweep := sweepFiles(t, idxOut)
	for i := range 12 {
		out.Reset()
		if code := dispatch([]string{"sweep", idxSweep, "--index", strconv.Itoa(i), "--quiet"}, &out, &errb); code != 0 {
			t.Fatalf("--index %d: %d\n%s", i, code, errb.String())
		}
		if !strings.Contains(out.String(), "1 ran") {
			t.Errorf("--index %d ran: %s", i, out.String())
		}
	}
	a, b := runDirFiles(t, localOut), runDirFiles(t, idxOut)
	if len(a) < 12*5 {
		t.Fatalf("only %d files in the local run", len(a))
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s differs between the local run and the --index runs", k)
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d files vs %d", len(a), len(b))
	}
	// Re-running skips finished trials.
	out.Reset()
	if code := dispatch([]string{"sweep", idxSweep, "--jobs", "2"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "0 ran, 12 already done") {
		t.Errorf("re-run: %d %s", code, out.String())
	}
	errb.Reset()
	if code := dispatch([]string{"sweep", idxSweep, "--index", "12"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "0..11") {
		t.Errorf("--index out of range: %d %s", code, errb.String())
	}
}

func TestSweepEmit(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	p := sweepFiles(t, filepath.Join(tmp, "runs"))
	var out, errb bytes.Buffer
	dest := filepath.Join(tmp, "abl.sbatch")
	if code := dispatch([]string{"sweep", p, "--emit", "slurm", "--out", dest}, &out, &errb); code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	script, _ := os.ReadFile(dest)
	if !strings.Contains(string(script), "#SBATCH --array=0-11%4\n") {
		t.Errorf("array range:\n%s", script)
	}
	if o, err := exec.Command("bash", "-n", dest).CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v %s", err, o)
	}
	kdest := filepath.Join(tmp, "job.yaml")
	if code := dispatch([]string{"sweep", p, "--emit", "k8s", "--out", kdest}, &out, &errb); code != 0 {
		t.Fatalf("%d %s", code, errb.String())
	}
	man, _ := os.ReadFile(kdest)
	for _, want := range []string{"completionMode: \"Indexed\"\n", "completions: 12\n", "parallelism: 3\n", "$(JOB_COMPLETION_INDEX)"} {
		if !strings.Contains(string(man), want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	if code := dispatch([]string{"sweep", p, "--emit", "pbs"}, &out, &errb); code != 2 {
		t.Errorf("--emit pbs: %d", code)
	}
	if _, err := os.Stat(filepath.Join(tmp, "runs", "abl", "trials.jsonl")); err != nil {
		t.Error(err)
	}
}
