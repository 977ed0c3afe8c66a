package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestRunHelperProcess is not a test: the tests below re-execute the test
// binary with COMMGRAPH_HELPER set to run the CLI with the fake algorithm
// registered (it exists only in tests).
func TestRunHelperProcess(t *testing.T) {
	args := os.Getenv("COMMGRAPH_HELPER")
	if args == "" {
		t.Skip("helper process only")
	}
	experimentstest.Register()
	if d := os.Getenv("COMMGRAPH_FAKE_DELAY"); d != "" {
		experimentstest.Delay, _ = time.ParseDuration(d)
	}
	if os.Getenv("COMMGRAPH_HELPER_CRASH") != "" {
		// A crash outside dispatch's recover: the Go runtime exits with 2.
		go func() { panic("helper crash") }()
		time.Sleep(time.Minute)
	}
	code := dispatch(strings.Split(args, "\x1f"), os.Stdout, os.Stderr)
	if os.Getenv(supervisedEnv) != "" {
		code = childStatus(code)
	}
	os.Exit(code)
}

func helperCmd(t *testing.T, delay string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunHelperProcess$")
	cmd.Env = append(os.Environ(), "COMMGRAPH_HELPER="+strings.Join(args, "\x1f"), "COMMGRAPH_FAKE_DELAY="+delay)
	return cmd
}

const fakeRunTOML = `name = "kill"
seeds = [7]
[env]
kind = "fake"
[algorithm]
kind = "fake"
[budget]
iterations = 60
[eval]
every = 5
[log]
graph_every = 4
timing = false
[checkpoint]
every = 3
`

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runHelper(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := helperCmd(t, "", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("commgraph %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// waitRows waits until metrics.jsonl in dir has at least n lines.
func waitRows(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never reached %d rows", path, n)
}

// compareRunDirs checks that two run directories hold the same results.
func compareRunDirs(t *testing.T, a, b string) {
	t.Helper()
	files := []string{"metrics.csv", "metrics.jsonl", "summary.json", "DONE"}
	graphs, _ := filepath.Glob(filepath.Join(a, "graphs", "*.json"))
	if len(graphs) == 0 {
		t.Fatal("no graph snapshots")
	}
	for _, g := range graphs {
		files = append(files, filepath.Join("graphs", filepath.Base(g)))
	}
	for _, f := range files {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %v %v", f, err1, err2)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs from the uninterrupted run", f)
		}
	}
	gb, _ := filepath.Glob(filepath.Join(b, "graphs", "*.json"))
	if len(gb) != len(graphs) {
		t.Errorf("graph snapshots: %d vs %d", len(gb), len(graphs))
	}
}

// checkNoHalfFiles checks that every file of a run directory is complete.
func checkNoHalfFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		if strings.HasSuffix(p, ".json") {
			b, _ := os.ReadFile(p)
			if !json.Valid(b) {
				t.Errorf("%s is not valid JSON", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("metrics.jsonl line %d is not valid JSON", i+1)
		}
	}
	if _, err := experiments.ReadMetricsCSV(filepath.Join(dir, "metrics.csv")); err != nil {
		t.Error(err)
	}
}

func TestRunKilledAndResumedEqualsUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "kill.toml")
	writeFile(t, cfgPath, fakeRunTOML)
	refOut, killOut := filepath.Join(tmp, "ref"), filepath.Join(tmp, "killed")
	stdout := runHelper(t, "run", cfgPath, "--out", refOut, "--quiet")
	if !strings.Contains(stdout, "finished after 60 iterations") {
		t.Errorf("stdout: %s", stdout)
	}

	// Kill with SIGKILL twice at different points, then let it finish.
	for _, rows := range []int{10, 29} {
		cmd := helperCmd(t, "15ms", "run", cfgPath, "--out", killOut)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitRows(t, filepath.Join(killOut, "kill", "seed-7", "metrics.jsonl"), rows)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if _, err := os.Stat(filepath.Join(killOut, "kill", "seed-7", "DONE")); err == nil {
			t.Fatal("run finished before it was killed; the test did not test anything")
		}
	}
	stdout = runHelper(t, "run", cfgPath, "--out", killOut)
	if !strings.Contains(stdout, "finished after 60 iterations") {
		t.Errorf("stdout: %s", stdout)
	}
	a, b := filepath.Join(refOut, "kill", "seed-7"), filepath.Join(killOut, "kill", "seed-7")
	compareRunDirs(t, a, b)
	checkNoHalfFiles(t, b)
	var meta experiments.Meta
	data, _ := os.ReadFile(filepath.Join(b, "meta.json"))
	if err := json.Unmarshal(data, &meta); err != nil || len(meta.Attempts) != 3 || meta.GoVersion == "" || meta.GOMAXPROCS < 1 {
		t.Errorf("meta.json: %v %+v", err, meta)
	}
	// A finished run is not redone.
	if out := runHelper(t, "run", cfgPath, "--out", killOut); !strings.Contains(out, "not redone") {
		t.Errorf("rerun of a finished run: %s", out)
	}
}

func TestRunSIGINTCheckpointsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "kill.toml")
	writeFile(t, cfgPath, fakeRunTOML)
	refOut, intOut := filepath.Join(tmp, "ref"), filepath.Join(tmp, "int")
	runHelper(t, "run", cfgPath, "--out", refOut, "--quiet")
	cmd := helperCmd(t, "15ms", "run", cfgPath, "--out", intOut)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRows(t, filepath.Join(intOut, "kill", "seed-7", "metrics.jsonl"), 8)
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("stderr: %s", errb.String())
	}
	dir := filepath.Join(intOut, "kill", "seed-7")
	rows, _ := experiments.ReadMetricsJSONL(filepath.Join(dir, "metrics.jsonl"))
	last := int(rows[len(rows)-1]["iteration"])
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "iter-"+pad6(last)+".ckpt")); err != nil {
		t.Errorf("no checkpoint at the last logged iteration %d: %v", last, err)
	}
	runHelper(t, "run", cfgPath, "--out", intOut)
	compareRunDirs(t, filepath.Join(refOut, "kill", "seed-7"), dir)
}

func pad6(n int) string { return fmt.Sprintf("%06d", n) }

func TestRunBadInput(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "bad.toml")
	writeFile(t, bad, "name = \"x\"\n[algorithm.commformer]\nlrr = 1\n")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", bad}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "bad.toml:3") || !strings.Contains(errb.String(), "algorithm.commformer.lrr") {
		t.Errorf("unknown key: code %d, %s", code, errb.String())
	}
	good := filepath.Join(tmp, "good.toml")
	writeFile(t, good, "name = \"x\"\n")
	errb.Reset()
	if code := dispatch([]string{"run", good, "--set", "algorithm.commformer.lr=abc"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "algorithm.commformer.lr") {
		t.Errorf("bad override: code %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"run", good, "--set", "algorithm.commformer.sparsity=3"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "algorithm.commformer.sparsity") {
		t.Errorf("out-of-range override: code %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"run"}, &out, &errb); code != 2 {
		t.Errorf("no file: code %d", code)
	}
	if entries, _ := os.ReadDir(filepath.Join(tmp, "runs")); len(entries) > 0 {
		t.Errorf("bad input left output behind")
	}
}

// TestConcurrentRunRefused: a second process running into the directory of
// a run in progress is refused at once (exit 1), naming the holder's pid;
// the first run finishes with the same files as an undisturbed one.
func TestConcurrentRunRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "kill.toml")
	writeFile(t, cfgPath, fakeRunTOML)
	refOut, out := filepath.Join(tmp, "ref"), filepath.Join(tmp, "out")
	runHelper(t, "run", cfgPath, "--out", refOut, "--quiet")
	first := helperCmd(t, "10ms", "run", cfgPath, "--out", out, "--quiet")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "kill", "seed-7")
	waitRows(t, filepath.Join(dir, "metrics.jsonl"), 3)
	second := helperCmd(t, "", "run", cfgPath, "--out", out, "--quiet")
	var errb bytes.Buffer
	second.Stderr = &errb
	err := second.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(errb.String(), fmt.Sprintf("in use by pid %d ", first.Process.Pid)) {
		t.Errorf("second run: %v\n%s", err, errb.String())
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	compareRunDirs(t, filepath.Join(refOut, "kill", "seed-7"), dir)
}

// TestGraphSummaryOneStepHint: an undecided graph is called undecided; the
// hint about the one-step design-space form appears only for that form (a
// predator-prey run's graph used to get it too).
func TestGraphSummaryOneStepHint(t *testing.T) {
	for _, oneStep := range []bool{false, true} {
		g := &experiments.GraphSummary{Variant: "learned", K: 1, UndecidedRows: 2, OneStep: oneStep,
			Rows: []experiments.GraphRow{{Agent: "a", Senders: []string{"b"}}, {Agent: "b", Senders: []string{"a"}}}}
		var buf bytes.Buffer
		printGraphSummary(&buf, g)
		out := buf.String()
		if !strings.Contains(out, "no row is decided") {
			t.Errorf("one-step %v: no undecided note in %q", oneStep, out)
		}
		if got := strings.Contains(out, "bandit form"); got != oneStep {
			t.Errorf("one-step %v: bandit-form hint shown = %v in %q", oneStep, got, out)
		}
	}
}
