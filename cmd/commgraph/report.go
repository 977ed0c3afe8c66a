package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("report", "ablation table (IQM, bootstrap CI), learning curves and marl-eval JSON of a runs directory", runReport)
}

// optBool is a boolean flag that remembers whether it was given (nil =
// not given: the command's own default applies).
type optBool struct{ v *bool }

func (b *optBool) String() string {
	if b == nil || b.v == nil {
		return "auto"
	}
	return strconv.FormatBool(*b.v)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	b.v = &v
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }

// parseBudgets parses --at: budgets of the tracker's grid (10, 30, 100,
// 300, ...), the only ones runs log a regret_at column for.
func parseBudgets(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		b, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || !onBudgetGrid(b) {
			return nil, usageErrorf("--at %q: %q is not a budget of the grid 10, 30, 100, 300, 1000, ... (runs log the regret after those numbers of unique evaluations)", s, strings.TrimSpace(f))
		}
		if slices.Contains(out, b) {
			return nil, usageErrorf("--at %q: %d listed twice", s, b)
		}
		out = append(out, b)
	}
	slices.Sort(out)
	return out, nil
}

// onBudgetGrid reports whether b is one of envs.BudgetGrid's budgets.
func onBudgetGrid(b int) bool {
	for i := 0; i < 40 && envs.BudgetGrid(i) <= b; i++ {
		if envs.BudgetGrid(i) == b {
			return true
		}
	}
	return false
}

// parsePareto splits --pareto X,Y.
func parsePareto(s string) (string, string, error) {
	x, y, ok := strings.Cut(s, ",")
	x, y = strings.TrimSpace(x), strings.TrimSpace(y)
	if !ok || x == "" || y == "" || strings.Contains(y, ",") || x == y {
		return "", "", usageErrorf("--pareto %q: want two different metrics, e.g. --pareto time_ns,energy_pJ", s)
	}
	return x, y, nil
}

// maxResamples bounds --resamples: each bootstrap interval costs
// resamples x runs work, and a million resamples already gives intervals
// far finer than their own sampling error.
const maxResamples = 1_000_000

func runReport(args []string, stdout, stderr io.Writer) error {
	f, err := parseReportFlags(args, stderr)
	if err != nil {
		return err
	}
	rep, err := experiments.BuildReportDirs(f.dirs, f.opt)
	if errors.Is(err, experiments.ErrNotResults) || errors.Is(err, experiments.ErrNoSuchMetric) || errors.Is(err, experiments.ErrDuplicateRun) {
		return configError(err) // a bad argument: status 2
	}
	if err != nil {
		return err
	}
	anytime := rep.Anytime(f.budgets)
	if f.versus != "" {
		if anytime == nil {
			return configError(fmt.Errorf("--versus %q: these runs have no task judged by regret with a threshold", f.versus))
		}
		if _, err := anytime.Versus(f.versus); err != nil {
			return configError(fmt.Errorf("--versus: %w", err))
		}
	}
	var par *experiments.Pareto
	if f.paretoX != "" {
		if par, err = rep.Pareto(f.paretoX, f.paretoY); err != nil {
			return err
		}
	}
	for _, u := range rep.Unfinished {
		fmt.Fprintf(stderr, "note: unfinished run left out: %s\n", u)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stderr, "note: run left out: %s: %s\n", s.Dir, s.Reason)
	}
	if par != nil {
		for _, m := range par.Missing {
			fmt.Fprintf(stderr, "note: run without %s or %s left out of the Pareto front: %s\n", f.paretoX, f.paretoY, m)
		}
	}
	marl, err := json.MarshalIndent(rep.MarlEval(), "", " ")
	if err != nil {
		return fmt.Errorf("marl-eval JSON: %w", err)
	}
	marl = append(marl, '\n')
	files, err := writeReportFiles(rep, anytime, par, f, marl)
	if err != nil {
		return err
	}
	return printReport(stdout, stderr, rep, anytime, par, f, marl, files)
}

// reportFlags are the parsed arguments of `commgraph report`.
type reportFlags struct {
	dirs             []string // the runs directories, pooled (a study's rounds on different seeds)
	out, format      string
	opt              experiments.ReportOptions
	noPlots          bool
	paretoX, paretoY string // both empty without --pareto
	budgets          []int  // --at (nil = experiments.DefaultAnytimeBudgets)
	versus           string // --versus: a variant judged against the rest on the regret tasks
}

// parseReportFlags parses and checks the arguments of `commgraph report`.
func parseReportFlags(args []string, stderr io.Writer) (*reportFlags, error) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "ascii", "output: ascii (boxed tables), md, csv (the ablation cells, one line each; other tables go to files) or json (the marl-eval layout)")
	metric := fs.String("metric", "", "metrics column to compare (default: each task's primary metric)")
	threshold := fs.Float64("threshold", math.NaN(), "target for evaluations-to-threshold (default: the task's)")
	out := fs.String("out", "", "directory for curves, tables and JSON files (default DIR/report; required with several DIRs)")
	resamples := fs.Int("resamples", experiments.DefaultResamples, "bootstrap resamples")
	seed := fs.Uint64("seed", experiments.DefaultBootstrapSeed, "bootstrap seed")
	noPlots := fs.Bool("no-plots", false, "write no PNGs (curves, Pareto plot)")
	pareto := fs.String("pareto", "", "two metrics X,Y: the Pareto front of the runs' best designs (e.g. time_ns,energy_pJ), as a table, CSV and PNG")
	at := fs.String("at", "", "budgets (unique evaluations) of the anytime table of regret tasks, comma-separated, from 10, 30, 100, 300, ... (default 100,300,1000,3000)")
	versus := fs.String("versus", "", "a variant to judge against the others on every regret task: its evaluations to the threshold against the fewest other's, fewest or not, inside that one's CI or not (table, and versus.csv)")
	var logx optBool
	fs.Var(&logx, "logx", "log-scale budget axis in the curves (default: on for evaluation axes, unique_evals; --logx=false turns it off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph report DIR [DIR ...] [--format ascii|md|csv|json] [--metric NAME] [--threshold X] [--pareto X,Y] [--at B,B,...] [--versus VARIANT] [--logx[=false]] [--out DIR]")
		fs.PrintDefaults()
	}
	dirs, err := parsePositional(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(dirs) == 0:
		fs.Usage()
		return nil, usageErrorf("want one or more runs directories, got none")
	case len(dirs) > 1 && *out == "":
		return nil, usageErrorf("%d runs directories: give --out, the directory for the pooled report's files", len(dirs))
	}
	switch *format {
	case "ascii", "md", "csv", "json":
	default:
		return nil, usageErrorf("--format %q: want ascii, md, csv or json", *format)
	}
	if *resamples < 1 || *resamples > maxResamples {
		return nil, usageErrorf("--resamples %d: want 1 to %d", *resamples, maxResamples)
	}
	f := &reportFlags{dirs: dirs, out: *out, format: *format, noPlots: *noPlots, opt: experiments.DefaultReportOptions(), versus: *versus}
	if *pareto != "" {
		if f.paretoX, f.paretoY, err = parsePareto(*pareto); err != nil {
			return nil, err
		}
	}
	if f.out == "" {
		f.out = filepath.Join(dirs[0], "report")
	}
	if *at != "" {
		if f.budgets, err = parseBudgets(*at); err != nil {
			return nil, err
		}
	}
	f.opt.Metric, f.opt.Resamples, f.opt.Seed, f.opt.LogX = *metric, *resamples, *seed, logx.v
	if !math.IsNaN(*threshold) {
		f.opt.Threshold = threshold
	}
	return f, nil
}

// writeReportFiles writes the report's files into f.out (JSON, CSV tables,
// and unless --no-plots the curves and the Pareto plot) and returns their
// paths.
func writeReportFiles(rep *experiments.Report, anytime *experiments.Anytime, par *experiments.Pareto, f *reportFlags, marl []byte) ([]string, error) {
	cells, err := rep.JSON()
	if err != nil {
		return nil, fmt.Errorf("report JSON: %w", err)
	}
	type outFile struct {
		name string
		data func() ([]byte, error)
	}
	outputs := []outFile{
		{"marl_eval.json", func() ([]byte, error) { return marl, nil }},
		{"report.json", func() ([]byte, error) { return append(cells, '\n'), nil }},
		{"report.csv", func() ([]byte, error) { return render(func(w io.Writer) error { return rep.WriteTable(w, "csv") }) }},
	}
	if len(rep.BestDesigns()) > 0 {
		outputs = append(outputs, outFile{"best_designs.csv", func() ([]byte, error) {
			return render(func(w io.Writer) error { return rep.WriteBestDesigns(w, "csv") })
		}})
	}
	if anytime != nil {
		outputs = append(outputs, outFile{"anytime.csv", func() ([]byte, error) {
			return render(func(w io.Writer) error { return anytime.Write(w, "csv") })
		}})
		if f.versus != "" {
			outputs = append(outputs, outFile{"versus.csv", func() ([]byte, error) {
				return render(func(w io.Writer) error { return anytime.WriteVersus(w, "csv", f.versus) })
			}})
		}
	}
	paretoBase := ""
	if par != nil {
		paretoBase = "pareto-" + fileSafe(f.paretoX) + "-" + fileSafe(f.paretoY)
		outputs = append(outputs, outFile{paretoBase + ".csv", func() ([]byte, error) { return render(func(w io.Writer) error { return par.Write(w, "csv") }) }})
	}
	var files []string
	for _, o := range outputs {
		data, err := o.data()
		if err != nil {
			return nil, err
		}
		p := filepath.Join(f.out, o.name)
		if err := mkdirWrite(p, data); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	if f.noPlots {
		return files, nil
	}
	pngs, err := rep.PlotCurves(f.out)
	if err != nil {
		return nil, err
	}
	files = append(files, pngs...)
	if anytime != nil {
		for _, opt := range []bool{false, true} {
			p := filepath.Join(f.out, "profile.png")
			if opt {
				p = filepath.Join(f.out, "profile-optimum.png")
			}
			if err := anytime.PlotProfile(p, opt); err != nil {
				return nil, err
			}
			files = append(files, p)
		}
	}
	if par != nil {
		p := filepath.Join(f.out, paretoBase+".png")
		if err := par.Plot(p); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return files, nil
}

// printReport prints the report in format on stdout, then the files
// written (on stderr for csv, whose stdout holds only the CSV).
func printReport(stdout, stderr io.Writer, rep *experiments.Report, anytime *experiments.Anytime, par *experiments.Pareto, f *reportFlags, marl []byte, files []string) error {
	list, format := stdout, f.format
	switch format {
	case "json":
		_, err := stdout.Write(marl)
		return err
	case "csv":
		if err := rep.WriteTable(stdout, "csv"); err != nil {
			return err
		}
		list = stderr
	default:
		if err := rep.WriteTable(stdout, format); err != nil {
			return err
		}
		if anytime != nil {
			if err := anytime.Write(stdout, format); err != nil {
				return err
			}
			if f.versus != "" {
				if err := anytime.WriteVersus(stdout, format, f.versus); err != nil {
					return err
				}
			}
		}
		if err := rep.WriteBestDesigns(stdout, format); err != nil {
			return err
		}
		if par != nil {
			if err := par.Write(stdout, format); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(list, "%d finished runs; wrote:\n", len(rep.Runs))
	for _, file := range files {
		fmt.Fprintf(list, "  %s\n", file)
	}
	return nil
}

// render collects what write writes.
func render(write func(io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fileSafe replaces what does not belong in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}
