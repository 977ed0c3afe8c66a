package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/envs/synthetic"
	"github.com/commgraph/commgraph/experiments"
)

func init() {
	register("graph compare", "compare a run's learned graph with a ground truth: precision@|E|, recall, precision, AUROC, hit rate", runGraphCompare)
}

// defaultMinShare is the share of the variance of log(metric) a pair needs
// to count as interacting in a sweep truth (without --top).
const defaultMinShare = 0.01

// truth is a ground truth of interacting agents, aligned or not yet aligned
// with a graph's agents.
type truth struct {
	Kind   string `json:"kind"`             // planted, sweep or file
	Source string `json:"source"`           // the run directory or the file
	Metric string `json:"metric,omitempty"` // sweep: the metric whose ANOVA gave the pairs
	Rule   string `json:"rule"`             // how the true pairs were chosen
	// Pairs lists the interacting pairs by agent name (receiver first for a
	// directed truth from a file).
	Pairs []truthPair `json:"pairs"`

	names   []string    // agent names of the truth (nil: by position)
	weights [][]float64 // N x N, rows = receivers
	shade   [][]float64 // sweep: every pair's share (for the heatmap); nil = weights
	title   string      // the heatmap panel's title
}

type truthPair struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Weight float64 `json:"weight"`
}

// compareResult is what --json prints.
type compareResult struct {
	Graph struct {
		Source    string       `json:"source"`
		Iteration int          `json:"iteration"`
		Variant   comm.Variant `json:"variant"`
		Agents    []string     `json:"agents"`
	} `json:"graph"`
	Truth      *truth           `json:"truth"`
	Comparison *comm.Comparison `json:"comparison"`
	Group      *groupResult     `json:"group,omitempty"`
	Notes      []string         `json:"notes,omitempty"`
}

// groupResult: of the senders chosen by a group of receivers, how many are
// in the group (comm.GroupSenders).
type groupResult struct {
	Agents   []string `json:"agents"`
	InGroup  int      `json:"in_group"`
	Chosen   int      `json:"chosen"`
	Fraction float64  `json:"fraction"`
	Chance   float64  `json:"chance"`
}

// parseGroup resolves comma-separated agent names (or indices) to indices.
func parseGroup(v string, agents []string) ([]int, error) {
	var idx []int
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		i := slices.Index(agents, f)
		if i < 0 {
			if _, err := fmt.Sscan(f, &i); err != nil || i < 0 || i >= len(agents) || fmt.Sprint(i) != f {
				return nil, usageErrorf("--group: %q is not an agent (have %s)", f, strings.Join(agents, ", "))
			}
		}
		idx = append(idx, i)
	}
	return idx, nil
}

func groupOf(s *comm.Snapshot, group []int) (*groupResult, error) {
	if group == nil {
		return nil, nil
	}
	in, chosen, chance, err := comm.GroupSenders(s.Adjacency, group)
	if err != nil {
		return nil, usageErrorf("--group: %v", err)
	}
	g := &groupResult{InGroup: in, Chosen: chosen, Chance: chance}
	if chosen > 0 {
		g.Fraction = float64(in) / float64(chosen)
	}
	for _, i := range group {
		g.Agents = append(g.Agents, s.Agents[i])
	}
	return g, nil
}

func runGraphCompare(args []string, stdout, stderr io.Writer) error {
	f, err := parseGraphCompareFlags(args, stderr)
	if err != nil {
		return err
	}
	runDir, snaps, err := experiments.GraphSource(f.arg, f.iter, f.all)
	if errors.Is(err, experiments.ErrNoGraph) {
		return configError(err) // the argument names no graph: status 2
	}
	if err != nil {
		return err
	}
	s := snaps[len(snaps)-1]
	var group []int
	if f.group != "" {
		if group, err = parseGroup(f.group, s.Agents); err != nil {
			return err
		}
	}
	var tr *truth
	switch f.truthKind {
	case "planted":
		tr, err = plantedTruth(runDir)
	case "sweep":
		tr, err = sweepTruth(f.truthFile, runDir, f.metric, f.top, f.minShare)
	default:
		tr, err = fileTruth(f.truthFile)
	}
	if err != nil {
		return err
	}
	var notes []string
	weights, note, err := alignTruth(tr, s.Agents)
	if err != nil {
		return err
	}
	shade := weights
	if tr.shade != nil {
		sh := *tr
		sh.weights = tr.shade
		if shade, _, err = alignTruth(&sh, s.Agents); err != nil {
			return err
		}
	}
	if note != "" {
		notes = append(notes, note)
	}
	if f.all {
		return compareAll(stdout, f.arg, tr, weights, snaps, group, notes, f.json)
	}
	return compareOne(stdout, stderr, f, s, tr, weights, shade, group, notes)
}

// graphCompareFlags are the parsed arguments of `commgraph graph compare`.
type graphCompareFlags struct {
	arg                  string
	truthKind, truthFile string // parseTruthArg
	metric               string
	top                  int
	minShare             float64
	iter                 int
	all, json            bool
	png, group           string
}

// parseGraphCompareFlags parses and checks the arguments of `commgraph
// graph compare` (flags that do not go together, ranges, the --png file).
func parseGraphCompareFlags(args []string, stderr io.Writer) (*graphCompareFlags, error) {
	fset := flag.NewFlagSet("graph compare", flag.ContinueOnError)
	fset.SetOutput(stderr)
	truthArg := fset.String("truth", "", "the ground truth: planted (the run's synthetic space), sweep:FILE (pairwise ANOVA of an exhaustive sweep table) or FILE (an adjacency matrix, rows = receivers, nonzero = true)")
	metric := fset.String("metric", "", "sweep truth: the metric whose interactions count (default: the run's objective metric when the table has it, else the table's first metric)")
	top := fset.Int("top", 0, "sweep truth: the T pairs with the largest interaction shares are true (instead of --min-share)")
	minShare := fset.Float64("min-share", defaultMinShare, "sweep truth: pairs whose share of the variance of log(metric) is at least this are true")
	iter := fset.Int("iter", 0, "the iteration to compare (default: the newest snapshot)")
	asJSON := fset.Bool("json", false, "print the result as JSON")
	pngOut := fset.String("png", "", "also write the learned graph and the truth side by side as a heatmap PNG to this file")
	all := fset.Bool("all", false, "compare every logged snapshot (one row per iteration: how recovery evolved over training)")
	groupArg := fset.String("group", "", "comma-separated agents (names or indices): also report how many of the senders they chose are in the group (e.g. the interacting DRAM knobs)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph graph compare RUN_DIR|SNAPSHOT.json|CHECKPOINT.ckpt --truth planted|sweep:FILE|FILE [--metric M] [--top T | --min-share S] [--iter K | --all] [--group A,B,...] [--json] [--png FILE]")
		fmt.Fprintln(stderr, "example: commgraph graph compare runs/recover_planted10/seed-1 --truth planted")
		fset.PrintDefaults()
	}
	arg, err := parseOne(fset, args, "run directory, snapshot or checkpoint")
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	kind, file, err := parseTruthArg(*truthArg)
	if err != nil {
		return nil, err
	}
	if kind != "sweep" {
		for _, f := range []string{"metric", "top", "min-share"} {
			if set[f] {
				return nil, usageErrorf("--%s applies only to --truth sweep:FILE", f)
			}
		}
	}
	switch {
	case set["top"] && set["min-share"]:
		return nil, usageErrorf("--top and --min-share exclude each other")
	case *top < 0 || (set["top"] && *top == 0):
		return nil, usageErrorf("--top %d: want a positive number of pairs", *top)
	case !(*minShare > 0 && *minShare <= 1):
		return nil, usageErrorf("--min-share %v: want a share in (0, 1]", *minShare)
	case *all && set["iter"]:
		return nil, usageErrorf("--all and --iter exclude each other")
	case *all && *pngOut != "":
		return nil, usageErrorf("--png draws one snapshot: use --iter K instead of --all")
	case *iter < 0:
		return nil, usageErrorf("--iter %d: want an iteration (1 or more)", *iter)
	}
	if err := prepareOutFile("png", *pngOut); err != nil {
		return nil, err
	}
	return &graphCompareFlags{arg: arg, truthKind: kind, truthFile: file, metric: *metric, top: *top, minShare: *minShare,
		iter: *iter, all: *all, json: *asJSON, png: *pngOut, group: *groupArg}, nil
}

// compareOne compares one snapshot with the truth and prints the result
// (a table or JSON), writing the side-by-side PNG when asked.
func compareOne(stdout, stderr io.Writer, f *graphCompareFlags, s *comm.Snapshot, tr *truth, weights, shade [][]float64, group []int, notes []string) error {
	c, err := s.Compare(weights)
	if err != nil {
		return err
	}
	if c.UndecidedRows > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d rows are undecided (their k-th and (k+1)-th senders are within noise): recall, precision and hit rate there reflect ties, not learning", c.UndecidedRows, c.N))
	}
	var res compareResult
	res.Graph.Source, res.Graph.Iteration, res.Graph.Variant, res.Graph.Agents = f.arg, s.Iteration, s.Variant, s.Agents
	res.Truth, res.Comparison, res.Notes = tr, c, notes
	if res.Group, err = groupOf(s, group); err != nil {
		return err
	}
	if f.png != "" {
		opt := comm.ExportOptions{}
		if n := s.N(); n > 6 {
			opt.Width, opt.Height = 2*(110*n+150)+200, 70*n+170 // room for long agent names
		}
		v := comm.CompareView{Truth: weights, Shade: shade, Title: tr.title,
			Summary: fmt.Sprintf("precision@|E| %.2f directed, %.2f symmetrised; AUROC %.3f directed, %.3f symmetrised",
				c.Directed.PrecisionAtE, c.Symmetrised.PrecisionAtE, c.Directed.AUROC, c.Symmetrised.AUROC)}
		if err := comm.WriteComparePNG(f.png, s, v, opt); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", f.png)
	}
	if f.json {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	return writeCompareTable(stdout, &res)
}

// parseTruthArg splits --truth into its kind (planted, sweep, file) and
// file. An empty value, an unknown "kind:..." prefix or a file that does not
// exist is a usage error naming the accepted forms.
func parseTruthArg(v string) (kind, file string, err error) {
	const forms = "want planted, sweep:FILE or an adjacency FILE"
	switch {
	case v == "":
		return "", "", usageErrorf("--truth is required (%s)", forms)
	case v == "planted":
		return "planted", "", nil
	case strings.HasPrefix(v, "sweep:"):
		file = strings.TrimPrefix(v, "sweep:")
		if file == "" {
			return "", "", usageErrorf("--truth sweep: needs a file (sweep:FILE, a table written by `commgraph dram sweep`)")
		}
		return "sweep", file, nil
	}
	if _, err := os.Stat(v); err != nil {
		if p, _, ok := strings.Cut(v, ":"); ok && len(p) > 1 && !strings.ContainsAny(p, `/\.`) {
			return "", "", usageErrorf("--truth %q: unknown truth kind %q (%s)", v, p, forms)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", "", usageErrorf("--truth %q: no such file (%s)", v, forms)
		}
		return "", "", err
	}
	return "file", v, nil
}

// buildRunTask rebuilds the task of a run directory from its config.toml
// (resolved paths, the run's seed). The caller calls done.
func buildRunTask(runDir string) (task *experiments.Task, cfg experiments.Config, done func(), err error) {
	path := filepath.Join(runDir, "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, cfg, nil, fmt.Errorf("%s: no config.toml (%w): the truth needs the run directory, or a snapshot inside its graphs/", runDir, err)
	}
	cfg, err = experiments.LoadConfig(path)
	if err != nil {
		return nil, cfg, nil, err
	}
	task, alg, err := experiments.Build(&cfg, uint64(cfg.Seed))
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("%s: %w", path, err)
	}
	done = func() {
		if c, ok := alg.(experiments.Closer); ok {
			_ = c.Close()
		}
		if task.Close != nil {
			_ = task.Close()
		}
	}
	return task, cfg, done, nil
}

// plantedPairer is a design space with a planted interaction graph
// (synthetic.Space, whatever generator chose its pairs).
type plantedPairer interface {
	Pairs() []synthetic.Pair
}

// unwrapSpace peels wrappers (envs.Counted, restrictions) off a design space.
func unwrapSpace(ds envs.DesignSpace) envs.DesignSpace {
	for {
		u, ok := ds.(interface{ Unwrap() envs.DesignSpace })
		if !ok {
			return ds
		}
		ds = u.Unwrap()
	}
}

// plantedTruth rebuilds the run's synthetic space: every planted pair {a, b}
// with strength s != 0 is true in both directions, weight |s|.
func plantedTruth(runDir string) (*truth, error) {
	task, cfg, done, err := buildRunTask(runDir)
	if err != nil {
		return nil, err
	}
	defer done()
	var sp plantedPairer
	if task.Design != nil {
		sp, _ = unwrapSpace(task.Design.Space()).(plantedPairer)
	}
	if sp == nil {
		return nil, fmt.Errorf("%s: env.kind = %q has no planted interactions (--truth planted needs a synthetic space; use --truth sweep:FILE or an adjacency FILE)", runDir, cfg.Env.Kind)
	}
	knobs := task.Design.Space().Knobs()
	n := len(knobs)
	tr := &truth{Kind: "planted", Source: runDir, Rule: "the synthetic space's planted pairs, both directions", weights: square(n),
		title: "truth: planted pairs (pair strength)"}
	for _, k := range knobs {
		tr.names = append(tr.names, k.Name)
	}
	for _, p := range sp.Pairs() {
		w := max(p.S, -p.S)
		if w == 0 {
			continue
		}
		tr.weights[p.A][p.B], tr.weights[p.B][p.A] = w, w
		tr.Pairs = append(tr.Pairs, truthPair{A: tr.names[p.A], B: tr.names[p.B], Weight: w})
	}
	return tr, nil
}

// sweepTruth reads an exhaustive sweep table and takes as true the pairs
// carrying the top `top` interaction shares of the metric (top > 0), or
// every pair whose share is at least minShare; both directions, weight =
// share.
func sweepTruth(file, runDir, metric string, top int, minShare float64) (*truth, error) {
	tab, err := exhaustive.Read(file)
	if err != nil {
		return nil, err
	}
	avail := exhaustive.DefaultInteractionMetrics(tab)
	var r *exhaustive.Interactions
	switch {
	case metric != "" && !slices.Contains(avail, metric):
		return nil, usageErrorf("--metric %q: the table %s has %s", metric, file, strings.Join(avail, ", "))
	case metric != "":
		if r, err = exhaustive.ComputeInteractions(tab, []string{metric}); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	default:
		// The run's objective metric, else the first metric whose log exists
		// (the ANOVA is of log(metric): every value must be positive).
		cands := avail
		if m := runObjectiveMetric(runDir); slices.Contains(avail, m) {
			cands = append([]string{m}, avail...)
		}
		var first error
		for _, m := range cands {
			if r, err = exhaustive.ComputeInteractions(tab, []string{m}); err == nil {
				metric = m
				break
			}
			first = cmp.Or(first, err)
		}
		if r == nil {
			return nil, fmt.Errorf("%s: no metric has interactions (%w)", file, first)
		}
	}
	mi := r.Metric(metric)
	var pairs []exhaustive.PairShare
	rule := ""
	if top > 0 {
		if top > len(mi.Pairs) {
			return nil, usageErrorf("--top %d: the table has only %d pairs", top, len(mi.Pairs))
		}
		pairs = mi.Top(top)
		rule = fmt.Sprintf("the %d pairs with the largest interaction shares of log(%s)", top, metric)
	} else {
		for _, p := range mi.Pairs {
			if p.Share >= minShare {
				pairs = append(pairs, p)
			}
		}
		if len(pairs) == 0 {
			return nil, fmt.Errorf("%s: no pair carries a share >= %g of the variance of log(%s) (largest %.3g); lower --min-share or use --top", file, minShare, metric, mi.Pairs[0].Share)
		}
		rule = fmt.Sprintf("pairs whose interaction share of log(%s) is >= %g", metric, minShare)
	}
	n := len(r.Knobs)
	tr := &truth{Kind: "sweep", Source: file, Metric: metric, Rule: rule, names: r.Knobs, weights: square(n), shade: square(n),
		title: fmt.Sprintf("measured: ANOVA interaction shares of log(%s)\n(annotated: the pairs taken as true)", metric)}
	for _, p := range mi.Pairs {
		tr.shade[p.AIndex][p.BIndex], tr.shade[p.BIndex][p.AIndex] = p.Share, p.Share
	}
	for _, p := range pairs {
		tr.weights[p.AIndex][p.BIndex], tr.weights[p.BIndex][p.AIndex] = p.Share, p.Share
		tr.Pairs = append(tr.Pairs, truthPair{A: p.A, B: p.B, Weight: p.Share})
	}
	return tr, nil
}

// runObjectiveMetric names the interaction metric of the run's objective:
// its one metric, or "edp" for energy x time; "" when unknown (no
// config.toml, not a design-space task, or another product).
func runObjectiveMetric(runDir string) string {
	if _, err := os.Stat(filepath.Join(runDir, "config.toml")); err != nil {
		return ""
	}
	task, _, done, err := buildRunTask(runDir)
	if err != nil {
		return ""
	}
	defer done()
	se, ok := task.Env.(interface{ Objective() *envs.Objective })
	if !ok || se.Objective() == nil {
		return ""
	}
	ms := slices.Sorted(slices.Values(se.Objective().Config().Metrics))
	switch {
	case len(ms) == 1:
		return ms[0]
	case slices.Equal(ms, []string{dram.MetricEnergyPJ, dram.MetricTimeNS}):
		return exhaustive.MetricEDP
	}
	return ""
}

// fileTruth reads an adjacency file (rows = receivers): nonzero = true.
func fileTruth(file string) (*truth, error) {
	m, err := comm.ReadAdjacency(file)
	if err != nil {
		return nil, err
	}
	tr := &truth{Kind: "file", Source: file, Rule: "nonzero entries (row = receiver, column = sender)", weights: m,
		title: "truth: " + filepath.Base(file)}
	for i, r := range m {
		for j, v := range r {
			if i != j && v != 0 {
				tr.Pairs = append(tr.Pairs, truthPair{A: fmt.Sprint(i), B: fmt.Sprint(j), Weight: v})
			}
		}
	}
	return tr, nil
}

func square(n int) [][]float64 {
	m := make([][]float64, n)
	for i := range m {
		m[i] = make([]float64, n)
	}
	return m
}

// alignTruth returns the truth's weights in the graph's agent order: by
// name when every agent names a distinct knob of the truth, else by position
// (with a note when the names differ). A different agent count is an error.
func alignTruth(tr *truth, agents []string) ([][]float64, string, error) {
	n := len(agents)
	if len(tr.weights) != n {
		return nil, "", fmt.Errorf("the truth (%s %s) has %d agents, the graph %d", tr.Kind, tr.Source, len(tr.weights), n)
	}
	if tr.names == nil {
		if tr.Kind == "file" {
			for p := range tr.Pairs {
				tr.Pairs[p].A = agentName(agents, tr.Pairs[p].A)
				tr.Pairs[p].B = agentName(agents, tr.Pairs[p].B)
			}
		}
		return tr.weights, "", nil
	}
	pos := map[string]int{}
	for i, name := range tr.names {
		pos[name] = i
	}
	perm := make([]int, n)
	seen := map[int]bool{}
	byName := len(pos) == n
	for i, a := range agents {
		j, ok := pos[a]
		if !ok || seen[j] {
			byName = false
			break
		}
		seen[j], perm[i] = true, j
	}
	if !byName {
		note := ""
		if !slices.Equal(tr.names, agents) {
			note = fmt.Sprintf("the graph's agents (%s) are not the truth's knobs (%s): matched by position", strings.Join(agents, ", "), strings.Join(tr.names, ", "))
		}
		return tr.weights, note, nil
	}
	w := square(n)
	for i := range w {
		for j := range w[i] {
			w[i][j] = tr.weights[perm[i]][perm[j]]
		}
	}
	return w, "", nil
}

// agentName maps a position string of a file truth to the agent's name.
func agentName(agents []string, idx string) string {
	var i int
	if _, err := fmt.Sscan(idx, &i); err == nil && i >= 0 && i < len(agents) && agents[i] != "" {
		return agents[i]
	}
	return idx
}

func writeCompareTable(w io.Writer, r *compareResult) error {
	c := r.Comparison
	fmt.Fprintf(w, "graph: %s, iteration %d (%s, N = %d, k = %d; undecided rows: %d of %d)\n",
		r.Graph.Source, r.Graph.Iteration, r.Graph.Variant, c.N, c.K, c.UndecidedRows, c.N)
	fmt.Fprintf(w, "truth: %s %s: %s (%d pairs)\n", r.Truth.Kind, r.Truth.Source, r.Truth.Rule, len(r.Truth.Pairs))
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("figure", "directed", "symmetrised")
	f := func(x float64) string { return fmt.Sprintf("%.3f", x) }
	d, s := c.Directed, c.Symmetrised
	rows := [][]string{
		{"precision@|E|", f(d.PrecisionAtE), f(s.PrecisionAtE)},
		{"recall", f(d.Recall), f(s.Recall)},
		{"precision", f(d.Precision), f(s.Precision)},
		{"AUROC", f(d.AUROC), f(s.AUROC)},
		{"hit rate", f(d.HitRate), f(s.HitRate)},
		{"|E| (true items)", fmt.Sprintf("%d of %d", d.TrueItems, d.Items), fmt.Sprintf("%d of %d", s.TrueItems, s.Items)},
		{"edges in graph", fmt.Sprint(d.ChosenItems), fmt.Sprint(s.ChosenItems)},
	}
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprint(w, `precision@|E|: the fraction of true items among the |E| best-scored ones (scores: row-centred logits; ties share places)
recall, precision: of the exported graph (each receiver's top-k senders)
AUROC: the chance that a true item scores above a false one (ties half)
hit rate: per receiver with a true partner, chosen partners / min(k, partners)
`)
	if g := r.Group; g != nil {
		fmt.Fprintf(w, "group %s: %d of the %d senders they chose are in the group (%.1f%%; chance %.1f%%)\n",
			strings.Join(g.Agents, ", "), g.InGroup, g.Chosen, 100*g.Fraction, 100*g.Chance)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// compareAll prints one comparison per logged snapshot.
func compareAll(w io.Writer, source string, tr *truth, weights [][]float64, snaps []*comm.Snapshot, group []int, notes []string, asJSON bool) error {
	type row struct {
		Iteration  int              `json:"iteration"`
		Comparison *comm.Comparison `json:"comparison"`
		Group      *groupResult     `json:"group,omitempty"`
	}
	var rows []row
	for _, s := range snaps {
		if s.N() != len(weights) {
			return fmt.Errorf("iteration %d: the graph has %d agents, the truth %d", s.Iteration, s.N(), len(weights))
		}
		c, err := s.Compare(weights)
		if err != nil {
			return fmt.Errorf("iteration %d: %w", s.Iteration, err)
		}
		g, err := groupOf(s, group)
		if err != nil {
			return err
		}
		rows = append(rows, row{s.Iteration, c, g})
	}
	last := snaps[len(snaps)-1]
	if asJSON {
		var res struct {
			Graph struct {
				Source  string       `json:"source"`
				Variant comm.Variant `json:"variant"`
				Agents  []string     `json:"agents"`
			} `json:"graph"`
			Truth      *truth   `json:"truth"`
			Iterations []row    `json:"iterations"`
			Notes      []string `json:"notes,omitempty"`
		}
		res.Graph.Source, res.Graph.Variant, res.Graph.Agents = source, last.Variant, last.Agents
		res.Truth, res.Iterations, res.Notes = tr, rows, notes
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	fmt.Fprintf(w, "graph: %s, %d snapshots (%s, N = %d, k = %d)\n", source, len(snaps), last.Variant, last.N(), last.K)
	fmt.Fprintf(w, "truth: %s %s: %s (%d pairs)\n", tr.Kind, tr.Source, tr.Rule, len(tr.Pairs))
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	header := []string{"iteration", "undecided rows", "precision@|E| dir", "precision@|E| sym", "recall dir", "AUROC dir", "AUROC sym", "hit rate dir"}
	if group != nil {
		header = append(header, "group senders")
	}
	t.Header(header)
	f := func(x float64) string { return fmt.Sprintf("%.3f", x) }
	for _, r := range rows {
		c := r.Comparison
		cells := []string{fmt.Sprint(r.Iteration), fmt.Sprintf("%d of %d", c.UndecidedRows, c.N),
			f(c.Directed.PrecisionAtE), f(c.Symmetrised.PrecisionAtE), f(c.Directed.Recall),
			f(c.Directed.AUROC), f(c.Symmetrised.AUROC), f(c.Directed.HitRate)}
		if r.Group != nil {
			cells = append(cells, fmt.Sprintf("%d of %d", r.Group.InGroup, r.Group.Chosen))
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "dir = directed (ordered pairs), sym = symmetrised (unordered pairs); see the single-snapshot output for definitions")
	if group != nil {
		g := rows[0].Group
		fmt.Fprintf(w, "group senders: of the senders chosen by %s, those in the group (chance %.1f%%)\n", strings.Join(g.Agents, ", "), 100*g.Chance)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}
