package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// TestExitStatusConfigErrors: every usage or configuration error exits 2
// (bad TOML, unknown key, value out of range in the file or after --set,
// bad flag value, unknown flag, missing file, bad sweep file).
func TestExitStatusConfigErrors(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.toml")
	writeFile(t, good, "name = \"x\"\nout_dir = \""+filepath.ToSlash(filepath.Join(tmp, "runs"))+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	syntax := filepath.Join(tmp, "syntax.toml")
	writeFile(t, syntax, "name = \"x\n")
	unknown := filepath.Join(tmp, "unknown.toml")
	writeFile(t, unknown, "name = \"x\"\nnosuch = 1\n")
	rng := filepath.Join(tmp, "range.toml")
	writeFile(t, rng, "name = \"x\"\n[checkpoint]\nkeep = 0\n")
	kind := filepath.Join(tmp, "kind.toml")
	writeFile(t, kind, "name = \"x\"\n[env]\nkind = \"nosuch\"\n")
	badSweep := filepath.Join(tmp, "sweep.toml")
	writeFile(t, badSweep, "name = \"s\"\nbase = \"good.toml\"\n[grid]\n\"algorithm.nosuch\" = [1, 2]\n")
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"toml syntax", []string{"run", syntax}, "syntax.toml:1"},
		{"unknown key", []string{"run", unknown}, "nosuch"},
		{"out of range in file", []string{"run", rng}, "checkpoint.keep"},
		{"unknown kind", []string{"run", kind}, "env.kind"},
		{"bad --set type", []string{"run", good, "--set", "budget.iterations=abc"}, "budget.iterations"},
		{"out of range --set", []string{"run", good, "--set", "checkpoint.keep=0"}, "checkpoint.keep"},
		{"bad flag value", []string{"run", good, "--seed", "abc"}, "seed"},
		{"unknown flag", []string{"run", good, "--nosuch"}, "nosuch"},
		{"missing file", []string{"run", filepath.Join(tmp, "missing.toml")}, "missing.toml"},
		{"bad sweep key", []string{"sweep", badSweep, "--list"}, "algorithm.nosuch"},
		{"bad sweep --set", []string{"sweep", badSweep, "--set", "x=1"}, ""},
		{"unknown command", []string{"nosuch"}, "nosuch"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := dispatch(c.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.name, code, exitUsage, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "runs")); err == nil {
		t.Errorf("a configuration error left a run directory behind")
	}
}

// TestExitStatusRuntimeFailure: a failure while running a valid config
// exits 1, never 2; so does a panic inside a command.
func TestExitStatusRuntimeFailure(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	blocker := filepath.Join(tmp, "runs")
	writeFile(t, blocker, "a file where the output root should be\n")
	good := filepath.Join(tmp, "good.toml")
	writeFile(t, good, "name = \"x\"\nout_dir = \""+filepath.ToSlash(blocker)+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", good, "--quiet"}, &out, &errb); code != exitFailure {
		t.Errorf("run into an output root that is a file: exit %d, want %d; stderr %q", code, exitFailure, errb.String())
	}
	register("test-panic", "", func([]string, io.Writer, io.Writer) error { panic("boom") })
	defer delete(commands, "test-panic")
	errb.Reset()
	if code := dispatch([]string{"test-panic"}, &out, &errb); code != exitFailure || !strings.Contains(errb.String(), "internal error: boom") {
		t.Errorf("panic: exit %d, stderr %q", code, errb.String())
	}
}

// TestSupervisorStatuses runs the CLI (the test binary's helper) as a
// supervised child: a usage error still exits 2, success 0, and a crash of
// the Go runtime (a panic in a goroutine, status 2 from the runtime) exits
// 1 with a message saying it is not a usage error.
func TestSupervisorStatuses(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.toml")
	writeFile(t, good, "name = \"x\"\nout_dir = \""+filepath.ToSlash(filepath.Join(tmp, "runs"))+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	run := func(crash bool, args ...string) (int, string) {
		env := []string{"COMMGRAPH_HELPER=" + strings.Join(args, "\x1f")}
		if crash {
			env = append(env, "COMMGRAPH_HELPER_CRASH=1")
		}
		var out, errb bytes.Buffer
		code, err := superviseExec(os.Args[0], []string{"-test.run=^TestRunHelperProcess$"}, env, &out, &errb)
		if err != nil {
			t.Fatal(err)
		}
		return code, errb.String()
	}
	if code, e := run(false, "run", good, "--nosuch"); code != exitUsage {
		t.Errorf("usage error through the supervisor: exit %d, stderr %q", code, e)
	}
	if code, e := run(false, "run", good, "--quiet"); code != exitOK {
		t.Errorf("good run through the supervisor: exit %d, stderr %q", code, e)
	}
	if code, e := run(true, "run", good); code != exitFailure || !strings.Contains(e, "not a usage error") {
		t.Errorf("crash through the supervisor: exit %d, stderr %q", code, e)
	}
}

// TestSmallInputMistakesRefused: a key given twice to --set (run, sweep) or
// --fix (dram sweep), an explicit --index -1, --jobs -1 or 0, --seed -5, a
// file as run --out, and an empty config file are usage errors, never
// silently resolved (a negative --seed used to run the config's seeds).
func TestSmallInputMistakesRefused(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.toml")
	writeFile(t, good, "name = \"x\"\nout_dir = \""+filepath.ToSlash(filepath.Join(tmp, "runs"))+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	empty := filepath.Join(tmp, "empty.toml")
	writeFile(t, empty, "# nothing here\n\n")
	sw := filepath.Join(tmp, "sw.toml")
	writeFile(t, sw, "name = \"s\"\nbase = \"good.toml\"\nseeds = [1, 2]\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"--set twice", []string{"run", good, "--set", "budget.iterations=3", "--set", "budget.iterations=4"}, "budget.iterations given twice"},
		{"sweep --set twice", []string{"sweep", sw, "--list", "--set", "algorithm.fake.lr=0.1", "--set", " algorithm.fake.lr=0.2"}, "algorithm.fake.lr given twice"},
		{"--fix twice", []string{"dram", "sweep", "--trace", "random", "--out", filepath.Join(tmp, "p.sweep"), "--fix", "Arbiter=Simple", "--fix", "Arbiter=Fifo"}, "Arbiter given twice"},
		{"--index -1", []string{"sweep", sw, "--index", "-1"}, "--index -1"},
		{"--index -2", []string{"sweep", sw, "--index", "-2"}, "--index -2"},
		{"--jobs -1", []string{"sweep", sw, "--jobs", "-1"}, "--jobs -1"},
		{"--jobs 0", []string{"sweep", sw, "--jobs", "0"}, "--jobs 0: want >= 1"},
		{"empty config", []string{"run", empty}, "sets no keys"},
		{"--seed -5", []string{"run", good, "--seed", "-5"}, "--seed -5: want a seed >= 0"},
		{"--out a file", []string{"run", good, "--out", empty}, "not a directory"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := dispatch(c.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q", c.name, code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "runs")); err == nil {
		t.Error("a refused command left a run directory behind")
	}
}

// TestSupervisedChildTakesRepeatedSignalOnce: a supervised child that gets
// the same SIGTERM twice at once (directly from a scheduler that signals
// every process, and forwarded by its parent) still stops gracefully: it
// checkpoints, exits 130, and resumes to the undisturbed files.
func TestSupervisedChildTakesRepeatedSignalOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	tmp := t.TempDir()
	cfgPath := filepath.Join(tmp, "kill.toml")
	writeFile(t, cfgPath, fakeRunTOML)
	refOut, intOut := filepath.Join(tmp, "ref"), filepath.Join(tmp, "int")
	runHelper(t, "run", cfgPath, "--out", refOut, "--quiet")
	cmd := helperCmd(t, "15ms", "run", cfgPath, "--out", intOut, "--quiet")
	cmd.Env = append(cmd.Env, supervisedEnv+"=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(intOut, "kill", "seed-7")
	waitRows(t, filepath.Join(dir, "metrics.jsonl"), 5)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted || !strings.Contains(errb.String(), "interrupted at iteration") {
		t.Fatalf("exit: %v\n%s", err, errb.String())
	}
	runHelper(t, "run", cfgPath, "--out", intOut, "--quiet")
	compareRunDirs(t, filepath.Join(refOut, "kill", "seed-7"), dir)
}

// TestExitStatusBuildErrors: configuration errors that only show when the
// run is built from its decoded config (a kind that cannot run the task, a
// memory estimate over the limit, a file the config names that is missing,
// an unreachable evaluation budget, a finished run given a changed config)
// exit 2 from run and from sweep, like errors found while decoding, and
// leave no run directory behind; a sweep with a runtime failure still exits 1.
func TestExitStatusBuildErrors(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	runs := filepath.ToSlash(filepath.Join(tmp, "runs"))
	cfg := func(name, body string) string {
		p := filepath.Join(tmp, name+".toml")
		writeFile(t, p, "name = \""+name+"\"\nout_dir = \""+runs+"\"\n"+body)
		return p
	}
	notSpace := cfg("notspace", "[env]\nkind = \"predprey\"\n[algorithm]\nkind = \"random\"\n[budget]\niterations = 2\n")
	tooBig := cfg("toobig", "[env]\nkind = \"predprey\"\n[algorithm]\nkind = \"commformer\"\n[algorithm.commformer]\nembed_dim = 4096\nblocks = 64\n[budget]\niterations = 2\n")
	noTrace := cfg("notrace", "[env]\nkind = \"dram\"\n[env.dram]\ntrace = \""+filepath.ToSlash(filepath.Join(tmp, "missing.stl"))+"\"\n[algorithm]\nkind = \"random\"\n[budget]\niterations = 2\n")
	unreachable := cfg("unreachable", "[env]\nkind = \"synthetic\"\n[env.synthetic]\nknobs = 2\nvalues = 2\npairs = 1\n[algorithm]\nkind = \"random\"\n[budget]\niterations = 0\nevaluations = 1000000\n")
	sweep := filepath.Join(tmp, "sw.toml")
	writeFile(t, sweep, "name = \"sw\"\nbase = \"toobig.toml\"\nseeds = [1, 2]\n")
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"algorithm cannot run the task", []string{"run", notSpace, "--quiet"}, "algorithm.kind"},
		{"memory estimate over the limit", []string{"run", tooBig, "--quiet"}, "embed_dim"},
		{"missing trace file", []string{"run", noTrace, "--quiet"}, "missing.stl"},
		{"unreachable evaluation budget", []string{"run", unreachable, "--quiet"}, "budget.evaluations"},
		{"sweep of unbuildable trials", []string{"sweep", sweep, "--quiet"}, "embed_dim"},
		{"one trial of it", []string{"sweep", sweep, "--quiet", "--index", "1"}, "embed_dim"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := dispatch(c.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d (want %d), stderr %q", c.name, code, exitUsage, errb.String())
		}
	}
	for _, name := range []string{"notspace", "toobig", "notrace", "unreachable", "sw/seed-1", "sw/seed-2"} {
		if _, err := os.Stat(filepath.Join(tmp, "runs", name)); err == nil {
			t.Errorf("%s: a configuration error left a run directory behind", name)
		}
	}

	// A finished run given a changed config is refused as a configuration
	// error, from run and from a sweep that reruns it.
	good := cfg("good", "[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", good, "--quiet"}, &out, &errb); code != exitOK {
		t.Fatalf("good run: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{"run", good, "--quiet", "--set", "budget.iterations=3"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "different configuration") {
		t.Errorf("changed config of a finished run: exit %d, stderr %q", code, errb.String())
	}

	// A runtime failure of a sweep keeps status 1.
	writeFile(t, filepath.Join(tmp, "runs", "mixed"), "a file where the sweep's directory should be\n")
	mixed := filepath.Join(tmp, "mixed.toml")
	writeFile(t, mixed, "name = \"mixed\"\nbase = \"good.toml\"\nseeds = [1]\n")
	errb.Reset()
	if code := dispatch([]string{"sweep", mixed, "--quiet"}, &out, &errb); code != exitFailure {
		t.Errorf("sweep whose directory cannot be created: exit %d, want %d; stderr %q", code, exitFailure, errb.String())
	}
}

// TestExitStatusMissingInputs: for every command, an input file or
// directory named on the command line that does not exist (or a malformed
// input file, a bad flag value, an output file whose directory cannot be
// made) is a usage or configuration error: status 2, with the path in the
// message, before any work starts.
func TestExitStatusMissingInputs(t *testing.T) {
	experimentstest.Register()
	tmp := t.TempDir()
	missing := func(name string) string { return filepath.Join(tmp, "nosuch", name) }
	// An output whose directory cannot be made: its parent is a file.
	blocker := filepath.Join(tmp, "file")
	writeFile(t, blocker, "a file where a directory should be\n")
	unwritable := func(name string) string { return filepath.Join(blocker, name) }
	badTrace := filepath.Join(tmp, "bad.stl")
	writeFile(t, badTrace, "not a trace line\n")
	// A trace too large to load (sparse: 3 GiB of size, no data): refused
	// from its size before it is read (reading it would fail otherwise).
	hugeTrace := filepath.Join(tmp, "huge.stl")
	writeFile(t, hugeTrace, "")
	if err := os.Truncate(hugeTrace, 3<<30); err != nil {
		t.Fatal(err)
	}
	sweep := filepath.Join(tmp, "sweep.toml")
	writeFile(t, filepath.Join(tmp, "base.toml"), "name = \"x\"\nout_dir = \""+filepath.ToSlash(filepath.Join(tmp, "runs"))+"\"\n[env]\nkind = \"fake\"\n[algorithm]\nkind = \"fake\"\n[budget]\niterations = 2\n")
	writeFile(t, sweep, "name = \"s\"\nbase = \"base.toml\"\nseeds = [1]\n")
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"dram sim: missing trace", []string{"dram", "sim", "--trace", missing("t.stl")}, missing("t.stl")},
		{"dram sim: malformed trace", []string{"dram", "sim", "--trace", badTrace}, "bad.stl:1"},
		{"dram sim: missing --traces dir", []string{"dram", "sim", "--traces", missing("dir")}, missing("dir")},
		{"dram sim: missing memspec", []string{"dram", "sim", "--memspec", missing("m.json")}, missing("m.json")},
		{"dram sim: missing mapping", []string{"dram", "sim", "--mapping", missing("am.json")}, missing("am.json")},
		{"dram sim: unknown knob", []string{"dram", "sim", "--set", "Nosuch=1"}, "Nosuch"},
		{"dram sim: bad knob value", []string{"dram", "sim", "--set", "RefreshPolicy=Sometimes"}, "Sometimes"},
		{"dram sim: player clock", []string{"dram", "sim", "--player-mhz", "-5"}, "--player-mhz"},
		{"dram sim: trace too large", []string{"dram", "sim", "--trace", hugeTrace}, "--max-memory"},
		{"dram sweep: trace too large", []string{"dram", "sweep", "--trace", hugeTrace, "--out", filepath.Join(tmp, "huge.sweep")}, "--max-memory"},
		{"dram validate: missing reference", []string{"dram", "validate", "--ref", missing("ref.csv")}, missing("ref.csv")},
		{"dram validate: missing --traces dir", []string{"dram", "validate", "--ref", missing("ref.csv"), "--traces", missing("dir")}, missing("dir")},
		{"dram validate: negative error threshold", []string{"dram", "validate", "--ref", missing("ref.csv"), "--max-p95-err", "-1"}, "--max-p95-err"},
		{"dram validate: NaN error threshold", []string{"dram", "validate", "--ref", missing("ref.csv"), "--max-median-time-err", "NaN"}, "--max-median-time-err"},
		{"dram validate: correlation above 1", []string{"dram", "validate", "--ref", missing("ref.csv"), "--min-spearman", "2"}, "--min-spearman"},
		{"dram validate: missing memspec", []string{"dram", "validate", "--ref", missing("ref.csv"), "--memspec", missing("m.json")}, missing("m.json")},
		{"dram sweep: missing trace", []string{"dram", "sweep", "--trace", missing("t.stl")}, missing("t.stl")},
		{"dram sweep: missing --traces dir", []string{"dram", "sweep", "--trace", "random", "--traces", missing("dir")}, missing("dir")},
		{"dram sweep: --best-json where no directory can be made", []string{"dram", "sweep", "--trace", "random", "--best-json", unwritable("best.json")}, unwritable("best.json")},
		{"dram interactions: missing sweep table", []string{"dram", "interactions", "--sweep", missing("x.sweep")}, missing("x.sweep")},
		{"dram interactions: share above 1", []string{"dram", "interactions", "--sweep", missing("x.sweep"), "--min-share", "2"}, "--min-share"},
		{"report: unbounded --resamples", []string{"report", missing("runs"), "--resamples", "100000000000"}, "--resamples"},
		{"graph export: missing run", []string{"graph", "export", missing("run"), "--format", "json"}, missing("run")},
		{"graph export: a directory without graphs", []string{"graph", "export", tmp, "--format", "json"}, tmp},
		{"graph export: negative --iter", []string{"graph", "export", tmp, "--format", "json", "--iter", "-1"}, "--iter"},
		{"graph export: negative --width", []string{"graph", "export", tmp, "--format", "png", "--width", "-1"}, "--width"},
		{"graph compare: missing run", []string{"graph", "compare", missing("run"), "--truth", "planted"}, missing("run")},
		{"graph compare: missing truth file", []string{"graph", "compare", tmp, "--truth", missing("adj.txt")}, missing("adj.txt")},
		{"graph compare: --png where no directory can be made", []string{"graph", "compare", tmp, "--truth", "planted", "--png", unwritable("c.png")}, unwritable("c.png")},
		{"report: missing directory", []string{"report", missing("runs")}, missing("runs")},
		{"sweep: missing sweep file", []string{"sweep", missing("s.toml"), "--list"}, missing("s.toml")},
		{"sweep: --emit --out where no directory can be made", []string{"sweep", sweep, "--emit", "k8s", "--out", unwritable("job.yaml")}, unwritable("job.yaml")},
		{"run: missing config", []string{"run", missing("c.toml")}, missing("c.toml")},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := dispatch(c.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d (want %d), stderr %q (want it to name %q)", c.name, code, exitUsage, errb.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "nosuch")); err == nil {
		t.Errorf("a refused command created %s", filepath.Join(tmp, "nosuch"))
	}
	if _, err := os.Stat(filepath.Join(tmp, "runs")); err == nil {
		t.Errorf("a refused command left a run directory behind")
	}
}
