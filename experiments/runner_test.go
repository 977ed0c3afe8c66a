package experiments_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/experiments/experimentstest"
	"github.com/commgraph/commgraph/marl"
)

func init() { experimentstest.Register() }

func fakeConfig(t *testing.T, name string) experiments.Config {
	t.Helper()
	cfg := experiments.DefaultConfig()
	cfg.Name = name
	cfg.OutDir = t.TempDir()
	cfg.Env.Kind = "fake"
	cfg.Algorithm.Kind = "fake"
	cfg.Budget.Iterations = 23
	cfg.Eval.Every = 5
	cfg.Log.GraphEvery = 4
	cfg.Log.Timing = false
	cfg.Checkpoint.Every = 3
	return cfg
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunWritesRunDirectory(t *testing.T) {
	cfg := fakeConfig(t, "grp/a")
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	if sums[0].Dir != dir || sums[0].Iterations != 23 || sums[0].Skipped {
		t.Fatalf("summary %+v", sums[0])
	}
	for _, f := range []string{"config.toml", "metrics.csv", "metrics.jsonl", "summary.json", "meta.json", "DONE",
		"graphs/iter-000004.json", "graphs/iter-000020.json", "graphs/iter-000023.json", "checkpoints/iter-000023.ckpt", "checkpoints/iter-000021.ckpt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	cks, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*"))
	if len(cks) != 2 {
		t.Errorf("checkpoints kept: %v, want 2", cks)
	}
	rows, err := experiments.ReadMetricsCSV(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 23 {
		t.Fatalf("%d rows", len(rows))
	}
	head := strings.SplitN(read(t, filepath.Join(dir, "metrics.csv")), "\n", 2)[0]
	if !strings.HasPrefix(head, "iteration,env_steps,unique_evals,") || !strings.Contains(head, "eval_return") {
		t.Errorf("header %q", head)
	}
	// Evaluation columns appear at the cadence and after the last iteration.
	for i, r := range rows {
		_, has := r["eval_return"]
		want := (i+1)%5 == 0 || i == 22
		if has != want {
			t.Errorf("row %d: eval present %v, want %v", i+1, has, want)
		}
	}
	meta := read(t, filepath.Join(dir, "meta.json"))
	for _, k := range []string{"go_version", "gomaxprocs"} {
		if !strings.Contains(meta, k) {
			t.Errorf("meta.json lacks %s", k)
		}
	}
	// A finished run is not redone.
	before := read(t, filepath.Join(dir, "metrics.csv"))
	sums, err = experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil || !sums[0].Skipped {
		t.Fatalf("rerun: %v %+v", err, sums)
	}
	if read(t, filepath.Join(dir, "metrics.csv")) != before {
		t.Fatal("rerun changed metrics")
	}
}

func TestBudgetEnvSteps(t *testing.T) {
	cfg := fakeConfig(t, "b")
	cfg.Budget.Iterations = 0
	cfg.Budget.EnvSteps = 10 * 4000 // the fake reports num_envs*rollout_steps = 4000 steps per iteration
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Iterations != 10 || sums[0].EnvSteps != 40000 {
		t.Fatalf("stopped at %d iterations, %v steps", sums[0].Iterations, sums[0].EnvSteps)
	}
}

// cancelAt wraps the fake algorithm and cancels a context after iteration k.
type cancelAt struct {
	marl.Algorithm
	k      int
	cancel context.CancelFunc
}

func (c *cancelAt) Iterate(ctx context.Context) (marl.Metrics, error) {
	m, err := c.Algorithm.Iterate(ctx)
	if c.Algorithm.Iteration() == c.k {
		c.cancel()
	}
	return m, err
}

func (c *cancelAt) GraphSnapshot() (any, error) {
	return c.Algorithm.(experiments.GraphSnapshotter).GraphSnapshot()
}

func TestInterruptAndResumeEqualsUninterrupted(t *testing.T) {
	ref := fakeConfig(t, "ref")
	if _, err := experiments.Run(context.Background(), ref, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := fakeConfig(t, "ref")
	ctx, cancel := context.WithCancel(context.Background())
	experiments.RegisterAlgorithm("fake-cancel", experimentstest.Config{LR: 5e-4, Batch: 4000}, func(c experimentstest.Config, _ *experiments.Task, run experiments.RunInfo) (marl.Algorithm, error) {
		return &cancelAt{experimentstest.New(run.Seed, c.LR, c.Batch), 8, cancel}, nil
	})
	cfg.Algorithm.Kind = "fake-cancel"
	_, err := experiments.Run(ctx, cfg, experiments.RunOptions{})
	if !errors.Is(err, experiments.ErrInterrupted) {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
	dir := experiments.RunDir(&cfg, 1)
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "iter-000008.ckpt")); err != nil {
		t.Fatalf("no checkpoint at the interruption: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "DONE")); err == nil {
		t.Fatal("interrupted run marked DONE")
	}
	// Resume with the plain fake (the algorithm kind is part of the config, so
	// re-register the cancelling kind as a non-cancelling one).
	experiments.RegisterAlgorithm("fake-cancel", experimentstest.Config{LR: 5e-4, Batch: 4000}, func(c experimentstest.Config, _ *experiments.Task, run experiments.RunInfo) (marl.Algorithm, error) {
		return &cancelAt{experimentstest.New(run.Seed, c.LR, c.Batch), -1, nil}, nil
	})
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	refDir := experiments.RunDir(&ref, 1)
	for _, f := range []string{"metrics.csv", "metrics.jsonl", "graphs/iter-000012.json", "graphs/iter-000023.json"} {
		if read(t, filepath.Join(dir, f)) != read(t, filepath.Join(refDir, f)) {
			t.Errorf("%s differs after resume", f)
		}
	}
	// The summaries differ only in the algorithm kind (part of the config)
	// and so in their checksums.
	noSum := regexp.MustCompile(`"sha256": "[0-9a-f]{64}"`)
	if a, b := read(t, filepath.Join(dir, "summary.json")), read(t, filepath.Join(refDir, "summary.json")); noSum.ReplaceAllString(strings.ReplaceAll(a, "fake-cancel", "fake"), "") != noSum.ReplaceAllString(b, "") {
		t.Errorf("summary differs:\n%s\n%s", a, b)
	}
}

func TestResolvedConfigReproduces(t *testing.T) {
	cfg := fakeConfig(t, "orig")
	setKey(t, &cfg, "algorithm.fake.lr", 3e-4)
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	again, err := experiments.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	again.OutDir = t.TempDir()
	if _, err := experiments.Run(context.Background(), again, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(dir, "metrics.csv")) != read(t, filepath.Join(experiments.RunDir(&again, 1), "metrics.csv")) {
		t.Fatal("the resolved config does not reproduce the metrics")
	}
}

func TestChangedConfigRefused(t *testing.T) {
	cfg := fakeConfig(t, "c")
	cfg.Budget.Iterations = 2
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(experiments.RunDir(&cfg, 1), "DONE"))
	setKey(t, &cfg, "algorithm.fake.lr", 1e-3)
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "different configuration") || !errors.Is(err, experiments.ErrConfig) {
		t.Fatalf("got %v", err)
	}
	// Exactly the changed key is listed: an unchanged NaN (budget.regret's
	// default, off) is not a change although NaN != NaN.
	_, diff, _ := strings.Cut(err.Error(), "(recorded -> now):\n")
	diff, _, _ = strings.Cut(diff, "\nrefused")
	if lines := strings.Split(strings.TrimSpace(diff), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "algorithm.fake.lr: ") {
		t.Errorf("changed keys %q, want only algorithm.fake.lr", lines)
	}
}

func TestUnknownKindNamesKey(t *testing.T) {
	cfg := fakeConfig(t, "u")
	cfg.Algorithm.Kind = "nosuch"
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "algorithm.kind") || !strings.Contains(err.Error(), "fake") {
		t.Fatalf("got %v", err)
	}
}

// TestCrashResumeTruncates simulates a crash after a checkpoint: metrics rows
// beyond the newest checkpoint, a half-written line and a temp file are left
// behind; the rerun truncates and finishes with identical files.
func TestCrashResumeTruncates(t *testing.T) {
	cfg := fakeConfig(t, "crash")
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	want := map[string]string{}
	for _, f := range []string{"metrics.csv", "metrics.jsonl", "summary.json"} {
		want[f] = read(t, filepath.Join(dir, f))
	}
	for _, f := range []string{"DONE", "summary.json", "checkpoints/iter-000023.ckpt"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"iteration":24,"env_st`)
	f.Close()
	os.WriteFile(filepath.Join(dir, "checkpoints", ".iter-000024.ckpt.123.tmp"), []byte("half"), 0o644)
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for f, w := range want {
		if got := read(t, filepath.Join(dir, f)); got != w {
			t.Errorf("%s differs after crash and resume", f)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "checkpoints", ".*.tmp")); len(m) > 0 {
		t.Errorf("temp files left: %v", m)
	}
}

// TestChangedConfigOfFinishedRunRefused: DONE is honoured only for the
// same resolved configuration; a changed one (even a larger budget) is
// refused with the differing keys and both values named.
func TestChangedConfigOfFinishedRunRefused(t *testing.T) {
	cfg := fakeConfig(t, "fin")
	cfg.Budget.Iterations = 2
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil || !sums[0].Skipped {
		t.Fatalf("same config: %v %+v", err, sums)
	}
	changed := cfg
	changed.Budget.Iterations = 5
	setKey(t, &changed, "algorithm.fake.lr", 1e-3)
	_, err = experiments.Run(context.Background(), changed, experiments.RunOptions{})
	if err == nil {
		t.Fatal("a changed config of a finished run was accepted")
	}
	for _, want := range []string{"budget.iterations: 2 -> 5", "algorithm.fake.lr: 0.0005 -> 0.001", "refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "budget.env_steps") {
		t.Errorf("names an unchanged key: %v", err)
	}
}

// TestRunOfAnOlderVersionAccepted: a run recorded by a commgraph that
// lacked a key added since (here log.truth_sweep) is the same run when that
// key is at its default now: it resumes from its checkpoints (which carry the
// SHA-256 of the older config.toml) to the same files, and when finished is
// not redone. Set to anything else, the key makes it a changed run.
func TestRunOfAnOlderVersionAccepted(t *testing.T) {
	cfg := fakeConfig(t, "old")
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	want := read(t, filepath.Join(dir, "metrics.csv"))
	// Make the directory look written by the older version: no truth_sweep
	// line, and checkpoints that carry that file's SHA-256.
	path := filepath.Join(dir, "config.toml")
	var kept []string
	dropped := false
	for _, line := range strings.Split(read(t, path), "\n") {
		if strings.HasPrefix(line, "truth_sweep = ") {
			dropped = true
			continue
		}
		kept = append(kept, line)
	}
	if !dropped {
		t.Fatal("the resolved config has no truth_sweep line to drop")
	}
	older := []byte(strings.Join(kept, "\n"))
	if err := os.WriteFile(path, older, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(older)
	ckpts, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "iter-*.ckpt"))
	if len(ckpts) < 2 {
		t.Fatalf("want two checkpoints, have %v", ckpts)
	}
	for _, f := range ckpts {
		c, err := marl.ReadCheckpoint(f)
		if err != nil {
			t.Fatal(err)
		}
		c.Run.ConfigSHA256 = hex.EncodeToString(sum[:])
		if err := marl.WriteCheckpoint(f, c); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ckpts)
	for _, f := range []string{filepath.Join(dir, "DONE"), filepath.Join(dir, "summary.json"), ckpts[len(ckpts)-1]} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatalf("resume of a run lacking a key now at its default: %v", err)
	}
	if read(t, filepath.Join(dir, "metrics.csv")) != want {
		t.Error("the resumed run's metrics differ from the uninterrupted run's")
	}
	if read(t, path) != string(older) {
		t.Error("the recorded config.toml was rewritten: its older checkpoints would no longer match it")
	}
	sums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err != nil || !sums[0].Skipped {
		t.Fatalf("finished run lacking a key now at its default: %v %+v", err, sums)
	}
	setKey(t, &cfg, "log.truth_sweep", "sweep.txt")
	_, err = experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "log.truth_sweep: (absent) -> ") {
		t.Fatalf("a key the recording lacks, set now: %v", err)
	}
}

// TestSymlinkedCheckpointsNotFollowed: a run never follows a symbolic link
// at checkpoints/ (a fresh start deletes the checkpoints it finds there).
func TestSymlinkedCheckpointsNotFollowed(t *testing.T) {
	cfg := fakeConfig(t, "ln")
	dir := experiments.RunDir(&cfg, 1)
	elsewhere := t.TempDir()
	victim := filepath.Join(elsewhere, "iter-000001.ckpt")
	if err := os.WriteFile(victim, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "checkpoints")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("a file behind the link was touched: %v", err)
	}
}

// TestDamagedMetricsLineIsAnError: a garbled metrics.jsonl line stops the
// resume with an error naming file:line and the checkpoint to resume from;
// nothing is deleted; doing what the message says resumes to the same
// files as the undisturbed run.
func TestDamagedMetricsLineIsAnError(t *testing.T) {
	cfg := fakeConfig(t, "dmg")
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	want := map[string]string{}
	for _, f := range []string{"metrics.csv", "metrics.jsonl", "summary.json"} {
		want[f] = read(t, filepath.Join(dir, f))
	}
	for _, f := range []string{"DONE", "summary.json"} {
		os.Remove(filepath.Join(dir, f))
	}
	lines := strings.SplitAfter(want["metrics.jsonl"], "\n")
	damaged := slices.Clone(lines)
	damaged[21] = `{"iteration":22,"env_st#` + "\n" // line 22
	mpath := filepath.Join(dir, "metrics.jsonl")
	os.WriteFile(mpath, []byte(strings.Join(damaged, "")), 0o644)
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil {
		t.Fatal("a damaged metrics line was accepted")
	}
	for _, w := range []string{"metrics.jsonl:22:", "nothing was deleted", "iter-000021.ckpt", "keep only the first 21 lines"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if got := read(t, mpath); got != strings.Join(damaged, "") {
		t.Error("the damaged metrics file was changed")
	}
	for _, ck := range []string{"iter-000021.ckpt", "iter-000023.ckpt"} {
		if _, err := os.Stat(filepath.Join(dir, "checkpoints", ck)); err != nil {
			t.Errorf("checkpoint deleted: %v", err)
		}
	}
	// Interleaved rows (two writers) are damage too.
	dup := append(slices.Clone(lines[:5]), lines[4:]...)
	os.WriteFile(mpath, []byte(strings.Join(dup, "")), 0o644)
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err == nil || !strings.Contains(err.Error(), "metrics.jsonl:6: iteration 5 after 5") {
		t.Errorf("repeated row: %v", err)
	}
	// Follow the advice: cut before the damage, delete the checkpoint that
	// is newer than the cut, rerun.
	os.WriteFile(mpath, []byte(strings.Join(lines[:21], "")), 0o644)
	os.Remove(filepath.Join(dir, "checkpoints", "iter-000023.ckpt"))
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for f, w := range want {
		if got := read(t, filepath.Join(dir, f)); got != w {
			t.Errorf("%s differs after the repair and resume", f)
		}
	}
}

// TestCheckpointNewerThanMetricsIsAnError: lost metrics rows (a checkpoint
// newer than the last row) are reported, not silently restarted over.
func TestCheckpointNewerThanMetricsIsAnError(t *testing.T) {
	cfg := fakeConfig(t, "lost")
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	os.Remove(filepath.Join(dir, "DONE"))
	os.Remove(filepath.Join(dir, "metrics.jsonl"))
	_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "newer than the last metrics row") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "iter-000023.ckpt")); err != nil {
		t.Errorf("checkpoint deleted: %v", err)
	}
}
