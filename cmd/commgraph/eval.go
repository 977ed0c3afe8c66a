package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("eval", "evaluate a run's checkpoints again, on as many episodes as asked (final quality without the evaluation noise of a run's own 50)", runEval)
}

// evalOutput is what `commgraph eval --json` prints.
type evalOutput struct {
	Run         string                       `json:"run"`
	Episodes    int                          `json:"episodes"`
	Checkpoints []experiments.CheckpointEval `json:"checkpoints"`
	// Mean is the average over the checkpoints of every metric (more than
	// one checkpoint only).
	Mean map[string]float64 `json:"mean,omitempty"`
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("eval", flag.ContinueOnError)
	fset.SetOutput(stderr)
	itersArg := fset.String("iter", "", "comma-separated iterations whose checkpoints to evaluate (default: the newest checkpoint)")
	last := fset.Int("last", 0, "evaluate the newest N checkpoints, and print their mean")
	episodes := fset.Int("episodes", 0, "evaluation episodes per checkpoint (default: the run's eval.episodes)")
	asJSON := fset.Bool("json", false, "print the result as JSON")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph eval RUN_DIR|CHECKPOINT.ckpt [--iter K,K,... | --last N] [--episodes E] [--json]")
		fset.PrintDefaults()
	}
	arg, err := parseOne(fset, args, "run directory or checkpoint")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var iters []int
	switch {
	case set["iter"] && set["last"]:
		return usageErrorf("--iter and --last exclude each other")
	case set["last"] && *last < 1:
		return usageErrorf("--last %d: want a number of checkpoints (1 or more)", *last)
	case set["episodes"] && (*episodes < 1 || *episodes > 100000):
		return usageErrorf("--episodes %d: want 1 to 100000 episodes", *episodes)
	}
	if set["iter"] {
		for _, f := range strings.Split(*itersArg, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return usageErrorf("--iter %q: want comma-separated iterations (1 or more)", *itersArg)
			}
			if slices.Contains(iters, n) {
				return usageErrorf("--iter %q: iteration %d given twice", *itersArg, n)
			}
			iters = append(iters, n)
		}
	}
	ctx, stop := expSignalContext(stderr)
	defer stop()
	res, err := experiments.EvalCheckpoints(ctx, arg, iters, *last, *episodes)
	if errors.Is(err, experiments.ErrNoCheckpoint) {
		return usageErrorf("%v", err)
	}
	if err != nil {
		return err
	}
	out := evalOutput{Run: arg, Episodes: int(res[0].Metrics["eval_episodes"]), Checkpoints: res}
	if len(res) > 1 {
		out.Mean = map[string]float64{}
		for _, r := range res {
			for k, v := range r.Metrics {
				out.Mean[k] += v / float64(len(res))
			}
		}
	}
	if *asJSON {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return writeEvalTable(stdout, out)
}

// evalFirst are the columns shown first, in this order, when present.
var evalFirst = []string{"eval_length", "eval_return", "eval_success", "eval_final_regret", "eval_receive_rate", "eval_messages_per_step"}

// writeEvalTable prints one row per checkpoint (and a mean row): the
// iteration and every metric but the episode count, which the title gives.
func writeEvalTable(w io.Writer, out evalOutput) error {
	var keys []string
	// The episode count goes to the title; an iteration the algorithm
	// reports among its metrics (design searches) is the row's label.
	seen := map[string]bool{"eval_episodes": true, "eval_iteration": true}
	for _, k := range evalFirst {
		if _, ok := out.Checkpoints[0].Metrics[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for _, r := range out.Checkpoints {
		for k := range r.Metrics {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	slices.Sort(rest)
	keys = append(keys, rest...)
	if out.Episodes > 0 {
		fmt.Fprintf(w, "%s: %d evaluation episodes per checkpoint\n", out.Run, out.Episodes)
	} else {
		fmt.Fprintf(w, "%s: the algorithm's evaluation (it runs no episodes: a design search reports its best design so far)\n", out.Run)
	}
	header := []string{"iteration"}
	for _, k := range keys {
		header = append(header, strings.TrimPrefix(k, "eval_"))
	}
	rows := [][]string{}
	row := func(label string, m map[string]float64) []string {
		r := []string{label}
		for _, k := range keys {
			v, ok := m[k]
			if !ok || math.IsNaN(v) {
				r = append(r, "-")
				continue
			}
			r = append(r, strconv.FormatFloat(v, 'g', 6, 64))
		}
		return r
	}
	for _, c := range out.Checkpoints {
		rows = append(rows, row(strconv.Itoa(c.Iteration), c.Metrics))
	}
	if out.Mean != nil {
		rows = append(rows, row("mean", out.Mean))
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}
