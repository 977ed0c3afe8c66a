package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/commgraph/commgraph/envs/fsutil"
	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("sweep", "run a grid x seeds sweep locally, one --index, or emit a Slurm/Kubernetes job", runSweep)
}

// sweepFlags are the command-line options of commgraph sweep.
type sweepFlags struct {
	jobs, index int
	emit, out   string
	list, quiet bool
	sets        setFlags
	maxMemory   int64 // bytes
}

// runSweep reads the sweep, expands and records its trials, then lists
// them, emits a scheduler job, or runs them here.
func runSweep(args []string, stdout, stderr io.Writer) error {
	f, sweepPath, err := parseSweepFlags(args, stderr)
	if err != nil {
		return err
	}
	sw, trials, err := loadTrials(sweepPath, f.sets)
	if err != nil {
		return err
	}
	if f.list { // no side effects: nothing is written
		printTrials(stdout, trials)
		return nil
	}
	if f.index < 0 {
		// One process owns the sweep's directory (not the concurrent
		// tasks of a scheduler array): remove what a killed writer of
		// trials.jsonl left.
		if root, err := sw.Root(); err == nil {
			_ = fsutil.RemoveTemps(root)
		}
	}
	listPath, err := sw.WriteTrials(trials)
	if err != nil {
		return err
	}
	if f.emit != "" {
		return emitJob(stdout, stderr, sw, sweepPath, f.emit, f.out, len(trials), listPath)
	}
	return runTrialsHere(stdout, stderr, sw, trials, f)
}

// flagGiven reports whether the flag name was on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

func parseSweepFlags(args []string, stderr io.Writer) (*sweepFlags, string, error) {
	f := &sweepFlags{}
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.jobs, "jobs", 0, "trials run at once, >= 1 (default: the sweep file's jobs, itself 1 by default)")
	fs.IntVar(&f.index, "index", -1, "run only the trial with this index (what a scheduler array task calls)")
	fs.StringVar(&f.emit, "emit", "", "write a scheduler job instead of running: slurm or k8s")
	fs.StringVar(&f.out, "out", "", "file for --emit (default: in the sweep's output directory; - = stdout)")
	fs.BoolVar(&f.list, "list", false, "print the trial list and exit")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.Var(&f.sets, "set", "override a run key in every trial: --set budget.iterations=5 (repeatable)")
	maxMem := maxMemoryFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph sweep SWEEP.toml [--set key=value ...] [--jobs N] [--index I] [--emit slurm|k8s [--out FILE]] [--list] [--quiet] [--max-memory GiB]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "sweep file")
	if err != nil {
		return nil, "", err
	}
	if f.maxMemory, err = memoryLimit(*maxMem); err != nil {
		return nil, "", err
	}
	if f.index < -1 || (f.index == -1 && flagGiven(fs, "index")) {
		return nil, "", usageErrorf("--index %d: want a trial index >= 0 (see --list)", f.index)
	}
	if flagGiven(fs, "jobs") && f.jobs < 1 {
		return nil, "", usageErrorf("--jobs %d: want >= 1 (without --jobs, the sweep file's jobs)", f.jobs)
	}
	if f.emit != "" && f.emit != "slurm" && f.emit != "k8s" {
		return nil, "", usageErrorf("--emit %q: want slurm or k8s", f.emit)
	}
	// Flag combinations are checked before any work.
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	conflicts := [][2]string{{"list", "emit"}, {"list", "index"}, {"emit", "index"}, {"emit", "jobs"}, {"list", "jobs"}}
	for _, c := range conflicts {
		if given[c[0]] && given[c[1]] {
			return nil, "", usageErrorf("--%s and --%s do not go together", c[0], c[1])
		}
	}
	if given["out"] && f.emit == "" {
		return nil, "", usageErrorf("--out is the file of --emit; give --emit slurm|k8s (run directories follow out_dir: --set out_dir=DIR)")
	}
	if err := prepareOutFile("out", f.out); err != nil {
		return nil, "", err
	}
	if given["index"] && f.index < 0 {
		return nil, "", usageErrorf("--index %d: want a trial index (0 or more)", f.index)
	}
	return f, arg, nil
}

// loadTrials reads the sweep, applies the --set overrides and expands the
// trials (nothing is written). Errors in the sweep file, its base config or
// the overrides are configuration errors (status 2).
func loadTrials(sweepPath string, sets setFlags) (*experiments.Sweep, []experiments.Trial, error) {
	sw, err := experiments.LoadSweep(sweepPath)
	if err != nil {
		return nil, nil, configError(err)
	}
	for _, kv := range sets {
		if err := sw.Override(kv); err != nil {
			return nil, nil, usageErrorf("%v", err)
		}
	}
	trials, err := sw.Trials()
	if err != nil {
		return nil, nil, configError(err)
	}
	return sw, trials, nil
}

func printTrials(stdout io.Writer, trials []experiments.Trial) {
	for _, t := range trials {
		fmt.Fprintf(stdout, "%4d  %-40s seed %-4d %s\n", t.Index, t.Variant+" | "+t.Task, t.Seed, t.Dir)
	}
	fmt.Fprintf(stdout, "%d trials\n", len(trials))
}

// emitJob writes the Slurm array script or the Kubernetes Indexed Job of the
// sweep (to out, "-" = stdout, or into the sweep's output directory) and
// says how to submit it (on stderr when the job went to stdout).
func emitJob(stdout, stderr io.Writer, sw *experiments.Sweep, sweepPath, kind, out string, ntrials int, listPath string) error {
	root, err := sw.Root()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	dest, how := out, ""
	switch kind {
	case "slurm":
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if err := sw.EmitSlurm(&b, ntrials, sweepPath, wd); err != nil {
			return err
		}
		if dest == "" {
			dest = filepath.Join(root, sw.Name+".sbatch")
		}
		how = "sbatch " + dest
		if dest == "-" {
			how = "sbatch (reads the script from its standard input)"
		}
	case "k8s":
		podPath, warn := k8sSweepPath(sweepPath)
		if err := sw.EmitK8s(&b, ntrials, podPath); err != nil {
			return err
		}
		if warn != "" {
			fmt.Fprintf(stderr, "warning: %s\n", warn)
		}
		if dest == "" {
			dest = filepath.Join(root, sw.Name+"-job.yaml")
		}
		how = "kubectl apply -f " + dest
	}
	if dest == "-" {
		if _, err := stdout.Write(b.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the %s job to stdout (%d trials; list in %s)\nsubmit with: %s\n", kind, ntrials, listPath, how)
		return nil
	}
	if err := fsutil.WriteFile(dest, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d trials; list in %s)\nsubmit with: %s\n", dest, ntrials, listPath, how)
	return nil
}

// k8sSweepPath is the sweep file's path as the pod sees it: relative to the
// container's working directory, which in the Dockerfile's image holds the
// build directory's configs/. An absolute path inside the current directory
// is made relative to it (the image was built from here); a path that still
// leaves it, or one outside configs/, gets a warning, since the image holds
// nothing else.
func k8sSweepPath(sweepPath string) (podPath, warn string) {
	p := filepath.Clean(sweepPath)
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
				p = rel
			}
		}
	}
	podPath = filepath.ToSlash(p)
	if !filepath.IsLocal(p) || !strings.HasPrefix(podPath, "configs/") {
		warn = fmt.Sprintf("the pods read the sweep file as %q in the image's working directory (k8s.working_dir); "+
			"the Dockerfile's image holds only the configs/ directory it was built from, so run --emit k8s from the "+
			"repository root with a file under configs/ (or use an image that holds %s)", podPath, podPath)
	}
	return podPath, warn
}

// runTrialsHere runs the trials (or the one --index names) in a local pool,
// reporting each as it ends, and fails if any failed.
func runTrialsHere(stdout, stderr io.Writer, sw *experiments.Sweep, trials []experiments.Trial, f *sweepFlags) error {
	if f.index >= 0 {
		if f.index >= len(trials) {
			return usageErrorf("--index %d: the sweep has trials 0..%d", f.index, len(trials)-1)
		}
		trials = trials[f.index : f.index+1]
	}
	jobs := sw.Jobs
	if f.jobs > 0 { // given (parseSweepFlags refuses a given value below 1)
		jobs = f.jobs
	}
	ctx, stop := expSignalContext(stderr)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := experiments.RunOptions{Progress: expProgressWriter(stderr, f.quiet), Logger: logger, MaxMemory: f.maxMemory}
	done := 0
	res, err := experiments.RunTrials(ctx, trials, jobs, opts, func(t experiments.Trial, s experiments.Summary, err error) {
		done++
		state := "done"
		switch {
		case err != nil:
			state = "FAILED: " + strings.ReplaceAll(err.Error(), "\n", "; ")
		case s.Skipped:
			state = "already done"
		}
		fmt.Fprintf(stdout, "[%d/%d] trial %d  %s  seed %d: %s (%s)\n", done, len(trials), t.Index, t.Variant, t.Seed, state, t.Dir)
	})
	if err != nil {
		return err
	}
	root, _ := sw.Root()
	fmt.Fprintf(stdout, "sweep %s: %d ran, %d already done, %d failed; report with: commgraph report %s\n", sw.Name, res.Ran, res.Skipped, len(res.Failed), root)
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, msg: "sweep interrupted; run the same command again to resume"}
	}
	return failedTrials(res.Failed)
}

// failedTrials joins the errors of the failed trials, in index order. When
// every failure is a configuration error (found while building the trial)
// the sweep's is one too (status 2); any runtime failure makes it status 1.
func failedTrials(failed map[int]error) error {
	if len(failed) == 0 {
		return nil
	}
	idx := make([]int, 0, len(failed))
	allConfig := true
	for i, err := range failed {
		idx = append(idx, i)
		allConfig = allConfig && errors.Is(err, experiments.ErrConfig)
	}
	sort.Ints(idx)
	msgs := make([]string, len(idx))
	for k, i := range idx {
		msgs[k] = fmt.Sprintf("trial %d: %v", i, failed[i])
	}
	err := fmt.Errorf("%d trials failed:\n%s", len(idx), strings.Join(msgs, "\n"))
	if allConfig {
		return configError(err)
	}
	return err
}
