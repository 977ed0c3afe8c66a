package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/dram/optimum"
	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/envs/fsutil"
)

func init() {
	register("dram sweep", "evaluate all 442,368 controller configurations of a trace (resumable)", runDramSweep)
	register("dram interactions", "pairwise knob interactions (two-way ANOVA of log metrics) of a sweep", runDramInteractions)
}

// sweepFixFlag collects repeated --fix Knob=Value flags.
type sweepFixFlag map[string]string

func (f *sweepFixFlag) String() string { return fmt.Sprint(map[string]string(*f)) }
func (f *sweepFixFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%q: want Knob=Value", s)
	}
	if *f == nil {
		*f = sweepFixFlag{}
	}
	name = strings.TrimSpace(name)
	if old, dup := (*f)[name]; dup {
		return fmt.Errorf("%s given twice (%s=%s and %s): fix each knob once", name, name, old, s)
	}
	(*f)[name] = strings.TrimSpace(value)
	return nil
}

// sweepIsTerminal reports whether w is a terminal (progress bars only there).
func sweepIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sweepProgress returns a progress callback that drives a bar with rate and
// ETA on stderr when it is a terminal, and a nil finish function otherwise.
func sweepProgress(stderr io.Writer, desc string) (func(exhaustive.Progress), func()) {
	if !sweepIsTerminal(stderr) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	var base int64
	cb := func(p exhaustive.Progress) {
		if bar == nil {
			base = p.Resumed
			d := desc
			if base > 0 {
				d = fmt.Sprintf("%s (resumed at %d)", desc, base)
			}
			bar = progressbar.NewOptions64(p.Total-base,
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(d),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("cfg"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionThrottle(250*time.Millisecond),
				progressbar.OptionSetWidth(30),
			)
		}
		bar.Set64(p.Done - base)
	}
	return cb, func() {
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(stderr)
		}
	}
}

func runDramSweep(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("commgraph dram sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traceName := fs.String("trace", "", "trace name (stream, random, cloud-1, cloud-2) or file (required)")
	tracesDir := fs.String("traces", "", "directory searched for the trace name before the embedded set")
	out := fs.String("out", "", "output table (default runs/sweep/dram-<trace>.sweep); a partial run continues from <out>.partial")
	jobs := fs.Int("jobs", 0, "parallel workers (default: all cores)")
	maxMem := maxMemoryFlag(fs)
	chunk := fs.Int("chunk", exhaustive.DefaultChunkSize, "configurations per durable chunk")
	best := fs.Bool("best", false, "print the best configuration per objective when done")
	noCanon := fs.Bool("no-dedup", false, "simulate every configuration, also those the model provably evaluates like another (brute-force check)")
	bestJSON := fs.String("best-json", "", "write the exhaustive optimum per objective (config + metrics) to this JSON file")
	var fix sweepFixFlag
	fs.Var(&fix, "fix", "Knob=Value: sweep only the sub-space with this knob fixed (repeatable)")
	memspec, mapping := memorySystemFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: commgraph dram sweep --trace NAME [--memspec FILE --mapping FILE] [--out FILE] [--jobs N] [--best]\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *traceName == "" {
		return usageErrorf("--trace is required (embedded: %s)", strings.Join(dram.EmbeddedTraces(), ", "))
	}
	if *jobs < 0 || *chunk <= 0 {
		return usageErrorf("--jobs must be >= 0 and --chunk > 0")
	}
	// Flag combinations are checked before any work.
	if len(fix) > 0 && (*best || *bestJSON != "") {
		return usageErrorf("--best and --best-json need the full space (no --fix)")
	}
	if len(fix) > 0 && *out == "" {
		return usageErrorf("--out is required with --fix")
	}
	if err := checkDir("traces", *tracesDir); err != nil {
		return err
	}
	if err := prepareOutFile("best-json", *bestJSON); err != nil {
		return err
	}
	limit, err := memoryLimit(*maxMem)
	if err != nil {
		return err
	}
	sims := *jobs
	if sims == 0 {
		sims = runtime.GOMAXPROCS(0)
	}
	if err := checkTraceFile(*traceName, sims, limit, *tracesDir); err != nil {
		return err
	}
	// The trace, memspec and mapping are inputs: a missing, malformed or
	// impossible one is a configuration error (status 2).
	spec, am, err := dram.LoadSystem(*memspec, *mapping)
	if err != nil {
		return configError(err)
	}
	space, err := dram.NewTraceSpaceOn(*traceName, spec, am, *tracesDir)
	if err != nil {
		return configError(err)
	}
	var ds envs.DesignSpace = space
	if len(fix) > 0 {
		if ds, err = exhaustive.Restrict(space, fix); err != nil {
			return usageErrorf("--fix: %v", err)
		}
	}
	path := *out
	if path == "" {
		path = sweepDefaultPath(space, spec != nil || am != nil)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	progress, finish := sweepProgress(stderr, ds.Name())
	start := time.Now()
	st, err := exhaustive.Run(ctx, ds, path, exhaustive.Options{Jobs: *jobs, ChunkSize: *chunk, Progress: progress, NoCanonical: *noCanon})
	finish()
	elapsed := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: 130, msg: fmt.Sprintf("%v\nrerun the same command to resume from %s", err, exhaustive.PartialPath(path))}
		}
		return err
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(st.Evaluated) / elapsed.Seconds()
	}
	fmt.Fprintf(stdout, "%s: %d configurations in %s (%d stored in %s, %.0f cfg/s, %d simulations; %d resumed)\n",
		ds.Name(), st.Total, path, st.Evaluated, elapsed.Round(time.Millisecond), rate, st.Evaluations, st.Resumed)
	if !*best && *bestJSON == "" {
		return nil
	}
	return sweepReportOptimum(stdout, path, "commgraph dram sweep "+strings.Join(args, " "), *best, *bestJSON)
}

// sweepDefaultPath is the table of a full sweep without --out:
// runs/sweep/dram-<trace>.sweep, or for another device than the default
// its own file, e.g. dram-stream@MICRON_4Gb_DDR4-2400_8bit_A.sweep.
func sweepDefaultPath(space *dram.Space, otherDevice bool) string {
	name := space.Trace().Name
	if otherDevice {
		name = strings.TrimPrefix(space.Name(), "dram/")
	}
	return filepath.Join("runs", "sweep", "dram-"+name+".sweep")
}

// sweepReportOptimum reads the finished table at path and prints its
// optimum per objective (best) and/or writes it as JSON to bestJSON; how
// records the command that made the table.
func sweepReportOptimum(stdout io.Writer, path, how string, best bool, bestJSON string) error {
	t, err := exhaustive.Read(path)
	if err != nil {
		return err
	}
	opt, err := optimum.FromTable(t, how)
	if err != nil {
		return err
	}
	if best {
		sweepPrintBest(stdout, opt)
	}
	if bestJSON != "" {
		js, err := opt.JSON()
		if err != nil {
			return err
		}
		if err := sweepWriteFile(bestJSON, js); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", bestJSON)
	}
	return nil
}

func runDramInteractions(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("commgraph dram interactions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("sweep", "", "sweep table written by 'commgraph dram sweep' (required)")
	outDir := fs.String("out-dir", "", "directory for interactions.json and interactions_<metric>.dot (default: next to the sweep)")
	top := fs.Int("top", 10, "pairs printed per metric")
	minShare := fs.Float64("min-share", 0.001, "smallest pair share drawn as a DOT edge")
	markdown := fs.Bool("markdown", false, "print the top pairs as Markdown tables")
	relevance := fs.String("relevance", "", "also print, for this metric (e.g. time_ns, edp), how often each knob's best value changes with each other knob (4,000 random contexts per pair): the interactions an agent revising a knob must hear")
	memspec, mapping := memorySystemFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: commgraph dram interactions --sweep FILE [--memspec FILE --mapping FILE] [--out-dir DIR] [--top 10] [--relevance METRIC]\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return usageErrorf("--sweep is required")
	}
	if *top < 0 || !(*minShare >= 0 && *minShare <= 1) {
		return usageErrorf("--top %d --min-share %v: want --top >= 0 and a share in [0, 1]", *top, *minShare)
	}
	t, err := exhaustive.Read(*in)
	if errors.Is(err, os.ErrNotExist) {
		return configError(err) // a missing input file; a damaged one is a runtime failure
	}
	if err != nil {
		return err
	}
	if *memspec != "" || *mapping != "" {
		// The sweep's space names its device: check it is the one asked for.
		spec, am, err := dram.LoadSystem(*memspec, *mapping)
		if err != nil {
			return configError(err)
		}
		if want := dram.SystemSuffix(spec, am); !strings.HasSuffix(strings.SplitN(t.Space, "{", 2)[0], want) {
			return fmt.Errorf("%s: the sweep is of %s, not of the memory system given by --memspec/--mapping (space names end in %q)", *in, t.Space, want)
		}
	}
	if *relevance != "" {
		if _, err := exhaustive.MetricValues(t, *relevance); err != nil {
			return usageErrorf("--relevance %s: %v", *relevance, err)
		}
	}
	// A time-only device (LPDDR4) has all-zero energy and power columns:
	// they carry no information and have no logarithm, so they are left out.
	var metrics, dropped []string
	for _, m := range exhaustive.DefaultInteractionMetrics(t) {
		if y, err := exhaustive.MetricValues(t, m); err == nil && !slices.ContainsFunc(y, func(v float64) bool { return v != 0 }) {
			dropped = append(dropped, m)
			continue
		}
		metrics = append(metrics, m)
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stderr, "%s: %s all zero (a device without an energy model), left out\n", *in, strings.Join(dropped, ", "))
	}
	r, err := exhaustive.ComputeInteractions(t, metrics)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	dir := *outDir
	if dir == "" {
		dir = strings.TrimSuffix(*in, filepath.Ext(*in)) + "-interactions"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	files := map[string][]byte{"interactions.json": js}
	for _, m := range r.Metrics {
		d, err := r.DOT(m.Metric, *minShare)
		if err != nil {
			return err
		}
		files["interactions_"+m.Metric+".dot"] = append(d, '\n')
	}
	for name, data := range files {
		if err := sweepWriteFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	if *markdown {
		sweepPrintMarkdown(stdout, r, *top)
	} else {
		sweepPrintInteractions(stdout, r, *top)
	}
	fmt.Fprintf(stdout, "\nwrote %s/interactions.json and %d DOT files\n", dir, len(files)-1)
	if *relevance != "" {
		return printRelevance(stdout, t, *relevance)
	}
	return nil
}

// printRelevance prints exhaustive.DecisionRelevance of metric as a matrix
// (rows = the knob whose best value changes, columns = the knob that
// changes), from a fixed seed so the figures reproduce.
func printRelevance(w io.Writer, t *exhaustive.Table, metric string) error {
	y, err := exhaustive.MetricValues(t, metric)
	if err != nil {
		return usageErrorf("--relevance %s: %v", metric, err)
	}
	rel, err := exhaustive.DecisionRelevance(t, y, 4000, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return err
	}
	names := t.KnobNames()
	fmt.Fprintf(w, "\ndecision relevance of %s (fraction of contexts in which the row knob's best value changes when the column knob changes):\n%-22s", metric, "")
	for _, n := range names {
		fmt.Fprintf(w, " %7.7s", n)
	}
	fmt.Fprintln(w)
	for i, row := range rel {
		fmt.Fprintf(w, "%-22s", names[i])
		for j, v := range row {
			if i == j {
				fmt.Fprintf(w, " %7s", "-")
				continue
			}
			fmt.Fprintf(w, " %7.3f", v)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sweepPrintInteractions prints the variance split of every metric and its
// top pairs.
func sweepPrintInteractions(w io.Writer, r *exhaustive.Interactions, top int) {
	fmt.Fprintf(w, "%s (%d configurations): variance shares of log(metric)\n", r.Space, r.Configs)
	for _, m := range r.Metrics {
		fmt.Fprintf(w, "\n%s: main effects %.1f%%, two-way interactions %.1f%%, higher order %.1f%%\n",
			m.Metric, 100*m.MainTotal, 100*m.PairTotal, 100*m.Higher)
		for i, p := range m.Top(top) {
			fmt.Fprintf(w, "  %2d. %-22s x %-22s %7.3f%%\n", i+1, p.A, p.B, 100*p.Share)
		}
	}
}

// sweepPrintMarkdown prints one Markdown table per metric: the top pairs
// with their shares, after a line with the variance split.
func sweepPrintMarkdown(w io.Writer, r *exhaustive.Interactions, top int) {
	fmt.Fprintf(w, "### %s (%d configurations)\n", r.Space, r.Configs)
	for _, m := range r.Metrics {
		fmt.Fprintf(w, "\n**%s**: main effects %.1f%%, two-way interactions %.1f%%, higher order %.1f%%\n\n",
			m.Metric, 100*m.MainTotal, 100*m.PairTotal, 100*m.Higher)
		fmt.Fprintf(w, "| # | knob A | knob B | share of var(log %s) |\n|---|---|---|---|\n", m.Metric)
		for i, p := range m.Top(top) {
			fmt.Fprintf(w, "| %d | %s | %s | %.3f%% |\n", i+1, p.A, p.B, 100*p.Share)
		}
	}
}

// sweepWriteFile writes data to a temporary file next to path and renames
// it into place, so a failure never leaves a half-written file.
func sweepWriteFile(path string, data []byte) error {
	return fsutil.WriteFile(path, data)
}

// sweepPrintBest prints the optimum of every objective.
func sweepPrintBest(w io.Writer, f *optimum.File) {
	fmt.Fprintf(w, "exhaustive optimum of %s over %d configurations:\n", f.Space, f.Configs)
	fmt.Fprintf(w, "%-16s %12s %14s %10s %8s  %s\n", "objective", "time_ns", "energy_pJ", "power_mW", "ties", "configuration")
	for _, e := range f.Objectives {
		c, _ := e.DramConfig()
		fmt.Fprintf(w, "%-16s %12.6g %14.8g %10.5g %8d  %s\n", e.Objective, e.Metrics.TimeNS, e.Metrics.EnergyPJ, e.Metrics.PowerMW, e.Ties, c)
	}
}
