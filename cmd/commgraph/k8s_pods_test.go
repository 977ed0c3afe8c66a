package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestK8sJobPodsRunLocally plays the emitted Indexed Job's pods without a
// cluster: for every completion index it runs the container's command,
// with $(JOB_COMPLETION_INDEX) substituted, from the container's
// workingDir, and checks that every trial finished and that all results
// landed under the volume's mountPath (where the PersistentVolumeClaim
// keeps them). What a cluster adds (image, scheduling, the claim) is not
// exercised here; docs/configuration.md says what is and is not checked.
func TestK8sJobPodsRunLocally(t *testing.T) {
	experimentstest.Register()
	work := t.TempDir() // the image's /work
	if err := os.MkdirAll(filepath.Join(work, "configs", "sweeps"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "configs", "base.toml"), strings.Replace(sweepBaseTOML, "iterations = 7", "iterations = 3", 1))
	writeFile(t, filepath.Join(work, "configs", "sweeps", "pods.toml"), `name = "pods"
base = "../base.toml"
seeds = [1, 2]
[grid]
"algorithm.fake.lr" = [1e-3, 1e-4]
[k8s]
working_dir = "`+work+`"
mount_path = "`+filepath.Join(work, "runs")+`"
`)
	t.Chdir(work)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"sweep", "configs/sweeps/pods.toml", "--emit", "k8s", "--out", "-"}, &out, &errb); code != 0 {
		t.Fatalf("emit: %d %s", code, errb.String())
	}
	job := parseJobForPods(t, out.String())
	if job.completions != 4 || job.workingDir != work || job.mountPath != filepath.Join(work, "runs") || len(job.command) < 2 || job.command[0] != "commgraph" {
		t.Fatalf("job: %+v", job)
	}
	os.RemoveAll(filepath.Join(work, "runs")) // a fresh volume
	for i := range job.completions {
		args := make([]string, 0, len(job.command)-1)
		for _, a := range job.command[1:] {
			args = append(args, strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
		}
		t.Chdir(job.workingDir)
		if code := dispatch(args, &out, &errb); code != 0 {
			t.Fatalf("pod %d: commgraph %s: exit %d: %s", i, strings.Join(args, " "), code, errb.String())
		}
	}
	done, _ := filepath.Glob(filepath.Join(job.mountPath, "pods", "*", "seed-*", "DONE"))
	if len(done) != 4 {
		t.Errorf("%d trials finished on the volume, want 4: %v", len(done), done)
	}
	// Nothing outside the volume but the configs the image carries.
	entries, _ := os.ReadDir(work)
	for _, e := range entries {
		if e.Name() != "configs" && e.Name() != "runs" {
			t.Errorf("a pod wrote %s outside the volume", e.Name())
		}
	}
}

type podJob struct {
	completions           int
	workingDir, mountPath string
	command               []string
}

// parseJobForPods reads the fields a pod needs from the emitted manifest
// (block YAML whose strings are all double-quoted).
func parseJobForPods(t *testing.T, manifest string) podJob {
	t.Helper()
	var j podJob
	unq := func(v string) string {
		s, err := strconv.Unquote(strings.TrimSpace(v))
		if err != nil {
			t.Fatalf("value %q is not a double-quoted string: %v", v, err)
		}
		return s
	}
	inCommand := false
	sc := bufio.NewScanner(strings.NewReader(manifest))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if inCommand {
			if v, ok := strings.CutPrefix(line, "- "); ok {
				j.command = append(j.command, unq(v))
				continue
			}
			inCommand = false
		}
		key, v, _ := strings.Cut(line, ":")
		switch key {
		case "completions":
			j.completions, _ = strconv.Atoi(strings.TrimSpace(v))
		case "workingDir":
			j.workingDir = unq(v)
		case "mountPath":
			j.mountPath = unq(v)
		case "command":
			inCommand = true
		}
	}
	return j
}
