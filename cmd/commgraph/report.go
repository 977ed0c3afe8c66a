package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("report", "ablation table (IQM, bootstrap CI), learning curves and marl-eval JSON of a runs directory", runReport)
}

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "ascii", "output: md, ascii or json (the marl-eval layout)")
	metric := fs.String("metric", "", "metrics column to compare (default: each task's primary metric)")
	threshold := fs.Float64("threshold", math.NaN(), "target for evaluations-to-threshold (default: the task's)")
	out := fs.String("out", "", "directory for curves and JSON files (default DIR/report)")
	resamples := fs.Int("resamples", experiments.DefaultResamples, "bootstrap resamples")
	seed := fs.Uint64("seed", experiments.DefaultBootstrapSeed, "bootstrap seed")
	noPlots := fs.Bool("no-plots", false, "do not write learning-curve PNGs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph report DIR [--format md|ascii|json] [--metric NAME] [--threshold X] [--out DIR]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "runs directory")
	if err != nil {
		return err
	}
	if *format != "md" && *format != "ascii" && *format != "json" {
		return usageErrorf("--format %q: want md, ascii or json", *format)
	}
	if *resamples < 1 {
		return usageErrorf("--resamples %d: want at least 1", *resamples)
	}
	dir := arg
	opt := experiments.DefaultReportOptions()
	opt.Metric, opt.Resamples, opt.Seed = *metric, *resamples, *seed
	if !math.IsNaN(*threshold) {
		opt.Threshold = threshold
	}
	rep, err := experiments.BuildReport(dir, opt)
	if err != nil {
		return err
	}
	for _, u := range rep.Unfinished {
		fmt.Fprintf(stderr, "note: unfinished run left out: %s\n", u)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stderr, "note: run without metric %q left out: %s\n", *metric, s)
	}
	outDir := *out
	if outDir == "" {
		outDir = filepath.Join(dir, "report")
	}
	marl, err := json.MarshalIndent(rep.MarlEval(), "", " ")
	if err != nil {
		return fmt.Errorf("marl-eval JSON: %w", err)
	}
	cells, err := rep.JSON()
	if err != nil {
		return fmt.Errorf("report JSON: %w", err)
	}
	var files []string
	for name, data := range map[string][]byte{"marl_eval.json": marl, "report.json": cells} {
		p := filepath.Join(outDir, name)
		if err := mkdirWrite(p, append(data, '\n')); err != nil {
			return err
		}
		files = append(files, p)
	}
	if !*noPlots {
		pngs, err := rep.PlotCurves(outDir)
		if err != nil {
			return err
		}
		files = append(files, pngs...)
	}
	if *format == "json" {
		_, err := stdout.Write(append(marl, '\n'))
		return err
	}
	if err := rep.WriteTable(stdout, *format); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d finished runs; wrote:\n", len(rep.Runs))
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	return nil
}
