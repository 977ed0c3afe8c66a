package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("graph export", "write a run's communication graph as DOT, GraphML, JSON, PNG heatmap or SVG", runGraphExport)
}

func runGraphExport(args []string, stdout, stderr io.Writer) error {
	f, err := parseGraphExportFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.format == "svg" && !comm.GraphvizAvailable() {
		return fmt.Errorf("svg: %w", comm.ErrNoGraphviz)
	}
	runDir, snaps, err := experiments.GraphSource(f.arg, f.iter, f.all)
	if errors.Is(err, experiments.ErrNoGraph) {
		return configError(err) // the argument names no graph: status 2
	}
	if err != nil {
		return err
	}
	opt := comm.ExportOptions{Width: f.width, Height: f.height}
	if opt.Width == 0 && opt.Height == 0 && snaps[0].N() > 6 {
		// Room for long agent names (e.g. the DRAM knobs) under each column.
		opt.Width, opt.Height = 160*snaps[0].N()+200, 70*snaps[0].N()+150
	}
	if est := pngMemory(opt.Width, opt.Height); (f.format == "png" || f.format == "gif") && est > float64(f.limit) {
		return usageErrorf("--width %d x --height %d: a PNG this size needs about %s of memory, above the limit of %s (--max-memory GiB raises it)", opt.Width, opt.Height, experiments.GiB(est), experiments.GiB(float64(f.limit)))
	}
	switch {
	case f.out == "-":
		return exportToStdout(stdout, stderr, f, snaps, opt)
	case f.format == "gif":
		return exportGIF(stdout, stderr, f, runDir, snaps, opt)
	}
	return exportFiles(stdout, stderr, f, runDir, snaps, opt)
}

// graphExportFlags are the parsed arguments of `commgraph graph export`.
type graphExportFlags struct {
	arg, format, out string
	iter             int
	all              bool
	width, height    int
	limit            int64 // memory limit in bytes (--max-memory)
}

// parseGraphExportFlags parses and checks the arguments of `commgraph graph
// export`; --format gif implies --all.
func parseGraphExportFlags(args []string, stderr io.Writer) (*graphExportFlags, error) {
	fs := flag.NewFlagSet("graph export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "dot, graphml, json, png, svg (svg needs Graphviz) or gif (every snapshot as one animation)")
	iter := fs.Int("iter", 0, "the iteration to export (default: the newest snapshot)")
	all := fs.Bool("all", false, "export every logged snapshot (one file per iteration) to show how the graph evolved")
	width := fs.Int("width", 0, "PNG width in pixels (default 640, or more for many agents)")
	height := fs.Int("height", 0, "PNG height in pixels (default 480, or more for many agents)")
	out := fs.String("out", "", "output file (a directory with --all; - = stdout for text formats); default inside the run directory")
	maxMem := maxMemoryFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph graph export RUN_DIR|SNAPSHOT.json|CHECKPOINT.ckpt --format dot|graphml|json|png|svg|gif [--iter K] [--all] [--out PATH] [--width W --height H]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "run directory, snapshot or checkpoint")
	if err != nil {
		return nil, err
	}
	ok := *format == "gif"
	for _, f := range comm.Formats() {
		ok = ok || f == *format
	}
	if !ok {
		return nil, usageErrorf("--format %q: want one of %s, gif", *format, strings.Join(comm.Formats(), ", "))
	}
	if *format == "gif" {
		if *iter > 0 || *out == "-" {
			return nil, usageErrorf("--format gif animates every snapshot into one file: not with --iter or --out -")
		}
		*all = true
	}
	if *all && *iter > 0 {
		return nil, usageErrorf("--all and --iter exclude each other")
	}
	if *iter < 0 {
		return nil, usageErrorf("--iter %d: want an iteration (1 or more)", *iter)
	}
	if *width < 0 || *height < 0 {
		return nil, usageErrorf("--width %d --height %d: want sizes in pixels (0 = the default)", *width, *height)
	}
	limit, err := memoryLimit(*maxMem)
	if err != nil {
		return nil, err
	}
	return &graphExportFlags{arg: arg, format: *format, out: *out, iter: *iter, all: *all, width: *width, height: *height, limit: limit}, nil
}

// exportToStdout writes the one snapshot's text export to stdout.
func exportToStdout(stdout, stderr io.Writer, f *graphExportFlags, snaps []*comm.Snapshot, opt comm.ExportOptions) error {
	if len(snaps) != 1 || f.format == "png" {
		return usageErrorf("--out - writes one text export to stdout (not png, not --all)")
	}
	tmp, err := os.CreateTemp("", "commgraph-export-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	tmp.Close()
	defer os.Remove(name)
	if err := comm.WriteFormat(context.Background(), name, f.format, snaps[0], opt); err != nil {
		return err
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err = stdout.Write(data); err != nil {
		return err
	}
	if snaps[0].UndecidedNote() != "" {
		warnUndecided(stderr, snaps, 1)
	}
	return nil
}

// exportGIF animates every snapshot into one GIF.
func exportGIF(stdout, stderr io.Writer, f *graphExportFlags, runDir string, snaps []*comm.Snapshot, opt comm.ExportOptions) error {
	d := f.out
	if d == "" {
		d = filepath.Join(runDir, "graph-evolution.gif")
	}
	if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
		return err
	}
	if err := writeGraphGIF(d, snaps, opt); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d frames: iterations %d to %d, %d agents)\n", d, len(snaps), snaps[0].Iteration, snaps[len(snaps)-1].Iteration, snaps[0].N())
	undecided := 0
	for _, s := range snaps {
		if s.UndecidedNote() != "" {
			undecided++
		}
	}
	warnUndecided(stderr, snaps, undecided)
	return nil
}

// exportFiles writes one file per snapshot (--all: into a directory).
func exportFiles(stdout, stderr io.Writer, f *graphExportFlags, runDir string, snaps []*comm.Snapshot, opt comm.ExportOptions) error {
	var dests []string
	if f.all {
		dir := f.out
		if dir == "" {
			dir = filepath.Join(runDir, "graph-export")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, s := range snaps {
			dests = append(dests, filepath.Join(dir, fmt.Sprintf("iter-%06d.%s", s.Iteration, f.format)))
		}
	} else {
		d := f.out
		if d == "" {
			d = filepath.Join(runDir, fmt.Sprintf("graph-iter-%06d.%s", snaps[0].Iteration, f.format))
		}
		if dir := filepath.Dir(d); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		dests = []string{d}
	}
	undecided := 0
	for i, s := range snaps {
		if err := comm.WriteFormat(context.Background(), dests[i], f.format, s, opt); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (iteration %d, %d agents, %d edges)\n", dests[i], s.Iteration, s.N(), len(s.Edges(opt)))
		if s.UndecidedNote() != "" {
			undecided++
		}
	}
	warnUndecided(stderr, snaps, undecided)
	return nil
}

// warnUndecided tells the user when an exported graph has rows decided by
// noise or ties rather than learning (with --all: how many snapshots, and
// the newest one's count).
func warnUndecided(stderr io.Writer, snaps []*comm.Snapshot, undecided int) {
	if undecided == 0 {
		return
	}
	last := snaps[len(snaps)-1]
	what := fmt.Sprintf("the graph of iteration %d is undecided: %d of %d rows within noise", last.Iteration, last.UndecidedRows, last.N())
	if len(snaps) > 1 {
		what = fmt.Sprintf("%d of %d graphs are undecided (the newest, iteration %d: %d of %d rows within noise)",
			undecided, len(snaps), last.Iteration, last.UndecidedRows, last.N())
	}
	fmt.Fprintf(stderr, "warning: %s; in such rows the senders are chosen by noise or ties, not by learning (the export marks them)\n", what)
}
