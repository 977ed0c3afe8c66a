package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/commgraph/commgraph/envs/fsutil"
	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("run", "train or search as a TOML experiment file says (resumes; see docs/configuration.md)", runRun)
}

// setFlags collects repeated --set key=value overrides.
type setFlags []string

func (s *setFlags) String() string { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error {
	key, _, _ := strings.Cut(v, "=")
	key = strings.TrimSpace(key)
	for _, o := range *s {
		if k, _, _ := strings.Cut(o, "="); strings.TrimSpace(k) == key {
			return fmt.Errorf("%s given twice (%s and %s): set each key once", key, o, v)
		}
	}
	*s = append(*s, v)
	return nil
}

// parseInterleaved parses flags that may come before or after positional
// arguments (commgraph run FILE --set a=b).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parsePositional parses flags interleaved with positional arguments and
// maps flag errors (but -h) to usage errors.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		err = usageErrorf("%v", err)
	}
	return pos, err
}

// parseOne parses flags interleaved with exactly one positional argument
// (what names it in the error) and maps flag errors to usage errors.
func parseOne(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parsePositional(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", usageErrorf("want exactly one %s, got %d arguments", what, len(pos))
	}
	return pos[0], nil
}

// expSignalContext returns a context cancelled by the first SIGINT or
// SIGTERM (the run then checkpoints and exits); a second signal exits at once
// with status 130 (the last checkpoint stays valid: every file is written
// atomically).
func expSignalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	supervised := os.Getenv(supervisedEnv) != ""
	go func() {
		var first time.Time
		for range ch {
			if first.IsZero() {
				first = time.Now()
				fmt.Fprintln(stderr, "\ncommgraph: stopping after the current iteration (checkpoint); signal again to quit now")
				cancel()
				continue
			}
			// A supervised child may receive one event twice: directly
			// (Slurm's scancel signals every process of the job) and
			// forwarded by its parent. A repeat within a second is that
			// same event, not a request to quit at once.
			if supervised && time.Since(first) < time.Second {
				continue
			}
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// expProgressWriter returns stderr when it is a terminal and progress is wanted.
func expProgressWriter(stderr io.Writer, quiet bool) io.Writer {
	if quiet {
		return nil
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return stderr
	}
	return nil
}

// loadRunConfig reads a config file and applies --set, --seed and --out.
// Every error it returns is a configuration error (exit status 2).
func loadRunConfig(path string, sets []string, seed int64, out string) (experiments.Config, error) {
	cfg, err := experiments.LoadConfig(path)
	if err != nil {
		return cfg, configError(err)
	}
	for _, kv := range sets {
		if err := experiments.ApplyOverride(&cfg, kv); err != nil {
			return cfg, usageErrorf("%v", err)
		}
	}
	if seed >= 0 {
		cfg.Seed, cfg.Seeds = seed, nil
	}
	if out != "" {
		cfg.OutDir = out
	}
	if err := cfg.Validate(); err != nil {
		return cfg, configError(fmt.Errorf("%s (after overrides):\n%w", path, err))
	}
	return cfg, nil
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sets setFlags
	fs.Var(&sets, "set", "override a key: --set algorithm.commformer.lr=3e-4 (repeatable)")
	seed := fs.Int64("seed", -1, "run only this seed")
	quiet := fs.Bool("quiet", false, "no progress bar")
	out := fs.String("out", "", "output root (overrides out_dir)")
	maxMem := maxMemoryFlag(fs)
	fork := fs.String("fork", "", "start from this checkpoint of another run (RUN/checkpoints/iter-N.ckpt) instead of from scratch: a paired ablation that shares everything up to iteration N (one seed; the run must be new or the same fork)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph run CONFIG.toml [--set key=value ...] [--seed N] [--quiet] [--out DIR] [--max-memory GiB] [--fork CHECKPOINT]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "config file")
	if err != nil {
		return err
	}
	if flagGiven(fs, "seed") && *seed < 0 {
		return usageErrorf("--seed %d: want a seed >= 0 (without --seed, the config's seeds)", *seed)
	}
	if fi, err := os.Stat(*out); *out != "" && err == nil && !fi.IsDir() {
		return usageErrorf("--out %s: not a directory (the root the run directories go under)", *out)
	}
	cfg, err := loadRunConfig(arg, sets, *seed, *out)
	if err != nil {
		return err
	}
	limit, err := memoryLimit(*maxMem)
	if err != nil {
		return err
	}
	if *fork != "" {
		if len(cfg.Seeds) > 1 {
			return usageErrorf("--fork continues one run: the config runs seeds %v; pick one with --seed", cfg.Seeds)
		}
		if _, err := os.Stat(*fork); err != nil {
			return usageErrorf("--fork: %v", err)
		}
	}
	ctx, stop := expSignalContext(stderr)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sums, err := experiments.Run(ctx, cfg, experiments.RunOptions{Progress: expProgressWriter(stderr, *quiet), Logger: logger, MaxMemory: limit, Fork: *fork})
	for _, s := range sums {
		printSummary(stdout, s)
	}
	if errors.Is(err, experiments.ErrConfig) {
		return configError(err) // found while building the run: status 2
	}
	return err // ErrInterrupted maps to status 130, other errors to 1
}

// printSummary prints what a user wants to see at the end of a run.
func printSummary(w io.Writer, s experiments.Summary) {
	state := "finished"
	if s.Skipped {
		state = "already finished (not redone)"
	}
	fmt.Fprintf(w, "%s seed %d: %s after %d iterations", s.Name, s.Seed, state, s.Iterations)
	if s.EnvSteps > 0 {
		fmt.Fprintf(w, ", %.0f env steps", float64(s.EnvSteps))
	}
	if s.UniqueEvals > 0 {
		fmt.Fprintf(w, ", %.0f unique evaluations", float64(s.UniqueEvals))
	}
	fmt.Fprintln(w)
	showsRegret := s.Best != nil && s.Best.Regret != nil && s.Primary.Name == "regret"
	if v, ok := s.Final[s.Primary.Name]; ok && !showsRegret {
		fmt.Fprintf(w, "  %s = %.6g\n", s.Primary.Name, float64(v))
	} else if v, ok := s.Eval[s.Primary.Name]; ok {
		fmt.Fprintf(w, "  %s = %.6g (iteration %.0f)\n", s.Primary.Name, float64(v), float64(s.Eval["iteration"]))
	}
	if b := s.Best; b != nil {
		fmt.Fprintf(w, "  best design: %s\n", formatKnobs(b.Names, b.Knobs))
		fmt.Fprintf(w, "  its metrics: %s\n", formatMetrics(b.Metrics))
		printOutcome(w, s, b)
		if b.Regret != nil {
			fmt.Fprintf(w, "  regret against the exhaustive optimum: %.6g", *b.Regret)
			switch {
			case b.OptimumTies == 1:
				fmt.Fprint(w, " (the optimum is unique)")
			case b.OptimumTies > 1:
				fmt.Fprintf(w, " (%d designs tie for the optimum)", b.OptimumTies)
			}
			if len(b.OptMetric) > 0 {
				fmt.Fprintf(w, "\n  exhaustive optimum: %s (%s)", formatKnobs(b.Names, b.Optimum), formatMetrics(b.OptMetric))
			}
			fmt.Fprintln(w)
		} else if b.NoOptimum != "" {
			fmt.Fprintf(w, "  regret not measured: %s\n", b.NoOptimum)
		}
	}
	printGraphSummary(w, s.Graph)
	fmt.Fprintf(w, "  run directory: %s (metrics.csv, summary.json, graphs/)\n", s.Dir)
	fmt.Fprintf(w, "  export the graph: commgraph graph export %s --format dot\n", s.Dir)
}

// printOutcome prints when the best design was found and its gain over the
// start design.
func printOutcome(w io.Writer, s experiments.Summary, b *experiments.Design) {
	unit := ""
	if b.Unit != "" && b.Unit != "1" {
		unit = " " + b.Unit
	}
	if b.FoundAtIteration != nil && b.FoundAtEvaluation != nil {
		if *b.FoundAtIteration == 0 {
			fmt.Fprintf(w, "  found: the start design was already best (unique evaluation 1)\n")
		} else {
			fmt.Fprintf(w, "  found at iteration %d of %d", *b.FoundAtIteration, s.Iterations)
			if b.FoundAtPlace != nil {
				fmt.Fprintf(w, ", unique evaluation %d", *b.FoundAtPlace)
			} else if b.FoundFromEvaluation != nil && *b.FoundFromEvaluation < *b.FoundAtEvaluation {
				fmt.Fprintf(w, ", among unique evaluations %d-%d", *b.FoundFromEvaluation, *b.FoundAtEvaluation)
			} else {
				fmt.Fprintf(w, ", unique evaluation %d", *b.FoundAtEvaluation)
			}
			fmt.Fprintf(w, " of %.0f spent\n", float64(s.UniqueEvals))
		}
	}
	if st := b.Start; st != nil && b.GainOverStart != nil {
		fmt.Fprintf(w, "  start design: %s\n", formatKnobs(b.Names, st.Knobs))
		fmt.Fprintf(w, "  gain over the start design: %.6g%s -> %.6g%s", st.Objective, unit, b.Objective, unit)
		g := *b.GainOverStart
		switch {
		case b.Unit == "1" || st.Objective == 0:
			fmt.Fprintf(w, " (%.6g lower)", g)
		case b.Objective > 0 && st.Objective > 0:
			fmt.Fprintf(w, " (%.1f%% lower, %.3gx)", 100*g, st.Objective/b.Objective)
		default:
			fmt.Fprintf(w, " (%.1f%% lower)", 100*g)
		}
		fmt.Fprintln(w)
	}
}

// printGraphSummary prints what the final communication graph says: each
// receiver's senders, strongest first, with the deciding margin, and the
// recovery figures when the task has a known interaction truth.
func printGraphSummary(w io.Writer, g *experiments.GraphSummary) {
	if g == nil || g.Variant == "none" || g.Variant == "full" {
		return
	}
	fmt.Fprintf(w, "  communication graph (%s, k = %d others per agent, iteration %d):", g.Variant, g.K, g.Iteration)
	if g.UndecidedRows > 0 {
		fmt.Fprintf(w, " %d of %d rows UNDECIDED (their senders are noise or ties, not learned)", g.UndecidedRows, len(g.Rows))
	}
	fmt.Fprintln(w)
	for _, r := range g.Rows {
		fmt.Fprintf(w, "    %s <- %s", r.Agent, strings.Join(r.Senders, ", "))
		if r.Margin != nil {
			fmt.Fprintf(w, "   (margin %.2f", *r.Margin)
			if !r.Decided {
				fmt.Fprint(w, ", undecided")
			}
			fmt.Fprint(w, ")")
		}
		fmt.Fprintln(w)
	}
	if g.UndecidedRows == len(g.Rows) {
		fmt.Fprint(w, "    (no row is decided: this graph says nothing about which agents interact")
		if g.OneStep {
			fmt.Fprint(w, "; in the one-step bandit form every agent observes the same constant, so messages carry nothing; the revision form (form = \"revision\", e.g. configs/recover_dram_latency.toml) is where the graph is learned")
		}
		fmt.Fprintln(w, ")")
	}
	if t := g.Truth; t != nil {
		d, u := t.Directed, t.Symmetrised
		what := "the known interactions"
		if g.TruthSource != "" && g.TruthSource != "planted" {
			what = "the interactions " + g.TruthSource
		}
		fmt.Fprintf(w, "  against %s: precision@|E| %.2f (symmetrised %.2f), AUROC %.3f (%.3f), recall of the graph %.2f, |E| = %d directed\n",
			what, d.PrecisionAtE, u.PrecisionAtE, d.AUROC, u.AUROC, d.Recall, d.TrueItems)
	}
}

func formatKnobs(order []string, m map[string]string) string {
	keys := order
	if len(keys) != len(m) {
		keys = make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.6g", k, m[k])
	}
	return strings.Join(parts, " ")
}

// mkdirWrite creates the parent directory of path and writes data atomically.
func mkdirWrite(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return fsutil.WriteFile(path, data)
}
