package experiments

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writeTable renders a table as Markdown ("md"), a boxed text table
// ("ascii", "") or CSV ("csv", RFC 4180).
func writeTable(w io.Writer, format string, header []string, rows [][]string) error {
	var rend tw.Renderer
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		if err := cw.WriteAll(rows); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		return nil
	case "md", "markdown":
		rend = renderer.NewMarkdown()
	case "ascii", "":
		rend = renderer.NewBlueprint()
	default:
		return fmt.Errorf("table format %q: want md, ascii or csv", format)
	}
	tbl := tablewriter.NewTable(w,
		tablewriter.WithRenderer(rend),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	)
	tbl.Header(header)
	for _, row := range rows {
		if err := tbl.Append(row); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	return nil
}

// csvNum renders a number for CSV: shortest exact form, empty when NaN (as
// in metrics.csv: not measured).
func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return formatNum(v)
}

// cellsCSV is the ablation table in long form: one line per (variant, task)
// with the numbers in their own columns (pandas reads it as is).
func (r *Report) cellsCSV() ([]string, [][]string) {
	header := []string{"variant", "task", "metric", "higher_is_better", "n", "iqm", "ci_lo", "ci_hi", "confidence",
		"x", "threshold", "reached", "to_threshold_iqm", "to_threshold_ci_lo", "to_threshold_ci_hi"}
	var rows [][]string
	for _, v := range r.Variants {
		for _, t := range r.Tasks {
			c := r.Cells[[2]string{v, t.Name}]
			if c == nil {
				continue
			}
			rows = append(rows, []string{v, t.Name, t.Metric, strconv.FormatBool(t.HigherIsBetter), strconv.Itoa(len(c.Scores)),
				csvNum(c.IQM), csvNum(c.Lo), csvNum(c.Hi), csvNum(r.Options.Confidence),
				t.X, csvNum(t.Threshold), strconv.Itoa(c.Reached), csvNum(c.ThrIQM), csvNum(c.ThrLo), csvNum(c.ThrHi)})
		}
	}
	return header, rows
}

// BestDesignRow is one line of the best-designs table: the best design that
// a variant found on a design-space task over its seeds.
type BestDesignRow struct {
	Variant   string
	Task      string
	Runs      int                // finished runs with a best design
	Seed      int64              // the run that found the best one
	Dir       string             // its directory
	Objective float64            // its objective value (lower is better)
	Unit      string             // the objective's unit
	Names     []string           // knob names in the space's order
	Knobs     map[string]string  // knob -> value
	Metrics   map[string]float64 // its metrics
	Regret    float64            // its regret (NaN without a known optimum)
	// AtOptimum counts the runs whose best design has regret 0 (-1 when
	// the optimum is unknown).
	AtOptimum int
	// FoundAt is the median over the runs of the unique evaluation by which
	// each found its final best (found_at_evaluation; NaN when unknown).
	FoundAt float64
	// Gain is the best design's gain over the start design (NaN when
	// unknown).
	Gain float64
}

// BestDesigns returns, per variant and design-space task (in the table's
// order), the best design over its seeds (lowest objective, ties to the
// lower seed). Runs without a best design (not a design space) are left
// out.
func (r *Report) BestDesigns() []BestDesignRow {
	type key [2]string
	groups := map[key][]*RunData{}
	for _, run := range r.Runs {
		if run.Best != nil {
			k := key{run.Variant, run.Task}
			groups[k] = append(groups[k], run)
		}
	}
	var out []BestDesignRow
	for _, v := range r.Variants {
		for _, t := range r.Tasks {
			runs := groups[key{v, t.Name}]
			if len(runs) == 0 {
				continue
			}
			slices.SortStableFunc(runs, func(a, b *RunData) int {
				return cmp.Or(compareNaNLast(a.Best.Objective, b.Best.Objective), cmp.Compare(a.Seed, b.Seed))
			})
			b := runs[0]
			row := BestDesignRow{Variant: v, Task: t.Name, Runs: len(runs), Seed: b.Seed, Dir: b.Dir,
				Objective: b.Best.Objective, Unit: b.Best.Unit, Names: b.Best.Names, Knobs: b.Best.Knobs,
				Metrics: b.Best.Metrics, Regret: math.NaN(), AtOptimum: -1, FoundAt: math.NaN(), Gain: math.NaN()}
			if b.Best.Regret != nil {
				row.Regret = *b.Best.Regret
			}
			if b.Best.GainOverStart != nil {
				row.Gain = *b.Best.GainOverStart
			}
			var found []float64
			for _, run := range runs {
				if run.Best.Regret != nil {
					row.AtOptimum = max(row.AtOptimum, 0)
					if *run.Best.Regret == 0 {
						row.AtOptimum++
					}
				}
				if run.Best.FoundAtPlace != nil {
					found = append(found, float64(*run.Best.FoundAtPlace))
				} else if run.Best.FoundAtEvaluation != nil {
					found = append(found, float64(*run.Best.FoundAtEvaluation))
				}
			}
			if len(found) > 0 {
				row.FoundAt = median(found)
			}
			out = append(out, row)
		}
	}
	return out
}

// compareNaNLast is cmp.Compare with NaN after every number.
func compareNaNLast(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// median of a non-empty sample (stats.go's quantile at 1/2: the mean of
// the two middle values for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantile(s, 0.5)
}

// knobString renders a design as "k=v k=v" in the space's knob order.
func knobString(names []string, knobs map[string]string) string {
	keys := names
	if len(keys) != len(knobs) {
		keys = make([]string, 0, len(knobs))
		for k := range knobs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + knobs[k]
	}
	return strings.Join(parts, " ")
}

// WriteBestDesigns renders the best-designs table (see BestDesigns) as
// "md", "ascii" or "csv"; it writes nothing when no run is of a design
// space.
func (r *Report) WriteBestDesigns(w io.Writer, format string) error {
	best := r.BestDesigns()
	if len(best) == 0 {
		return nil
	}
	if format == "csv" {
		header := []string{"variant", "task", "runs", "seed", "objective", "unit", "regret", "at_optimum", "found_at_evaluation_median", "gain_over_start", "design", "dir"}
		var rows [][]string
		for _, b := range best {
			rows = append(rows, []string{b.Variant, b.Task, strconv.Itoa(b.Runs), strconv.FormatInt(b.Seed, 10), csvNum(b.Objective), b.Unit,
				csvNum(b.Regret), optInt(b.AtOptimum), csvNum(b.FoundAt), csvNum(b.Gain), knobString(b.Names, b.Knobs), b.Dir})
		}
		return writeTable(w, format, header, rows)
	}
	header := []string{"variant", "task", "best objective", "regret", "runs at the optimum", "found by evaluation (median)", "gain over start", "seed", "design"}
	var rows [][]string
	for _, b := range best {
		obj := fmtG(b.Objective)
		if b.Unit != "" && b.Unit != "1" {
			obj += " " + b.Unit
		}
		at := "-"
		if b.AtOptimum >= 0 {
			at = fmt.Sprintf("%d/%d", b.AtOptimum, b.Runs)
		}
		gain := "-"
		if !math.IsNaN(b.Gain) {
			gain = fmt.Sprintf("%.1f%%", 100*b.Gain)
			if b.Unit == "1" {
				gain = fmtG(b.Gain)
			}
		}
		rows = append(rows, []string{b.Variant, b.Task, obj, fmtG(b.Regret), at, fmtG(b.FoundAt), gain, strconv.FormatInt(b.Seed, 10), knobString(b.Names, b.Knobs)})
	}
	if _, err := fmt.Fprintln(w, "\nBest design per variant and task (over its seeds; lower objective is better):"); err != nil {
		return err
	}
	return writeTable(w, format, header, rows)
}

func optInt(n int) string {
	if n < 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// ParetoPoint is one run's point in a Pareto view.
type ParetoPoint struct {
	Variant string            `json:"variant"`
	Task    string            `json:"task"`
	Seed    int64             `json:"seed"`
	Dir     string            `json:"dir"`
	X       float64           `json:"x"`
	Y       float64           `json:"y"`
	Names   []string          `json:"-"`
	Knobs   map[string]string `json:"design,omitempty"` // the run's best design (design spaces)
	Front   bool              `json:"front"`            // not dominated by any other point
}

// Pareto is the Pareto front of two metrics across the runs of a report.
type Pareto struct {
	X, Y             string // metric names as asked
	HigherX, HigherY bool   // directions (guessed as for --metric: returns and rewards high, the rest low)
	Points           []ParetoPoint
	Missing          []string // run directories lacking one of the metrics
}

// paretoValue is a run's value of a metric for the Pareto view: the best
// design's metric (design spaces; "best_" prefix optional), else the last
// metrics row.
func paretoValue(run *RunData, m string) (float64, bool) {
	if run.Best != nil {
		if v, ok := run.Best.Metrics[m]; ok {
			return v, true
		}
		if v, ok := run.Best.Metrics[strings.TrimPrefix(m, "best_")]; ok {
			return v, true
		}
	}
	return lastValue(run.Rows, m)
}

// Pareto places every run at (its value of mx, its value of my) and marks
// the points that no other point dominates (at least as good in both and
// better in one; equal points are all on the front). An error names the
// metrics that exist when no run has both.
func (r *Report) Pareto(mx, my string) (*Pareto, error) {
	if mx == "" || my == "" || mx == my {
		return nil, fmt.Errorf("pareto: want two different metrics, got %q and %q", mx, my)
	}
	p := &Pareto{X: mx, Y: my, HigherX: guessHigherIsBetter(mx), HigherY: guessHigherIsBetter(my)}
	for _, run := range r.Runs {
		x, okx := paretoValue(run, mx)
		y, oky := paretoValue(run, my)
		if !okx || !oky || math.IsNaN(x) || math.IsNaN(y) {
			p.Missing = append(p.Missing, run.Dir)
			continue
		}
		pt := ParetoPoint{Variant: run.Variant, Task: run.Task, Seed: run.Seed, Dir: run.Dir, X: x, Y: y}
		if run.Best != nil {
			pt.Names, pt.Knobs = run.Best.Names, run.Best.Knobs
		}
		p.Points = append(p.Points, pt)
	}
	if len(p.Points) == 0 {
		return nil, fmt.Errorf("pareto: no finished run has both %s and %s; metrics that exist: %s", mx, my, strings.Join(r.metricNames(), ", "))
	}
	better := func(a, b float64, higher bool) int { // >0 when a is better
		if higher {
			return cmp.Compare(a, b)
		}
		return cmp.Compare(b, a)
	}
	for i := range p.Points {
		a := &p.Points[i]
		a.Front = true
		for j, b := range p.Points {
			if i == j {
				continue
			}
			cx, cy := better(b.X, a.X, p.HigherX), better(b.Y, a.Y, p.HigherY)
			if cx >= 0 && cy >= 0 && (cx > 0 || cy > 0) {
				a.Front = false
				break
			}
		}
	}
	slices.SortStableFunc(p.Points, func(a, b ParetoPoint) int {
		return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y), strings.Compare(a.Variant, b.Variant), strings.Compare(a.Task, b.Task), cmp.Compare(a.Seed, b.Seed))
	})
	return p, nil
}

// metricNames lists the metrics the report's runs have: best-design
// metrics and metrics columns, sorted.
func (r *Report) metricNames() []string {
	set := map[string]bool{}
	for _, run := range r.Runs {
		if run.Best != nil {
			for m := range run.Best.Metrics {
				set[m] = true
			}
		}
		for _, row := range run.Rows {
			for m := range row {
				set[m] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Front returns the points on the front, in the order of X.
func (p *Pareto) Front() []ParetoPoint {
	var out []ParetoPoint
	for _, pt := range p.Points {
		if pt.Front {
			out = append(out, pt)
		}
	}
	return out
}

func direction(higher bool) string {
	if higher {
		return "higher is better"
	}
	return "lower is better"
}

// Write renders the front (md, ascii) or every point with its front flag
// (csv).
func (p *Pareto) Write(w io.Writer, format string) error {
	if format == "csv" {
		header := []string{"variant", "task", "seed", p.X, p.Y, "front", "design", "dir"}
		var rows [][]string
		for _, pt := range p.Points {
			rows = append(rows, []string{pt.Variant, pt.Task, strconv.FormatInt(pt.Seed, 10), csvNum(pt.X), csvNum(pt.Y), strconv.FormatBool(pt.Front), knobString(pt.Names, pt.Knobs), pt.Dir})
		}
		return writeTable(w, format, header, rows)
	}
	front := p.Front()
	if _, err := fmt.Fprintf(w, "\nPareto front of %s (%s) and %s (%s): %d of %d runs\n", p.X, direction(p.HigherX), p.Y, direction(p.HigherY), len(front), len(p.Points)); err != nil {
		return err
	}
	header := []string{"variant", "task", "seed", p.X, p.Y, "design"}
	var rows [][]string
	for _, pt := range front {
		rows = append(rows, []string{pt.Variant, pt.Task, strconv.FormatInt(pt.Seed, 10), fmt.Sprintf("%.6g", pt.X), fmt.Sprintf("%.6g", pt.Y), knobString(pt.Names, pt.Knobs)})
	}
	return writeTable(w, format, header, rows)
}

// Plot writes the Pareto view as a PNG: every run as a point coloured by
// variant, the front joined by a staircase line.
func (p *Pareto) Plot(path string) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("Pareto front: %s vs %s (%d runs, %d on the front)", p.X, p.Y, len(p.Points), len(p.Front()))
	pl.X.Label.Text = fmt.Sprintf("%s (%s)", p.X, direction(p.HigherX))
	pl.Y.Label.Text = fmt.Sprintf("%s (%s)", p.Y, direction(p.HigherY))
	pl.Add(plotter.NewGrid())
	var variants []string
	byVariant := map[string]plotter.XYs{}
	for _, pt := range p.Points {
		if _, ok := byVariant[pt.Variant]; !ok {
			variants = append(variants, pt.Variant)
		}
		byVariant[pt.Variant] = append(byVariant[pt.Variant], plotter.XY{X: pt.X, Y: pt.Y})
	}
	front := p.Front()
	if len(front) > 1 {
		// The staircase: from each front point, along X to the next one's X,
		// then to its Y (the region the front dominates lies behind it).
		var stair plotter.XYs
		for i, pt := range front {
			if i > 0 {
				stair = append(stair, plotter.XY{X: pt.X, Y: front[i-1].Y})
			}
			stair = append(stair, plotter.XY{X: pt.X, Y: pt.Y})
		}
		line, err := plotter.NewLine(stair)
		if err != nil {
			return fmt.Errorf("pareto plot: %w", err)
		}
		line.Width = vg.Points(1)
		pl.Add(line)
		pl.Legend.Add("front", line)
	}
	for i, v := range variants {
		sc, err := plotter.NewScatter(byVariant[v])
		if err != nil {
			return fmt.Errorf("pareto plot: %w", err)
		}
		sc.Color = plotutil.Color(i)
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(3)
		pl.Add(sc)
		pl.Legend.Add(v, sc)
	}
	ring, err := plotter.NewScatter(pointsOf(front))
	if err != nil {
		return fmt.Errorf("pareto plot: %w", err)
	}
	ring.Shape = draw.RingGlyph{}
	ring.Radius = vg.Points(6)
	pl.Add(ring)
	pl.Legend.Add("on the front", ring)
	// Room for the legend above the points, and a margin around them.
	padX := 0.05 * (pl.X.Max - pl.X.Min)
	if padX == 0 {
		padX = 0.01*math.Abs(pl.X.Max) + 1e-12
	}
	padY := 0.05 * (pl.Y.Max - pl.Y.Min)
	if padY == 0 {
		padY = 0.01*math.Abs(pl.Y.Max) + 1e-12
	}
	pl.X.Min, pl.X.Max = pl.X.Min-padX, pl.X.Max+padX
	pl.Y.Min, pl.Y.Max = pl.Y.Min-padY, pl.Y.Max+6*padY
	pl.Legend.Top = true
	return writePlot(pl, path, 8*vg.Inch, 6*vg.Inch)
}

func pointsOf(pts []ParetoPoint) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	return out
}
