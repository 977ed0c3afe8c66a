package main

import (
	"context"
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
	format := fs.String("format", "", "dot, graphml, json, png or svg (svg needs Graphviz)")
	iter := fs.Int("iter", 0, "the iteration to export (default: the newest snapshot)")
	all := fs.Bool("all", false, "export every logged snapshot (one file per iteration) to show how the graph evolved")
	width := fs.Int("width", 0, "PNG width in pixels (default 640, or more for many agents)")
	height := fs.Int("height", 0, "PNG height in pixels (default 480, or more for many agents)")
	out := fs.String("out", "", "output file (a directory with --all; - = stdout for text formats); default inside the run directory")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph graph export RUN_DIR|SNAPSHOT.json|CHECKPOINT.ckpt --format dot|graphml|json|png|svg [--iter K] [--all] [--out PATH] [--width W --height H]")
		fs.PrintDefaults()
	}
	arg, err := parseOne(fs, args, "run directory, snapshot or checkpoint")
	if err != nil {
		return err
	}
	ok := false
	for _, f := range comm.Formats() {
		ok = ok || f == *format
	}
	if !ok {
		return usageErrorf("--format %q: want one of %s", *format, strings.Join(comm.Formats(), ", "))
	}
	if *all && *iter > 0 {
		return usageErrorf("--all and --iter exclude each other")
	}
	if *format == "svg" && !comm.GraphvizAvailable() {
		return fmt.Errorf("svg: %w", comm.ErrNoGraphviz)
	}
	runDir, snaps, err := experiments.GraphSource(arg, *iter, *all)
	if err != nil {
		return err
	}
	ctx := context.Background()
	opt := comm.ExportOptions{Width: *width, Height: *height}
	if opt.Width == 0 && opt.Height == 0 && snaps[0].N() > 6 {
		// Room for long agent names (e.g. the DRAM knobs) under each column.
		opt.Width, opt.Height = 160*snaps[0].N()+200, 70*snaps[0].N()+150
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
		_, err = stdout.Write(data)
		return err
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
	for i, s := range snaps {
		if err := comm.WriteFormat(ctx, dests[i], *format, s, opt); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (iteration %d, %d agents, %d edges)\n", dests[i], s.Iteration, s.N(), len(s.Edges(opt)))
	}
	return nil
}
