package main

import (
	"bytes"
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

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobs := fs.Int("jobs", 0, "trials run at once (0 = the sweep file's jobs, default 1)")
	index := fs.Int("index", -1, "run only the trial with this index (what a scheduler array task calls)")
	emit := fs.String("emit", "", "write a scheduler job instead of running: slurm or k8s")
	out := fs.String("out", "", "file for --emit (default: in the sweep's output directory)")
	list := fs.Bool("list", false, "print the trial list and exit")
	quiet := fs.Bool("quiet", false, "no progress bar")
	var sets setFlags
	fs.Var(&sets, "set", "override a run key in every trial: --set budget.iterations=5 (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph sweep SWEEP.toml [--set key=value ...] [--jobs N] [--index I] [--emit slurm|k8s [--out FILE]] [--list] [--quiet]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "sweep file")
	if err != nil {
		return err
	}
	if *emit != "" && *emit != "slurm" && *emit != "k8s" {
		return usageErrorf("--emit %q: want slurm or k8s", *emit)
	}
	sweepPath := arg
	sw, err := experiments.LoadSweep(sweepPath)
	if err != nil {
		return err
	}
	for _, kv := range sets {
		if err := sw.Override(kv); err != nil {
			return usageErrorf("%v", err)
		}
	}
	trials, err := sw.Trials()
	if err != nil {
		return err
	}
	listPath, err := sw.WriteTrials(trials)
	if err != nil {
		return err
	}
	if *list {
		for _, t := range trials {
			fmt.Fprintf(stdout, "%4d  %-40s seed %-4d %s\n", t.Index, t.Variant+" | "+t.Task, t.Seed, t.Dir)
		}
		fmt.Fprintf(stdout, "%d trials (written to %s)\n", len(trials), listPath)
		return nil
	}
	if *emit != "" {
		root, err := sw.Root()
		if err != nil {
			return err
		}
		var b bytes.Buffer
		dest := *out
		switch *emit {
		case "slurm":
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if err := sw.EmitSlurm(&b, len(trials), sweepPath, wd); err != nil {
				return err
			}
			if dest == "" {
				dest = filepath.Join(root, sw.Name+".sbatch")
			}
		case "k8s":
			if err := sw.EmitK8s(&b, len(trials), filepath.ToSlash(sweepPath)); err != nil {
				return err
			}
			if dest == "" {
				dest = filepath.Join(root, sw.Name+"-job.yaml")
			}
		}
		if err := fsutil.WriteFile(dest, b.Bytes()); err != nil {
			return err
		}
		how := "sbatch " + dest
		if *emit == "k8s" {
			how = "kubectl apply -f " + dest
		}
		fmt.Fprintf(stdout, "wrote %s (%d trials; list in %s)\nsubmit with: %s\n", dest, len(trials), listPath, how)
		return nil
	}
	ctx, stop := expSignalContext(stderr)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := experiments.RunOptions{Progress: expProgressWriter(stderr, *quiet), Logger: logger}
	if *index >= 0 {
		if *index >= len(trials) {
			return usageErrorf("--index %d: the sweep has trials 0..%d", *index, len(trials)-1)
		}
		trials = trials[*index : *index+1]
	}
	n := *jobs
	if n == 0 {
		n = max(sw.Jobs, 1)
	}
	total := len(trials)
	done := 0
	res := experiments.RunTrials(ctx, trials, n, opts, func(t experiments.Trial, s experiments.Summary, err error) {
		done++
		state := "done"
		switch {
		case err != nil:
			state = "FAILED: " + strings.ReplaceAll(err.Error(), "\n", "; ")
		case s.Skipped:
			state = "already done"
		}
		fmt.Fprintf(stdout, "[%d/%d] trial %d  %s  seed %d: %s (%s)\n", done, total, t.Index, t.Variant, t.Seed, state, t.Dir)
	})
	root, _ := sw.Root()
	fmt.Fprintf(stdout, "sweep %s: %d ran, %d already done, %d failed; report with: commgraph report %s\n", sw.Name, res.Ran, res.Skipped, len(res.Failed), root)
	if ctx.Err() != nil {
		return &exitError{code: 130, msg: "sweep interrupted; run the same command again to resume"}
	}
	if len(res.Failed) > 0 {
		idx := make([]int, 0, len(res.Failed))
		for i := range res.Failed {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var msgs []string
		for _, i := range idx {
			msgs = append(msgs, fmt.Sprintf("trial %d: %v", i, res.Failed[i]))
		}
		return fmt.Errorf("%d trials failed:\n%s", len(idx), strings.Join(msgs, "\n"))
	}
	return nil
}
