package experiments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/fsutil"
	"github.com/commgraph/commgraph/marl"
)

// ErrInterrupted is returned by Run when the context was cancelled: the run
// stopped after its current iteration, wrote a checkpoint and flushed its
// files. Running the same command again resumes it.
var ErrInterrupted = errors.New("run interrupted")

// ErrConfig marks a configuration error that is found only when a run is
// built from its decoded config: a kind that cannot run the task, a file the
// config names that is missing or malformed, a memory estimate over the
// limit, a budget the design space cannot reach, a run directory that holds
// another configuration. errors.Is(err, ErrConfig) tells a caller (the CLI:
// exit status 2) that the input must change, not the machine; every other
// error of Run is a runtime failure.
var ErrConfig = errors.New("configuration error")

// configErr marks an error as ErrConfig, keeping its message.
type configErr struct{ err error }

func (e *configErr) Error() string        { return e.err.Error() }
func (e *configErr) Unwrap() error        { return e.err }
func (e *configErr) Is(target error) bool { return target == ErrConfig }

// asConfigError marks err (nil stays nil) as a configuration error.
func asConfigError(err error) error {
	if err == nil {
		return nil
	}
	return &configErr{err}
}

// RunOptions controls how runs are executed (not what they compute).
type RunOptions struct {
	// Progress receives a progress bar with SPS and ETA; nil = no bar.
	Progress io.Writer
	// Logger receives structured progress messages; nil = slog.Default().
	Logger *slog.Logger
	// Fork, when set, is the path of another run's checkpoint that a fresh
	// run starts from instead of from scratch (see startFork); a run
	// directory that already holds that fork resumes it.
	Fork string
	// MaxMemory, when set (> 0), replaces the config's MaxMemory: the
	// memory a run may plan to use, in bytes; settings whose estimate
	// exceeds it are refused before the run starts. Left out, the config's
	// own limit holds (DefaultMaxMemory unless the caller set another).
	MaxMemory int64
}

func (o RunOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// Summary is the content of a run's summary.json. Everything in it is
// determined by the config and seed (wall-clock facts live in meta.json), so
// an interrupted and resumed run has the same summary as an uninterrupted one.
type Summary struct {
	// Format is the summary.json format version (summaryFormat); with
	// SHA256 it lets a reader tell a damaged or edited file from a good
	// one (summaryfile.go).
	Format      int            `json:"format"`
	Name        string         `json:"name"`
	Variant     string         `json:"variant"`
	Task        string         `json:"task"`
	Env         string         `json:"env"` // env.kind
	Seed        int64          `json:"seed"`
	Iterations  int            `json:"iterations"`
	EnvSteps    Num            `json:"env_steps"`
	UniqueEvals Num            `json:"unique_evals"`
	Primary     Primary        `json:"primary"`
	Threshold   Num            `json:"threshold"`
	Final       map[string]Num `json:"final"` // the last metrics row
	Eval        map[string]Num `json:"eval"`  // the last row with evaluation columns (eval_*)
	Best        *Design        `json:"best_design,omitempty"`
	Graph       *GraphSummary  `json:"graph,omitempty"`       // what the final communication graph says
	Stopped     string         `json:"stopped,omitempty"`     // "regret" or "patience" when an early-stopping rule of [budget] ended the run
	ForkedFrom  *ForkInfo      `json:"forked_from,omitempty"` // the checkpoint of another run this one continued (run --fork)
	SHA256      string         `json:"sha256"`                // of the file written with this field empty (summaryfile.go)
	Skipped     bool           `json:"-"`                     // set by Run when the run was already DONE
	Dir         string         `json:"-"`                     // the run directory
}

// runDirOf returns the directory of one seed of a config.
func runDirOf(cfg *Config, seed int64) string {
	return filepath.Join(cfg.OutDir, filepath.FromSlash(cfg.Name), fmt.Sprintf("seed-%d", seed))
}

// seedList returns the seeds a config runs.
func seedList(cfg *Config) []int64 {
	if len(cfg.Seeds) > 0 {
		return slices.Clone(cfg.Seeds)
	}
	return []int64{cfg.Seed}
}

// Run executes every seed of cfg in turn (see runSeed): a seed whose run directory is DONE is not redone, an unfinished one resumes.
func Run(ctx context.Context, cfg Config, opts RunOptions) ([]Summary, error) {
	var out []Summary
	for _, s := range seedList(&cfg) {
		sum, err := runSeed(ctx, cfg, s, opts)
		if err != nil {
			return out, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// runSeed executes one seed of a config in its run directory, resuming from
// the last checkpoint if the directory holds an unfinished run, and doing
// nothing if it holds a finished one (DONE) of the same configuration. The
// directory is locked for the whole run (lockRunDir): a second run into it
// is refused. A directory that holds a run of a different configuration,
// finished or not, is refused with the differing keys named. On context
// cancellation it finishes the current iteration, checkpoints, flushes and
// returns ErrInterrupted.
func runSeed(ctx context.Context, cfg Config, seed int64, opts RunOptions) (Summary, error) {
	cfg.Seed = seed
	cfg.Seeds = nil
	if opts.MaxMemory > 0 {
		cfg.MaxMemory = opts.MaxMemory
	}
	if err := cfg.Validate(); err != nil {
		return Summary{}, asConfigError(err)
	}
	dir := runDirOf(&cfg, seed)
	log := opts.logger().With("run", cfg.Name, "seed", seed)
	resolved, err := encodeConfig(cfg)
	if err != nil {
		return Summary{}, err
	}
	if isFile(filepath.Join(dir, "DONE")) {
		// Finished: nothing to build; lock, check, report.
		lock, err := lockRunDir(dir)
		if err != nil {
			return Summary{}, err
		}
		defer lock.unlock()
		return finishedRun(dir, resolved, log)
	}
	sha := sha256.Sum256(resolved)
	cfgSHA := hex.EncodeToString(sha[:])
	r := &runner{cfg: cfg, seed: seed, dir: dir, log: log, cfgSHA: cfgSHA, opts: opts}
	defer r.close()
	// Build before touching the run directory: a config that cannot be
	// built leaves nothing behind.
	if err := r.build(); err != nil {
		return Summary{}, asConfigError(err)
	}
	if err := r.checkReachable(); err != nil {
		return Summary{}, asConfigError(err)
	}
	if opts.Fork != "" {
		if err := r.loadFork(); err != nil {
			return Summary{}, asConfigError(err)
		}
	}
	if r.task.Design != nil {
		if r.truthSweep, err = truthSweep(cfg.Log.TruthSweep, r.task.Design.Space()); err != nil {
			return Summary{}, asConfigError(err)
		}
	}
	if err := checkNotSymlink(filepath.Join(dir, "checkpoints")); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
		return Summary{}, fmt.Errorf("create run directory: %w", err)
	}
	lock, err := lockRunDir(dir)
	if err != nil {
		return Summary{}, err
	}
	defer lock.unlock()
	if isFile(filepath.Join(dir, "DONE")) { // finished while we waited to build
		return finishedRun(dir, resolved, log)
	}
	_ = fsutil.RemoveTemps(dir)
	_ = fsutil.RemoveTemps(filepath.Join(dir, "checkpoints"))
	_ = fsutil.RemoveTemps(filepath.Join(dir, "graphs"))
	cfgPath := filepath.Join(dir, "config.toml")
	legacy, err := sameConfig(cfgPath, resolved)
	if err != nil {
		return Summary{}, err
	}
	if legacy != "" {
		// Recorded by an older commgraph: keep the file, whose SHA-256 the
		// run's checkpoints so far carry.
		r.legacySHA = legacy
	} else if err := fsutil.WriteFile(cfgPath, resolved); err != nil {
		return Summary{}, err
	}

	if err := r.start(); err != nil {
		return Summary{}, err
	}
	return r.loop(ctx)
}

// finishedRun returns the summary of the finished run in dir after checking
// that it ran the configuration resolved (a changed configuration is
// refused, never answered with the old results).
func finishedRun(dir string, resolved []byte, log *slog.Logger) (Summary, error) {
	if _, err := sameConfig(filepath.Join(dir, "config.toml"), resolved); err != nil {
		return Summary{}, err
	}
	sum, err := readSummary(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("run %s is marked DONE but: %w", dir, err)
	}
	sum.Skipped = true
	log.Info("already finished; not redone", "dir", dir)
	return sum, nil
}

// isFile reports whether path exists (following no decision on errors
// other than its absence).
func isFile(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// checkNotSymlink refuses a symbolic link where the run keeps files it
// deletes (a fresh start empties checkpoints/): following it could delete
// files elsewhere.
func checkNotSymlink(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: a run deletes old checkpoints there, so it does not follow links; replace it with a directory", path)
	}
	return nil
}

type runner struct {
	early  earlyStop // the early-stopping rules' state (earlystop.go)
	cfg    Config
	seed   int64
	dir    string
	log    *slog.Logger
	cfgSHA string
	// legacySHA is the SHA-256 of a config.toml recorded by an older
	// commgraph that lacked keys now at their defaults (sameConfig): the
	// run's checkpoints written then carry it.
	legacySHA string
	opts      RunOptions
	task      *Task
	alg       marl.Algorithm
	metrics   *metricsLog
	wallBase  float64 // wall seconds of earlier attempts
	started   time.Time
	lastCkpt  int
	resumed   int // iteration resumed from (-1 = fresh)
	// fork is the checkpoint the run was forked from (nil = none);
	// forkCkpt its state, loaded by loadFork; forkGraphChanged: the
	// algorithm dropped the source's learned graph (ForkCheckpoint).
	fork             *ForkInfo
	forkCkpt         *marl.Checkpoint
	forkRows         []Row
	forkGraphChanged bool
	// truthSweep is the sweep table whose measured interactions the
	// summary compares the learned graph with ("" = none; log.truth_sweep).
	truthSweep string
}

// measuredTruth reads the interactions of the run's objective metric from
// its truth sweep; nil (with a warning when it fails) if there is none.
func (r *runner) measuredTruth() *measuredTruth {
	if r.truthSweep == "" || r.task.Design == nil {
		return nil
	}
	metric := objectiveMetric(r.task.Design.Objective())
	if metric == "" {
		r.log.Warn("the summary does not compare the graph with the measured interactions: the objective has no single metric", "sweep", r.truthSweep)
		return nil
	}
	mt, err := readMeasuredTruth(r.truthSweep, metric)
	if err != nil {
		r.log.Warn("the summary does not compare the graph with the measured interactions", "err", err)
		return nil
	}
	return mt
}

func (r *runner) close() {
	if r.metrics != nil {
		_ = r.metrics.close()
	}
	if c, ok := r.alg.(Closer); ok {
		_ = c.Close()
	}
	if r.task != nil && r.task.Close != nil {
		_ = r.task.Close()
	}
}

func (r *runner) build() error {
	if c, ok := r.alg.(Closer); ok {
		_ = c.Close()
	}
	if r.task != nil && r.task.Close != nil {
		_ = r.task.Close()
	}
	task, alg, err := Build(&r.cfg, uint64(r.seed))
	if err != nil {
		return err
	}
	r.task, r.alg = task, alg
	if task.Design != nil {
		if task.Primary.Name == "regret" {
			task.Design.SetThreshold(r.threshold()) // evals_to_threshold in every row
		}
		// The designs evaluated while building (the environments' start
		// design) come first in the evaluation order, before the first
		// iteration's.
		task.Design.Best()
	}
	return nil
}

// start restores the last checkpoint and opens the metrics files. Damage
// is an error that names the file and what to do, never a silent restart:
// a bad metrics line, metrics rows out of order, or a checkpoint newer than
// the last metrics row (its rows were lost).
func (r *runner) start() error {
	if r.opts.Fork != "" {
		if handled, err := r.startFork(); handled || err != nil {
			return err
		}
	}
	if m := readMeta(r.dir); m.ForkedFrom != nil && listCheckpoints(r.dir) != nil {
		r.fork = m.ForkedFrom
	}
	path := filepath.Join(r.dir, "metrics.jsonl")
	rows, err := ReadMetricsJSONL(path)
	var le *metricsLineError
	switch {
	case errors.As(err, &le):
		return r.damagedMetrics(err, rows)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read metrics: %w", err)
	}
	prev := 0.0
	for i, row := range rows {
		it, ok := row["iteration"]
		if !ok || !(it > prev) || it != math.Trunc(it) {
			return r.damagedMetrics(fmt.Errorf("%s:%d: iteration %v after %v (rows must carry increasing iterations; were two runs writing it?)", path, i+1, it, prev), rows[:i])
		}
		prev = it
	}
	lastRow := 0
	if len(rows) > 0 {
		lastRow = int(rows[len(rows)-1]["iteration"])
	}
	cks := listCheckpoints(r.dir)
	if len(cks) > 0 && cks[0].iter > lastRow {
		return fmt.Errorf("checkpoint %s is newer than the last metrics row (iteration %d): rows of %s were lost; delete the checkpoints newer than iteration %d to resume from an older one, or delete the run directory %s to start over", cks[0].path, lastRow, path, lastRow, r.dir)
	}
	r.resumed = -1
	if len(cks) > 0 {
		// An unusable checkpoint stops the run: its error names the file
		// and what to do (never a silent fallback or restart).
		c, err := r.loadCheckpoint(cks[0].path)
		if err != nil {
			return err
		}
		r.resumed = c.Iteration
		r.wallBase = c.Run.WallSeconds
	}
	if r.resumed < 0 {
		if len(rows) > 0 {
			r.log.Info("no checkpoint yet: starting over (the rows before the first checkpoint are recomputed identically)", "rows", len(rows))
		}
		rows = nil
		_ = os.RemoveAll(filepath.Join(r.dir, "graphs"))
	} else {
		keep := 0
		for keep < len(rows) && int(rows[keep]["iteration"]) <= r.resumed {
			keep++
		}
		rows = rows[:keep]
		r.removeGraphsAfter(r.resumed)
		r.log.Info("resuming", "iteration", r.resumed)
	}
	r.lastCkpt = max(r.resumed, 0)
	if err := os.MkdirAll(filepath.Join(r.dir, "graphs"), 0o755); err != nil {
		return fmt.Errorf("create graphs directory: %w", err)
	}
	m, err := openMetricsLog(r.dir, rows)
	if err != nil {
		return err
	}
	r.metrics = m
	return r.writeMeta()
}

// damagedMetrics is the error for a metrics.jsonl that is damaged after the
// rows good (which are intact): nothing is deleted; it says which
// checkpoint a resume could start from once the file is cut before the
// damage.
func (r *runner) damagedMetrics(cause error, good []Row) error {
	lastGood := 0
	if len(good) > 0 {
		lastGood = int(good[len(good)-1]["iteration"])
	}
	how := "no checkpoint precedes the damage: delete the run directory " + r.dir + " to start over"
	for _, ck := range listCheckpoints(r.dir) {
		if ck.iter <= lastGood {
			keep := 0
			for keep < len(good) && int(good[keep]["iteration"]) <= ck.iter {
				keep++
			}
			how = fmt.Sprintf("to resume from checkpoint %s (iteration %d), keep only the first %d lines of metrics.jsonl (head -n %d) and run again; or delete the run directory %s to start over", ck.path, ck.iter, keep, keep, r.dir)
			break
		}
	}
	return fmt.Errorf("%w\nthe metrics file is damaged, so the run is not resumed and nothing was deleted; %s", cause, how)
}

type ckptFile struct {
	iter int
	path string
}

// listCheckpoints returns the checkpoints of a run directory, newest first.
func listCheckpoints(dir string) []ckptFile {
	matches, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "iter-*.ckpt"))
	var out []ckptFile
	for _, m := range matches {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "iter-"), ".ckpt")
		n, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		out = append(out, ckptFile{n, m})
	}
	slices.SortFunc(out, func(a, b ckptFile) int { return b.iter - a.iter })
	return out
}

// loadCheckpoint restores the algorithm from the checkpoint at path
// (marl's one checkpoint format: versioned and checksummed).
func (r *runner) loadCheckpoint(path string) (*marl.Checkpoint, error) {
	c, err := marl.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if c.Run.ConfigSHA256 != r.cfgSHA && (r.legacySHA == "" || c.Run.ConfigSHA256 != r.legacySHA) {
		return nil, fmt.Errorf("checkpoint %s was written for a different configuration than %s; delete the checkpoint, or the run directory to start over", path, filepath.Join(r.dir, "config.toml"))
	}
	if err := r.alg.Restore(c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: load algorithm state: %w", path, err)
	}
	if got := r.alg.Iteration(); got != c.Iteration {
		return nil, fmt.Errorf("checkpoint %s: algorithm reports iteration %d after loading a checkpoint of iteration %d", path, got, c.Iteration)
	}
	return c, nil
}

func (r *runner) saveCheckpoint() error {
	it := r.alg.Iteration()
	c, err := r.alg.Checkpoint()
	if err != nil {
		return fmt.Errorf("save algorithm state at iteration %d: %w", it, err)
	}
	c.Run = marl.RunState{ConfigSHA256: r.cfgSHA, WallSeconds: r.wall()}
	// Metrics rows up to this iteration must be durable before the
	// checkpoint that refers to them.
	if err := r.metrics.sync(); err != nil {
		return fmt.Errorf("sync metrics: %w", err)
	}
	path := filepath.Join(r.dir, "checkpoints", fmt.Sprintf("iter-%06d.ckpt", it))
	if err := marl.WriteCheckpoint(path, c); err != nil {
		return err
	}
	r.lastCkpt = it
	for i, ck := range listCheckpoints(r.dir) {
		if i >= r.cfg.Checkpoint.Keep {
			_ = os.Remove(ck.path)
		}
	}
	return nil
}

func (r *runner) removeGraphsAfter(it int) {
	matches, _ := filepath.Glob(filepath.Join(r.dir, "graphs", "iter-*.json"))
	for _, m := range matches {
		if n, ok := snapshotIter(m); ok && n > it {
			_ = os.Remove(m)
		}
	}
}

// snapshotIter returns the iteration of a graph snapshot file
// (graphs/iter-NNNNNN.json).
func snapshotIter(path string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "iter-"), ".json"))
	return n, err == nil
}

func (r *runner) wall() float64 {
	return r.wallBase + time.Since(r.started).Seconds()
}

func (r *runner) newBar() (*progressbar.ProgressBar, string) {
	if r.opts.Progress == nil {
		return nil, ""
	}
	total, unit, col := int64(r.cfg.Budget.Iterations), "it", "iteration"
	switch {
	case r.cfg.Budget.EnvSteps > 0:
		total, unit, col = r.cfg.Budget.EnvSteps, "steps", "env_steps"
	case r.cfg.Budget.Evaluations > 0:
		total, unit, col = r.cfg.Budget.Evaluations, "evals", "unique_evals"
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(r.opts.Progress),
		progressbar.OptionSetDescription(fmt.Sprintf("%s seed %d", r.cfg.Name, r.seed)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionClearOnFinish(),
	)
	return bar, col
}

func (r *runner) loop(ctx context.Context) (Summary, error) {
	r.started = time.Now()
	work := context.WithoutCancel(ctx) // an iteration, once begun, completes
	bar, barCol := r.newBar()
	var last Row
	if n := len(r.metrics.rows); n > 0 {
		last = r.metrics.rows[n-1]
		if bar != nil {
			_ = bar.Set64(int64(last[barCol]))
		}
	}
	done := last != nil && r.budgetReached(last)
	for !done {
		if ctx.Err() != nil {
			return r.interrupt()
		}
		t0 := time.Now()
		prevSteps := 0.0
		if last != nil {
			prevSteps = last["env_steps"]
		}
		next := r.alg.Iteration() + 1
		m, err := r.alg.Iterate(work)
		if err == nil {
			err = r.task.failure()
		}
		if err != nil {
			return Summary{}, fmt.Errorf("iteration %d: %w (run stopped; last checkpoint: iteration %d)", next, err, r.lastCkpt)
		}
		it := r.alg.Iteration()
		row := Row{}
		maps.Copy(row, m)
		row["iteration"] = float64(it)
		if r.task.Design != nil {
			r.task.Design.Columns(row)
		}
		done = r.budgetReached(row)
		if !done {
			if err := r.budgetStalled(row); err != nil {
				return Summary{}, err
			}
		}
		if (r.cfg.Eval.Every > 0 && it%r.cfg.Eval.Every == 0) || done {
			em, err := r.alg.Evaluate(work, r.cfg.Eval.Episodes)
			if err == nil {
				err = r.task.failure()
			}
			if err != nil {
				return Summary{}, fmt.Errorf("evaluation at iteration %d: %w (run stopped; last checkpoint: iteration %d)", it, err, r.lastCkpt)
			}
			for k, v := range em {
				if !strings.HasPrefix(k, "eval_") {
					k = "eval_" + k
				}
				row[k] = v
			}
		}
		if r.cfg.Log.Timing {
			dt := time.Since(t0).Seconds()
			row["wall_s"] = math.Round(r.wall()*1000) / 1000
			if steps, ok := row["env_steps"]; ok && dt > 0 {
				row["sps"] = math.Round((steps - prevSteps) / dt)
			}
		} else {
			for k := range row {
				if isTimingColumn(k) {
					delete(row, k)
				}
			}
		}
		if err := r.metrics.append(row); err != nil {
			return Summary{}, err
		}
		last = row
		if done || (r.cfg.Log.GraphEvery > 0 && it%r.cfg.Log.GraphEvery == 0) {
			if err := r.writeGraph(it); err != nil {
				return Summary{}, err
			}
		}
		if done || it%r.cfg.Checkpoint.Every == 0 {
			if err := r.saveCheckpoint(); err != nil {
				return Summary{}, err
			}
		}
		if bar != nil {
			_ = bar.Set64(int64(row[barCol]))
			if sps, ok := row["sps"]; ok {
				bar.Describe(fmt.Sprintf("%s seed %d  %.0f sps", r.cfg.Name, r.seed, sps))
			}
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	return r.finish(last)
}

func (r *runner) interrupt() (Summary, error) {
	if r.alg.Iteration() > r.lastCkpt {
		if err := r.saveCheckpoint(); err != nil {
			return Summary{}, fmt.Errorf("%w; checkpoint failed: %v", ErrInterrupted, err)
		}
	}
	if err := r.metrics.sync(); err != nil {
		return Summary{}, fmt.Errorf("%w; flush failed: %v", ErrInterrupted, err)
	}
	r.log.Info("interrupted; checkpoint written", "iteration", r.alg.Iteration(), "dir", r.dir)
	return Summary{Dir: r.dir, Iterations: r.alg.Iteration()}, fmt.Errorf("%w at iteration %d (checkpoint in %s; run the same command again to resume)", ErrInterrupted, r.alg.Iteration(), r.dir)
}

func (r *runner) writeGraph(it int) error {
	g, ok := r.alg.(GraphSnapshotter)
	if !ok {
		return nil
	}
	snap, err := g.GraphSnapshot()
	if err != nil {
		return fmt.Errorf("graph snapshot at iteration %d: %w", it, err)
	}
	if snap == nil {
		return nil
	}
	data, err := json.MarshalIndent(snap, "", " ")
	if err != nil {
		return fmt.Errorf("encode graph snapshot at iteration %d: %w", it, err)
	}
	return fsutil.WriteFile(filepath.Join(r.dir, "graphs", fmt.Sprintf("iter-%06d.json", it)), append(data, '\n'))
}

func (r *runner) finish(last Row) (Summary, error) {
	sum := Summary{
		Name:       r.cfg.Name,
		Variant:    variantLabel(&r.cfg),
		Task:       r.taskLabel(),
		Env:        r.cfg.Env.Kind,
		Seed:       r.seed,
		Iterations: int(last["iteration"]),
		Primary:    r.task.Primary,
		Threshold:  Num(r.threshold()),
		Final:      map[string]Num{},
		Eval:       map[string]Num{},
		Dir:        r.dir,
		Stopped:    r.early.reason,
		ForkedFrom: r.fork,
	}
	if v, ok := last["env_steps"]; ok {
		sum.EnvSteps = Num(v)
	}
	if v, ok := last["unique_evals"]; ok {
		sum.UniqueEvals = Num(v)
	}
	for k, v := range last {
		if !isTimingColumn(k) {
			sum.Final[k] = Num(v)
		}
	}
	for i := len(r.metrics.rows) - 1; i >= 0; i-- {
		row := r.metrics.rows[i]
		found := false
		for k, v := range row {
			if strings.HasPrefix(k, "eval_") {
				sum.Eval[k] = Num(v)
				found = true
			}
		}
		if found {
			sum.Eval["iteration"] = Num(row["iteration"])
			break
		}
	}
	var space envs.DesignSpace
	if r.task.Design != nil {
		if best, ok := bestDesign(r.task.Design, r.metrics.rows, r.task.Start, r.task.NoOptimum); ok {
			sum.Best = &best
		}
		space = r.task.Design.Space()
	}
	if g, ok := r.alg.(GraphSnapshotter); ok {
		snap, err := g.GraphSnapshot()
		if err != nil {
			return Summary{}, fmt.Errorf("graph snapshot for the summary: %w", err)
		}
		if cs, ok := snap.(*comm.Snapshot); ok && cs != nil {
			sum.Graph = summariseGraph(cs, space, r.measuredTruth())
			_, sum.Graph.OneStep = r.task.Env.(*envs.SpaceEnv)
		}
	}
	if err := writeSummary(r.dir, &sum); err != nil {
		return Summary{}, err
	}
	if err := r.metrics.sync(); err != nil {
		return Summary{}, fmt.Errorf("sync metrics: %w", err)
	}
	if err := fsutil.WriteFile(filepath.Join(r.dir, "DONE"), []byte("done\n")); err != nil {
		return Summary{}, err
	}
	r.log.Info("finished", "iterations", sum.Iterations, "dir", r.dir)
	return sum, nil
}

func (r *runner) taskLabel() string {
	if r.cfg.Task != "" {
		return r.cfg.Task
	}
	return r.task.Label
}

func (r *runner) threshold() float64 {
	if !math.IsNaN(r.cfg.Eval.Threshold) {
		return r.cfg.Eval.Threshold
	}
	return r.task.Threshold
}

// Meta is the content of meta.json: facts about the machine and build that
// produced a run (not part of its results).
type Meta struct {
	GoVersion  string    `json:"go_version"`
	GitCommit  string    `json:"git_commit,omitempty"`
	GitDirty   bool      `json:"git_dirty,omitempty"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	Attempts   []Attempt `json:"attempts"`
	// ForkedFrom is the checkpoint the run started from (run --fork).
	ForkedFrom *ForkInfo `json:"forked_from,omitempty"`
}

// Attempt records one start (or resume) of a run.
type Attempt struct {
	Started     string `json:"started"`
	ResumedFrom int    `json:"resumed_from"` // -1 = fresh start
}

func (r *runner) writeMeta() error {
	path := filepath.Join(r.dir, "meta.json")
	m := readMeta(r.dir)
	if r.resumed < 0 {
		m.Attempts = nil
	}
	m.GoVersion = runtime.Version()
	m.GitCommit, m.GitDirty = gitCommit()
	m.GOMAXPROCS = runtime.GOMAXPROCS(0)
	m.NumCPU = runtime.NumCPU()
	m.OS, m.Arch = runtime.GOOS, runtime.GOARCH
	m.ForkedFrom = r.fork
	m.Attempts = append(m.Attempts, Attempt{Started: time.Now().UTC().Format(time.RFC3339), ResumedFrom: r.resumed})
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode meta: %w", err)
	}
	return fsutil.WriteFile(path, append(data, '\n'))
}

// gitCommit returns the commit the binary was built from (from the build
// info) or, failing that, of the working directory; "" when unknown.
func gitCommit() (string, bool) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			return rev, dirty
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	rev := strings.TrimSpace(string(out))
	st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	return rev, err == nil && len(bytes.TrimSpace(st)) > 0
}
