package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// killAtRandom starts the CLI helper with args and SIGKILLs it after a
// delay drawn from rng (any instant: start-up, mid-iteration, mid-write of
// a checkpoint or of the metrics), several times, until done reports that
// the work finished; it returns how many kills landed before the end.
func killAtRandom(t *testing.T, rng *rand.Rand, kills int, maxDelay time.Duration, done func() bool, args ...string) int {
	t.Helper()
	landed := 0
	for range kills {
		if done() {
			break
		}
		cmd := helperCmd(t, "3ms", args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(maxDelay))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		landed++
	}
	return landed
}

// TestFaultInjection: SIGKILL at random instants of a run, a sweep and a
// dram sweep, then a plain rerun, gives byte-identical results to
// undisturbed ones; and
// each kind of damaged run file stops a resume with an error naming it.
func TestFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	experimentstest.Register()
	rng := rand.New(rand.NewPCG(10, 0xfa17))
	start := time.Now()
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "kill.toml")
	writeFile(t, cfgPath, fakeRunTOML)

	// A run.
	refOut, killOut := filepath.Join(tmp, "ref"), filepath.Join(tmp, "killed")
	runHelper(t, "run", cfgPath, "--out", refOut, "--quiet")
	dir := filepath.Join(killOut, "kill", "seed-7")
	n := killAtRandom(t, rng, 5, 250*time.Millisecond, func() bool { return isFile(filepath.Join(dir, "DONE")) }, "run", cfgPath, "--out", killOut, "--quiet")
	runHelper(t, "run", cfgPath, "--out", killOut, "--quiet")
	ref := filepath.Join(refOut, "kill", "seed-7")
	compareRunDirs(t, ref, dir)
	checkNoHalfFiles(t, dir)
	t.Logf("run: %d kills before the end (%v)", n, time.Since(start))

	// A sweep of 4 trials (2 x 2 grid, one seed) with 2 jobs.
	swRef, swKill := sweepFiles(t, filepath.Join(tmp, "swref")), sweepFiles(t, filepath.Join(tmp, "swkill"))
	runHelper(t, "sweep", swRef, "--jobs", "2", "--quiet", "--set", "seeds=[1]", "--set", "budget.iterations=9")
	n = killAtRandom(t, rng, 4, 400*time.Millisecond, func() bool { return false }, "sweep", swKill, "--jobs", "2", "--quiet", "--set", "seeds=[1]", "--set", "budget.iterations=9")
	runHelper(t, "sweep", swKill, "--jobs", "2", "--quiet", "--set", "seeds=[1]", "--set", "budget.iterations=9")
	a, b := runDirFiles(t, filepath.Join(tmp, "swref")), runDirFiles(t, filepath.Join(tmp, "swkill"))
	if len(a) == 0 || len(a) != len(b) {
		t.Errorf("sweep files: %d undisturbed, %d killed and resumed", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("sweep: %s differs after kills and resume", k)
		}
	}
	t.Logf("sweep: %d kills (%v)", n, time.Since(start))

	// A dram sweep of a 192-configuration sub-space in chunks of 8 with 2
	// workers: kills land at random instants of its undisturbed duration
	// (between chunks, mid-simulation, mid-append to the .partial file, or
	// mid-rename of the finished table); a plain rerun resumes from the
	// .partial file and writes the same table, byte for byte.
	dramArgs := func(out string) []string {
		return []string{"dram", "sweep", "--trace", "stream", "--out", out, "--jobs", "2", "--chunk", "8",
			"--fix", "PagePolicy=OpenAdaptive", "--fix", "Scheduler=FrFcfs", "--fix", "SchedulerBuffer=Shared",
			"--fix", "RespQueue=Fifo", "--fix", "RefreshPolicy=AllBank", "--fix", "RefreshMaxPostponed=2",
			"--fix", "RefreshMaxPulledin=2"}
	}
	dramRef, dramKill := filepath.Join(tmp, "dram", "ref.sweep"), filepath.Join(tmp, "dram", "killed.sweep")
	t0 := time.Now()
	runHelper(t, dramArgs(dramRef)...)
	took := time.Since(t0)
	n = killAtRandom(t, rng, 6, took, func() bool { return isFile(dramKill) }, dramArgs(dramKill)...)
	runHelper(t, dramArgs(dramKill)...)
	want, err := os.ReadFile(dramRef)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dramKill); err != nil || !bytes.Equal(got, want) {
		t.Errorf("dram sweep: the table after kills and a resume differs from the undisturbed one (%d and %d bytes, %v)", len(got), len(want), err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "dram", "*")); len(left) != 2 {
		t.Errorf("dram sweep: files left next to the tables: %v", left)
	}
	t.Logf("dram sweep: %d kills within its undisturbed %v (%v)", n, took.Round(time.Millisecond), time.Since(start))

	// Damaged files: each stops the rerun with an error naming the file.
	damage := []struct {
		name   string
		mutate func(d string)
		want   func(d string) string
	}{
		{"checkpoint bit flip", func(d string) {
			p := newestCkpt(t, d)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x10
			os.WriteFile(p, b, 0o644)
		}, newestCkptName},
		{"checkpoint truncated", func(d string) {
			p := newestCkpt(t, d)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/3], 0o644)
		}, newestCkptName},
		{"metrics line", func(d string) {
			p := filepath.Join(d, "metrics.jsonl")
			b, _ := os.ReadFile(p)
			lines := strings.SplitAfter(string(b), "\n")
			lines[9] = "{\"iteration\":10,\"en\x00\n"
			os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644)
		}, func(d string) string { return filepath.Join(d, "metrics.jsonl") + ":10:" }},
		{"config", func(d string) {
			os.WriteFile(filepath.Join(d, "config.toml"), []byte("name = \"kill\"\n[budget\n"), 0o644)
		}, func(d string) string { return "config.toml does not parse" }},
	}
	for i, dm := range damage {
		out := filepath.Join(tmp, "damaged", string(rune('a'+i)))
		var stdout, errb bytes.Buffer
		if code := dispatch([]string{"run", cfgPath, "--out", out, "--quiet", "--set", "budget.iterations=12"}, &stdout, &errb); code != 0 {
			t.Fatalf("%s: first run: %s", dm.name, errb.String())
		}
		d := filepath.Join(out, "kill", "seed-7")
		os.Remove(filepath.Join(d, "DONE"))
		os.Remove(filepath.Join(d, "summary.json"))
		dm.mutate(d)
		errb.Reset()
		code := dispatch([]string{"run", cfgPath, "--out", out, "--quiet", "--set", "budget.iterations=12"}, &stdout, &errb)
		if code != exitFailure || !strings.Contains(errb.String(), dm.want(d)) {
			t.Errorf("%s: exit %d, stderr %q", dm.name, code, errb.String())
		}
	}
	// A finished run whose summary is damaged is named too.
	out := filepath.Join(tmp, "damaged", "summary")
	var stdout, errb bytes.Buffer
	if code := dispatch([]string{"run", cfgPath, "--out", out, "--quiet", "--set", "budget.iterations=12"}, &stdout, &errb); code != 0 {
		t.Fatalf("summary: first run: %s", errb.String())
	}
	d := filepath.Join(out, "kill", "seed-7")
	writeFile(t, filepath.Join(d, "summary.json"), "{\"name\": ")
	errb.Reset()
	if code := dispatch([]string{"run", cfgPath, "--out", out, "--quiet", "--set", "budget.iterations=12"}, &stdout, &errb); code != exitFailure || !strings.Contains(errb.String(), filepath.Join(d, "summary.json")) {
		t.Errorf("damaged summary: exit %d, stderr %q", code, errb.String())
	}
}

// newestCkpt returns the newest checkpoint of a run directory.
func newestCkpt(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "iter-*.ckpt"))
	if len(m) == 0 {
		t.Fatalf("no checkpoints in %s", dir)
	}
	return m[len(m)-1] // zero-padded names sort by iteration
}

func newestCkptName(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "iter-*.ckpt"))
	if len(m) == 0 {
		return "(no checkpoint)"
	}
	return m[len(m)-1]
}

func isFile(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
