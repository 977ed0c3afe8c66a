package experiments

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// ReportOptions controls a report; start from DefaultReportOptions.
type ReportOptions struct {
	// Metric is the metrics column to judge runs by; "" = each task's
	// primary metric (eval_length for predator-prey, regret for DRAM ...).
	Metric string
	// Threshold overrides the evaluations-to-threshold target (NaN or nil =
	// the value recorded in each run's summary).
	Threshold *float64
	// Resamples (>= 1) and Seed (any value) of the bootstrap; Confidence of
	// the intervals, in (0, 1).
	Resamples  int
	Seed       uint64
	Confidence float64
	// LogX sets the curves' budget axis to a log scale: nil = on for
	// evaluation axes (unique_evals, where the action is in the first few
	// percent of the budget), off for the others; true or false = every
	// axis.
	LogX *bool
}

// DefaultReportOptions returns the defaults: each task's primary metric and
// threshold, DefaultResamples resamples seeded with DefaultBootstrapSeed,
// 95% intervals.
func DefaultReportOptions() ReportOptions {
	return ReportOptions{Resamples: DefaultResamples, Seed: DefaultBootstrapSeed, Confidence: 0.95}
}

func (o ReportOptions) validate() error {
	if o.Resamples < 1 {
		return fmt.Errorf("report: resamples %d, want at least 1", o.Resamples)
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		return fmt.Errorf("report: confidence %v, want a value in (0, 1)", o.Confidence)
	}
	return nil
}

// RunData is one finished run as read back from its directory.
type RunData struct {
	Summary
	Rows []Row
}

// TaskInfo describes one report column.
type TaskInfo struct {
	Name           string  `json:"name"`
	Env            string  `json:"env"`
	Metric         string  `json:"metric"`
	HigherIsBetter bool    `json:"higher_is_better"`
	X              string  `json:"x"`
	Threshold      float64 `json:"-"`
}

// Cell is the aggregate of one (variant, task) pair over seeds.
type Cell struct {
	Variant string    `json:"variant"`
	Task    string    `json:"task"`
	Seeds   []int64   `json:"seeds"`
	Scores  []float64 `json:"scores"` // the metric's final value per seed
	IQM     float64   `json:"iqm"`
	Lo      float64   `json:"ci_lo"`
	Hi      float64   `json:"ci_hi"`
	// Evaluations-to-threshold: the budget (Task.X) at which each run first
	// reached the threshold; runs that never did are left out and counted
	// in Runs - Reached.
	Reached int       `json:"reached"`
	ToThr   []float64 `json:"to_threshold"`
	ThrIQM  float64   `json:"to_threshold_iqm"`
	ThrLo   float64   `json:"to_threshold_ci_lo"`
	ThrHi   float64   `json:"to_threshold_ci_hi"`
}

// Report is an ablation report: variants x tasks.
type Report struct {
	Dirs     []string // the directories whose runs it pools
	Variants []string
	Tasks    []TaskInfo
	Cells    map[[2]string]*Cell
	Runs     []*RunData
	// Aggregate holds, per variant, the IQM over all tasks' runs with a
	// bootstrap stratified by task; set when there are two or more tasks
	// judged by the same metric (e.g. regret on several traces).
	Aggregate  map[string]*Cell
	Unfinished []string     // run directories without DONE
	Skipped    []SkippedRun // finished runs left out (unreadable files, no value of the metric), with the reason
	Options    ReportOptions
}

// SkippedRun is a run directory a report left out, with the reason.
type SkippedRun struct {
	Dir    string `json:"dir"`
	Reason string `json:"reason"`
}

// ErrNotResults is returned (wrapped) by BuildReport for a root that is not
// a run directory, a sweep directory or a directory holding them.
var ErrNotResults = errors.New("not a run or sweep directory")

// ErrDuplicateRun is returned (wrapped) by BuildReportDirs when two runs
// have the same variant, task and seed: a seed counted twice would narrow
// every interval it enters, so they are refused rather than pooled.
var ErrDuplicateRun = errors.New("the same variant, task and seed twice")

// ErrNoSuchMetric is returned (wrapped) by BuildReport when no run has the
// metric asked for; the message lists the metrics that exist.
var ErrNoSuchMetric = errors.New("no run has this metric")

// isRunDir reports whether dir is a run directory (it holds any of the
// files a run writes).
func isRunDir(dir string) bool {
	for _, f := range []string{"config.toml", "metrics.jsonl", "DONE", "summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// runName is the run name a run directory was written under (config.toml's
// name, else summary.json's); "" when neither says.
func runName(dir string) string {
	var c struct {
		Name string `toml:"name"`
	}
	if _, err := toml.DecodeFile(filepath.Join(dir, "config.toml"), &c); err == nil && c.Name != "" {
		return c.Name
	}
	var sm struct {
		Name string `json:"name"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err == nil && json.Unmarshal(b, &sm) == nil {
		return sm.Name
	}
	return ""
}

// maxNameDepth bounds the levels below a root searched for runs: a run
// lies out_dir/name/seed-N, at most 1 + the name's parts below out_dir
// (sweep trials are named sweep/trial).
const maxNameDepth = 4

// ownedRun reports whether the run directory p, levels directories below a
// report's root, belongs to that root: the root is the run's out_dir or a
// directory inside out_dir/name (out_dir/name/seed-N lies at most 1 + the
// name's parts below out_dir). A run found deeper belongs to some other
// output directory that merely sits below the root. A run whose name is
// unknown counts up to three levels down (out_dir/sweep/trial/seed-N).
func ownedRun(p string, levels int) bool {
	name := runName(p)
	if name == "" {
		return levels <= 3
	}
	return levels <= 1+len(strings.Split(strings.Trim(name, "/"), "/"))
}

// isResultsDir reports whether a report may walk dir: a run directory, a
// sweep directory (trials.jsonl), or a directory holding a run that belongs
// to it (ownedRun: dir is the run's out_dir or inside its out_dir/name).
// Anything else (a home directory, /, a /tmp with other output directories
// somewhere below) is refused rather than walked.
func isResultsDir(dir string) bool {
	if isRunDir(dir) {
		return true
	}
	if _, err := os.Stat(filepath.Join(dir, "trials.jsonl")); err == nil {
		return true
	}
	return hasOwnedRun(dir, 1)
}

func hasOwnedRun(dir string, level int) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := filepath.Join(dir, e.Name())
		if isRunDir(c) {
			if ownedRun(c, level) {
				return true
			}
			continue
		}
		if level < maxNameDepth && hasOwnedRun(c, level+1) {
			return true
		}
	}
	return false
}

// loadRuns reads every finished run (a directory with DONE) under dir, in
// path order, and lists the unfinished ones and the finished ones it could
// not read (with the reason).
func loadRuns(dir string) (runs []*RunData, unfinished []string, skipped []SkippedRun, err error) {
	if fi, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("%s: %w: no such directory", dir, ErrNotResults)
	} else if serr != nil {
		return nil, nil, nil, serr
	} else if !fi.IsDir() {
		return nil, nil, nil, fmt.Errorf("%s: %w (a file)", dir, ErrNotResults)
	}
	if !isResultsDir(dir) {
		return nil, nil, nil, fmt.Errorf("%s: %w: neither a run (config.toml, metrics.jsonl, DONE), a sweep (trials.jsonl) nor the out_dir of runs below it (out_dir/name/seed-N); give a sweep's directory (out_dir/name) or a run's", dir, ErrNotResults)
	}
	root := filepath.Clean(dir)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || d.Name() == "graphs" || d.Name() == "checkpoints" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		levels := 0
		if rel, rerr := filepath.Rel(root, p); rerr == nil && rel != "." {
			levels = strings.Count(filepath.ToSlash(rel), "/") + 1
		}
		if !isRunDir(p) {
			if levels >= maxNameDepth {
				return filepath.SkipDir
			}
			return nil
		}
		if !ownedRun(p, levels) {
			return filepath.SkipDir // another output directory's run, below this root
		}
		if _, serr := os.Stat(filepath.Join(p, "DONE")); serr != nil {
			unfinished = append(unfinished, p)
			return filepath.SkipDir
		}
		s, rerr := readSummary(p)
		if rerr != nil {
			skipped = append(skipped, SkippedRun{p, rerr.Error()})
			return filepath.SkipDir
		}
		rows, rerr := ReadMetricsJSONL(filepath.Join(p, "metrics.jsonl"))
		if rerr == nil && len(rows) == 0 {
			rerr = errors.New("metrics.jsonl has no rows")
		}
		if rerr != nil {
			skipped = append(skipped, SkippedRun{p, "metrics: " + rerr.Error()})
			return filepath.SkipDir
		}
		runs = append(runs, &RunData{Summary: s, Rows: rows})
		return filepath.SkipDir
	})
	return runs, unfinished, skipped, err
}

// guessHigherIsBetter is the direction of a metric that is not a task's
// primary one: returns, rewards and success rates are better high, anything
// else (lengths, losses, regret, time, energy) low.
func guessHigherIsBetter(metric string) bool {
	for _, s := range []string{"return", "reward", "success", "receive"} {
		if strings.Contains(metric, s) {
			return true
		}
	}
	return false
}

// lastValue returns the metric's value in the last row that has it.
func lastValue(rows []Row, metric string) (float64, bool) {
	for i := len(rows) - 1; i >= 0; i-- {
		if v, ok := rows[i][metric]; ok {
			return v, true
		}
	}
	return 0, false
}

// firstReach returns the budget x at the first row where the metric reaches
// thr (<= when lower is better, >= otherwise).
func firstReach(rows []Row, metric, x string, thr float64, higher bool) (float64, bool) {
	for _, r := range rows {
		v, ok := r[metric]
		if !ok {
			continue
		}
		if (higher && v >= thr) || (!higher && v <= thr) {
			xv, ok := r[x]
			if !ok {
				return r["iteration"], true
			}
			return xv, true
		}
	}
	return 0, false
}

// variantOrder ranks variants by the trials.jsonl of the sweeps in dirs
// (grid order; the first directory's sweep first), the rest
// alphabetically.
func variantOrder(dirs []string, variants map[string]bool) []string {
	rank := map[string]int{}
	offset := 0
	for _, dir := range dirs {
		f, err := os.Open(filepath.Join(dir, "trials.jsonl"))
		if err != nil {
			continue
		}
		last := -1
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var t Trial
			if json.Unmarshal(sc.Bytes(), &t) == nil {
				if _, ok := rank[t.Variant]; !ok {
					rank[t.Variant] = offset + t.Index
				}
				last = max(last, t.Index)
			}
		}
		f.Close()
		offset += last + 1
	}
	out := make([]string, 0, len(variants))
	for v := range variants {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok && ri != rj:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

// BuildReport reads the runs under dir and aggregates them.
func BuildReport(dir string, opt ReportOptions) (*Report, error) {
	return BuildReportDirs([]string{dir}, opt)
}

// BuildReportDirs reads the runs under each of dirs and aggregates them as
// one set: the rounds of a study run as separate sweeps on different seeds
// are pooled this way, each cell holding every seed of its variant and
// task. Two runs of the same variant, task and seed (one directory given
// twice, directories that overlap, two sweeps that label different methods
// alike) are refused with ErrDuplicateRun, naming both.
func BuildReportDirs(dirs []string, opt ReportOptions) (*Report, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no directory given", ErrNotResults)
	}
	var runs []*RunData
	var unfinished []string
	var skipped []SkippedRun
	for _, dir := range dirs {
		r, u, sk, err := loadRuns(dir)
		if err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		runs, unfinished, skipped = append(runs, r...), append(unfinished, u...), append(skipped, sk...)
	}
	if err := noDuplicateRuns(runs); err != nil {
		return nil, err
	}
	dir := strings.Join(dirs, ", ")
	if len(runs) == 0 {
		msg := fmt.Sprintf("no finished runs (directories with DONE) under %s", dir)
		if len(unfinished) > 0 {
			msg += fmt.Sprintf("; %d unfinished", len(unfinished))
		}
		for _, s := range skipped {
			msg += fmt.Sprintf("\nleft out %s: %s", s.Dir, s.Reason)
		}
		return nil, errors.New(msg)
	}
	rep := &Report{Dirs: dirs, Cells: map[[2]string]*Cell{}, Runs: runs, Unfinished: unfinished, Skipped: skipped, Options: opt}
	rep.addTasks()
	rep.addScores()
	if len(rep.Cells) == 0 {
		return nil, noMetricError(runs, opt.Metric, rep.Tasks)
	}
	rep.bootstrapCells()
	if sameMetric(rep.Tasks) {
		rep.aggregate()
	}
	return rep, nil
}

// addTasks sets the report's tasks (one column each, sorted by name, with
// the metric compared and its threshold) and variants from its runs.
func (rep *Report) addTasks() {
	opt := rep.Options
	variants := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range rep.Runs {
		variants[r.Variant] = true
		if seen[r.Task] {
			continue
		}
		seen[r.Task] = true
		ti := TaskInfo{Name: r.Task, Env: r.Env, Metric: opt.Metric, X: r.Primary.X, Threshold: float64(r.Threshold)}
		if ti.Metric == "" || ti.Metric == r.Primary.Name {
			ti.Metric = r.Primary.Name
			ti.HigherIsBetter = r.Primary.HigherIsBetter
		} else {
			ti.HigherIsBetter = guessHigherIsBetter(ti.Metric)
			ti.Threshold = math.NaN() // the recorded threshold is for the primary metric
		}
		if opt.Threshold != nil && !math.IsNaN(*opt.Threshold) {
			ti.Threshold = *opt.Threshold
		}
		if ti.X == "" {
			ti.X = "iteration"
		}
		rep.Tasks = append(rep.Tasks, ti)
	}
	slices.SortFunc(rep.Tasks, func(a, b TaskInfo) int { return strings.Compare(a.Name, b.Name) })
	rep.Variants = variantOrder(rep.Dirs, variants)
}

// noDuplicateRuns returns an ErrDuplicateRun error naming the first two
// runs with the same variant, task and seed (nil when there are none).
func noDuplicateRuns(runs []*RunData) error {
	type key struct {
		variant, task string
		seed          int64
	}
	seen := make(map[key]string, len(runs))
	for _, r := range runs {
		k := key{r.Variant, r.Task, r.Seed}
		if first, ok := seen[k]; ok {
			return fmt.Errorf("%w: variant %q, task %q, seed %d: %s and %s; a report counts each seed once: give it one of them, or label one another way (the run's `variant` key)", ErrDuplicateRun, r.Variant, r.Task, r.Seed, first, r.Dir)
		}
		seen[k] = r.Dir
	}
	return nil
}

// addScores adds each run's final value of its task's metric (and the
// budget at which it first reached the threshold) to its cell, in seed
// order; a run without a value is skipped with the reason.
func (rep *Report) addScores() {
	taskIdx := map[string]int{}
	for i, t := range rep.Tasks {
		taskIdx[t.Name] = i
	}
	sorted := slices.Clone(rep.Runs)
	slices.SortStableFunc(sorted, func(a, b *RunData) int { return int(a.Seed - b.Seed) })
	for _, r := range sorted {
		t := rep.Tasks[taskIdx[r.Task]]
		v, ok := lastValue(r.Rows, t.Metric)
		if !ok || math.IsNaN(v) {
			why := fmt.Sprintf("no value of metric %q", t.Metric)
			if ok {
				why = fmt.Sprintf("metric %q is NaN", t.Metric)
			}
			rep.Skipped = append(rep.Skipped, SkippedRun{r.Dir, why})
			continue
		}
		key := [2]string{r.Variant, r.Task}
		c := rep.Cells[key]
		if c == nil {
			c = &Cell{Variant: r.Variant, Task: r.Task}
			rep.Cells[key] = c
		}
		c.Seeds = append(c.Seeds, r.Seed)
		c.Scores = append(c.Scores, v)
		if !math.IsNaN(t.Threshold) {
			x, ok := firstReach(r.Rows, t.Metric, t.X, t.Threshold, t.HigherIsBetter)
			if t.Metric == "regret" && t.X == "unique_evals" && hasAnytimeColumns(r) {
				// Exact to one evaluation rather than to the end of an
				// iteration (report_anytime.go).
				x = evalsTo(r, "evals_to_threshold", t.Threshold, float64(r.Threshold))
				ok = !math.IsInf(x, 1)
			}
			if ok {
				c.Reached++
				c.ToThr = append(c.ToThr, x)
			}
		}
	}
}

// bootstrapCells sets each cell's IQM and bootstrap interval of the scores
// and of the budgets to threshold.
func (rep *Report) bootstrapCells() {
	opt := rep.Options
	for key, c := range rep.Cells {
		c.IQM = iqm(c.Scores)
		c.Lo, c.Hi = stratifiedBootstrapCI([][]float64{c.Scores}, iqm, opt.Resamples, opt.Confidence, bootstrapRNG(opt.Seed, key[0]+"|"+key[1]+"|score"))
		c.ThrIQM, c.ThrLo, c.ThrHi = math.NaN(), math.NaN(), math.NaN()
		if len(c.ToThr) > 0 {
			c.ThrIQM = iqm(c.ToThr)
			c.ThrLo, c.ThrHi = stratifiedBootstrapCI([][]float64{c.ToThr}, iqm, opt.Resamples, opt.Confidence, bootstrapRNG(opt.Seed, key[0]+"|"+key[1]+"|threshold"))
		}
	}
}

// aggregate sets, when every task compares the same metric, each variant's
// IQM over all tasks with a bootstrap stratified by task (a variant missing
// on some task is left out: not comparable).
func (rep *Report) aggregate() {
	opt := rep.Options
	rep.Aggregate = map[string]*Cell{}
	for _, v := range rep.Variants {
		var strata [][]float64
		c := &Cell{Variant: v, Task: "all tasks"}
		for _, t := range rep.Tasks {
			if tc := rep.Cells[[2]string{v, t.Name}]; tc != nil {
				strata = append(strata, tc.Scores)
				c.Scores = append(c.Scores, tc.Scores...)
			}
		}
		if len(strata) < len(rep.Tasks) {
			continue
		}
		c.IQM = iqm(c.Scores)
		c.Lo, c.Hi = stratifiedBootstrapCI(strata, iqm, opt.Resamples, opt.Confidence, bootstrapRNG(opt.Seed, v+"|all|score"))
		rep.Aggregate[v] = c
	}
}

// noMetricError says that no run has a value of the metric asked for (or
// of the tasks' primary metrics) and lists the metrics the runs have.
func noMetricError(runs []*RunData, metric string, tasks []TaskInfo) error {
	have := map[string]bool{}
	for _, r := range runs {
		for _, row := range r.Rows {
			for k := range row {
				have[k] = true
			}
		}
	}
	names := slices.Sorted(maps.Keys(have))
	if metric == "" {
		var prim []string
		for _, t := range tasks {
			prim = append(prim, t.Metric)
		}
		metric = strings.Join(slices.Compact(slices.Sorted(slices.Values(prim))), ", ")
	}
	return fmt.Errorf("%w: %q (in %d finished runs); metrics that exist: %s", ErrNoSuchMetric, metric, len(runs), strings.Join(names, ", "))
}

// sameMetric reports whether two or more tasks share one metric and
// direction, so that their scores can be pooled.
func sameMetric(tasks []TaskInfo) bool {
	if len(tasks) < 2 {
		return false
	}
	for _, t := range tasks[1:] {
		if t.Metric != tasks[0].Metric || t.HigherIsBetter != tasks[0].HigherIsBetter {
			return false
		}
	}
	return true
}

func fmtG(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}

// tableRows returns the header and rows of the ablation table: one row per
// variant; per task a column "IQM [lo, hi] (n)" and, where a threshold is
// defined, a column with the budget to reach it.
func (r *Report) tableRows() ([]string, [][]string) {
	header := []string{"variant"}
	for _, t := range r.Tasks {
		dir := "lower is better"
		if t.HigherIsBetter {
			dir = "higher is better"
		}
		header = append(header, fmt.Sprintf("%s: %s IQM [%.0f%% CI] (%s)", t.Name, t.Metric, 100*r.Options.Confidence, dir))
		if !math.IsNaN(t.Threshold) {
			op := "<="
			if t.HigherIsBetter {
				op = ">="
			}
			header = append(header, fmt.Sprintf("%s: %s to %s %s %g (IQM [CI], reached)", t.Name, t.X, t.Metric, op, t.Threshold))
		}
	}
	if r.Aggregate != nil {
		header = append(header, fmt.Sprintf("all tasks: %s IQM [%.0f%% CI, stratified by task]", r.Tasks[0].Metric, 100*r.Options.Confidence))
	}
	var rows [][]string
	for _, v := range r.Variants {
		row := []string{v}
		for _, t := range r.Tasks {
			c := r.Cells[[2]string{v, t.Name}]
			if c == nil {
				row = append(row, "-")
				if !math.IsNaN(t.Threshold) {
					row = append(row, "-")
				}
				continue
			}
			row = append(row, fmt.Sprintf("%s [%s, %s] (n=%d)", fmtG(c.IQM), fmtG(c.Lo), fmtG(c.Hi), len(c.Scores)))
			if !math.IsNaN(t.Threshold) {
				if c.Reached == 0 {
					row = append(row, fmt.Sprintf("not reached (0/%d)", len(c.Scores)))
				} else {
					row = append(row, fmt.Sprintf("%s [%s, %s] (%d/%d)", fmtG(c.ThrIQM), fmtG(c.ThrLo), fmtG(c.ThrHi), c.Reached, len(c.Scores)))
				}
			}
		}
		if r.Aggregate != nil {
			if c := r.Aggregate[v]; c != nil {
				row = append(row, fmt.Sprintf("%s [%s, %s] (n=%d)", fmtG(c.IQM), fmtG(c.Lo), fmtG(c.Hi), len(c.Scores)))
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// WriteTable renders the ablation table as Markdown ("md"), a boxed text
// table ("ascii") or CSV ("csv": one line per variant and task with the
// numbers in their own columns, see CellsCSV).
func (r *Report) WriteTable(w io.Writer, format string) error {
	if format == "csv" {
		header, rows := r.cellsCSV()
		return writeTable(w, format, header, rows)
	}
	if format != "md" && format != "markdown" && format != "ascii" && format != "" {
		return fmt.Errorf("table format %q: want md, ascii or csv", format)
	}
	header, rows := r.tableRows()
	if err := writeTable(w, format, header, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nIQM = interquartile mean over seeds; CI = %.0f%% percentile interval of a stratified bootstrap (%d resamples, seed %d; Agarwal et al. 2021).\n",
		100*r.Options.Confidence, r.Options.Resamples, r.Options.Seed)
	return err
}

// MarlEval returns the runs in the raw-data layout of InstaDeep's marl-eval
// tools: env -> task -> algorithm (variant) -> run_i (seeds in increasing
// order) -> step_j (each logged evaluation) {step_count, metric: [value]},
// plus absolute_metrics with the final values. Metric names drop the eval_
// prefix. Each list holds one value: the mean over the evaluation episodes
// (per-episode values are not logged).
func (r *Report) MarlEval() map[string]any {
	out := map[string]any{}
	tasks := map[string]TaskInfo{}
	for _, t := range r.Tasks {
		tasks[t.Name] = t
	}
	bySeed := slices.Clone(r.Runs)
	slices.SortStableFunc(bySeed, func(a, b *RunData) int { return int(a.Seed - b.Seed) })
	counter := map[[2]string]int{}
	for _, run := range bySeed {
		t := tasks[run.Task]
		env, _ := out[run.Env].(map[string]any)
		if env == nil {
			env = map[string]any{}
			out[run.Env] = env
		}
		task, _ := env[run.Task].(map[string]any)
		if task == nil {
			task = map[string]any{}
			env[run.Task] = task
		}
		alg, _ := task[run.Variant].(map[string]any)
		if alg == nil {
			alg = map[string]any{}
			task[run.Variant] = alg
		}
		k := [2]string{run.Task, run.Variant}
		runKey := fmt.Sprintf("run_%d", counter[k])
		counter[k]++
		steps := map[string]any{}
		absolute := map[string]any{}
		j := 0
		for _, row := range run.Rows {
			m := marlEvalMetrics(row, t.Metric)
			if len(m) == 0 {
				continue
			}
			x := row[t.X]
			m["step_count"] = int64(x)
			steps[fmt.Sprintf("step_%d", j)] = m
			j++
			for name, v := range m {
				if name != "step_count" {
					absolute[name] = v
				}
			}
		}
		steps["absolute_metrics"] = absolute
		alg[runKey] = steps
	}
	return out
}

func marlEvalMetrics(row Row, metric string) map[string]any {
	m := map[string]any{}
	for k, v := range row {
		if name, ok := strings.CutPrefix(k, "eval_"); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[name] = []float64{v}
		}
	}
	if len(m) == 0 {
		if v, ok := row[metric]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[strings.TrimPrefix(metric, "eval_")] = []float64{v}
		}
	} else if v, ok := row[metric]; ok && !strings.HasPrefix(metric, "eval_") && !math.IsNaN(v) && !math.IsInf(v, 0) {
		m[metric] = []float64{v}
	}
	return m
}

// JSON returns the report's cells and tasks as JSON (for scripts).
func (r *Report) JSON() ([]byte, error) {
	cells := make([]*Cell, 0, len(r.Cells))
	for _, v := range r.Variants {
		for _, t := range r.Tasks {
			if c := r.Cells[[2]string{v, t.Name}]; c != nil {
				cells = append(cells, c)
			}
		}
	}
	jc := make([]map[string]any, len(cells))
	for i, c := range cells {
		b, _ := json.Marshal(struct {
			Variant string    `json:"variant"`
			Task    string    `json:"task"`
			Seeds   []int64   `json:"seeds"`
			Scores  []float64 `json:"scores"`
			IQM     Num       `json:"iqm"`
			Lo      Num       `json:"ci_lo"`
			Hi      Num       `json:"ci_hi"`
			Reached int       `json:"reached"`
			ToThr   []float64 `json:"to_threshold"`
			ThrIQM  Num       `json:"to_threshold_iqm"`
			ThrLo   Num       `json:"to_threshold_ci_lo"`
			ThrHi   Num       `json:"to_threshold_ci_hi"`
		}{c.Variant, c.Task, c.Seeds, c.Scores, Num(c.IQM), Num(c.Lo), Num(c.Hi), c.Reached, c.ToThr, Num(c.ThrIQM), Num(c.ThrLo), Num(c.ThrHi)})
		_ = json.Unmarshal(b, &jc[i])
	}
	tasks := make([]map[string]any, len(r.Tasks))
	for i, t := range r.Tasks {
		tasks[i] = map[string]any{"name": t.Name, "env": t.Env, "metric": t.Metric, "higher_is_better": t.HigherIsBetter, "x": t.X, "threshold": Num(t.Threshold)}
	}
	return json.MarshalIndent(map[string]any{
		"resamples": r.Options.Resamples, "seed": r.Options.Seed, "confidence": r.Options.Confidence,
		"variants": r.Variants, "tasks": tasks, "cells": jc,
	}, "", "  ")
}
