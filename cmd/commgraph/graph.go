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
		return err
	}
	ok := *format == "gif"
	for _, f := range comm.Formats() {
		ok = ok || f == *format
	}
	if !ok {
		return usageErrorf("--format %q: want one of %s, gif", *format, strings.Join(comm.Formats(), ", "))
	}
	if *format == "gif" {
		if *iter > 0 || *out == "-" {
			return usageErrorf("--format gif animates every snapshot into one file: not with --iter or --out -")
		}
		*all = true
	}
	if *all && *iter > 0 {
		return usageErrorf("--all and --iter exclude each other")
	}
	if *iter < 0 {
		return usageErrorf("--iter %d: want an iteration (1 or more)", *iter)
	}
	if *width < 0 || *height < 0 {
		return usageErrorf("--width %d --height %d: want sizes in pixels (0 = the default)", *width, *height)
	}
	if *format == "svg" && !comm.GraphvizAvailable() {
		return fmt.Errorf("svg: %w", comm.ErrNoGraphviz)
	}
	runDir, snaps, err := experiments.GraphSource(arg, *iter, *all)
	if errors.Is(err, experiments.ErrNoGraph) {
		return configError(err) // the argument names no graph: status 2
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	opt := comm.ExportOptions{Width: *width, Height: *height}
	if opt.Width == 0 && opt.Height == 0 && snaps[0].N() > 6 {
		// Room for long agent names (e.g. the DRAM knobs) under each column.
		opt.Width, opt.Height = 160*snaps[0].N()+200, 70*snaps[0].N()+150
	}
	limit, err := memoryLimit(*maxMem)
	if err != nil {
		return err
	}
	if est := pngMemory(opt.Width, opt.Height); (*format == "png" || *format == "gif") && est > float64(limit) {
		return usageErrorf("--width %d x --height %d: a PNG this size needs about %s of memory, above the limit of %s (--max-memory GiB raises it)", opt.Width, opt.Height, experiments.GiB(est), experiments.GiB(float64(limit)))
	}
	if *out == "-" {
		if len(snaps) != 1 || *format == "png" {
			return usageErrorf("--out - writes one text export to stdout (not png, not --all)")
		}
		tmp, err := os.CreateTemp("", "commgraph-export-*")
		if err != nil {
			return err
		}
		name := tmp.Name()
		tmp.Close()
		defer os.Remove(name)
		if err := comm.WriteFormat(ctx, name, *format, snaps[0], opt); err != nil {
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
	if *format == "gif" {
		d := *out
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
	var dests []string
	if *all {
		dir := *out
		if dir == "" {
			dir = filepath.Join(runDir, "graph-export")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, s := range snaps {
			dests = append(dests, filepath.Join(dir, fmt.Sprintf("iter-%06d.%s", s.Iteration, *format)))
		}
	} else {
		d := *out
		if d == "" {
			d = filepath.Join(runDir, fmt.Sprintf("graph-iter-%06d.%s", snaps[0].Iteration, *format))
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
		if err := comm.WriteFormat(ctx, dests[i], *format, s, opt); err != nil {
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
