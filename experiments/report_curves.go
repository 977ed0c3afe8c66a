package experiments

// The learning curves of a report (IQM and bootstrap band per variant over
// the budget axis) and their PNG plots.

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// curve is one variant's learning curve on a task.
type curve struct {
	xs, mean, lo, hi []float64
}

func (r *Report) curve(variant string, t TaskInfo) curve {
	// Each run is a step function of the budget: its last logged value at
	// or before x (runs log at different budgets when the axis is, e.g.,
	// unique evaluations). The curve is their mean on a common grid: the
	// union of the logged budgets, thinned to at most maxCurvePoints.
	type point struct{ x, v float64 }
	var series [][]point
	xs := map[float64]bool{}
	for _, run := range r.Runs {
		if run.Variant != variant || run.Task != t.Name {
			continue
		}
		var ps []point
		for _, row := range run.Rows {
			v, ok := row[t.Metric]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			x, ok := row[t.X]
			if !ok {
				x = row["iteration"]
			}
			ps = append(ps, point{x, v})
			xs[x] = true
		}
		if len(ps) > 0 {
			slices.SortStableFunc(ps, func(a, b point) int { return cmpFloat(a.x, b.x) })
			series = append(series, ps)
		}
	}
	// Start where every run has logged a value, so the mean is always over
	// the same runs (a changing set of runs makes a curve that is not).
	start := math.Inf(-1)
	for _, ps := range series {
		start = max(start, ps[0].x)
	}
	grid := make([]float64, 0, len(xs))
	for x := range xs {
		if x >= start {
			grid = append(grid, x)
		}
	}
	slices.Sort(grid)
	if len(grid) > maxCurvePoints {
		thin := make([]float64, 0, maxCurvePoints)
		for i := range maxCurvePoints {
			thin = append(thin, grid[i*(len(grid)-1)/(maxCurvePoints-1)])
		}
		grid = slices.Compact(thin)
	}
	var c curve
	for _, x := range grid {
		var vals []float64
		for _, ps := range series {
			k, _ := slices.BinarySearchFunc(ps, x, func(p point, x float64) int { return cmpFloat(p.x, x) })
			if k < len(ps) && ps[k].x == x {
				for k+1 < len(ps) && ps[k+1].x == x {
					k++
				}
				vals = append(vals, ps[k].v)
			} else if k > 0 {
				vals = append(vals, ps[k-1].v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		c.xs = append(c.xs, x)
		c.mean = append(c.mean, meanOf(vals))
		lo, hi := stratifiedBootstrapCI([][]float64{vals}, meanOf, min(r.Options.Resamples, 1000), r.Options.Confidence,
			bootstrapRNG(r.Options.Seed, fmt.Sprintf("%s|%s|curve|%g", variant, t.Name, x)))
		c.lo, c.hi = append(c.lo, lo), append(c.hi, hi)
	}
	return c
}

// maxCurvePoints bounds the points of a learning curve.
const maxCurvePoints = 200

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// PlotCurves writes one PNG per task into outDir: for each variant the mean
// of the metric over seeds against the task's budget axis, with its 95%
// bootstrap confidence band. It returns the files written.
func (r *Report) PlotCurves(outDir string) ([]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", outDir, err)
	}
	var files []string
	for _, t := range r.Tasks {
		p, drawn, err := r.curvePlot(t)
		if err != nil {
			return files, err
		}
		if drawn == 0 {
			continue
		}
		name := filepath.Join(outDir, "curve-"+unsafeChars.ReplaceAllString(t.Name, "_")+".png")
		if err := writePlot(p, name, 9*vg.Inch, 5*vg.Inch); err != nil {
			return files, fmt.Errorf("plot %s: %w", t.Name, err)
		}
		files = append(files, name)
	}
	return files, nil
}

// logX reports whether the curves of task t use a log budget axis.
func (r *Report) logX(t TaskInfo) bool {
	if r.Options.LogX != nil {
		return *r.Options.LogX
	}
	return t.X == "unique_evals"
}

// writePlot renders p as a PNG file, written atomically.
func writePlot(p *plot.Plot, name string, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return err
	}
	return fsutil.WriteFileWith(name, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// curvePlot draws the learning curves of task t and returns the plot and
// the number of variants drawn.
func (r *Report) curvePlot(t TaskInfo) (*plot.Plot, int, error) {
	logx := r.logX(t)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %s (mean over seeds, %.0f%% CI)", t.Name, t.Metric, 100*r.Options.Confidence)
	p.X.Label.Text = t.X
	if logx {
		p.X.Label.Text = t.X + " (log scale)"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Y.Label.Text = t.Metric
	p.Legend.Top = !t.HigherIsBetter
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, v := range r.Variants {
		c := r.curve(v, t)
		if logx {
			c = c.positiveX() // a log axis shows x > 0 only
		}
		if len(c.xs) == 0 {
			continue
		}
		col := plotutil.Color(i)
		if len(c.xs) > 1 {
			band := make(plotter.XYs, 0, 2*len(c.xs))
			for k := range c.xs {
				band = append(band, plotter.XY{X: c.xs[k], Y: c.hi[k]})
			}
			for k := len(c.xs) - 1; k >= 0; k-- {
				band = append(band, plotter.XY{X: c.xs[k], Y: c.lo[k]})
			}
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return nil, 0, fmt.Errorf("plot %s: %w", t.Name, err)
			}
			r8, g8, b8, _ := col.RGBA()
			poly.Color = color.NRGBA{R: uint8(r8 >> 8), G: uint8(g8 >> 8), B: uint8(b8 >> 8), A: 0x40}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		pts := make(plotter.XYs, len(c.xs))
		for k := range c.xs {
			pts[k] = plotter.XY{X: c.xs[k], Y: c.mean[k]}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, 0, fmt.Errorf("plot %s: %w", t.Name, err)
		}
		line.Color = col
		line.Width = vg.Points(1.5)
		line.Dashes = plotutil.Dashes(i / 7)
		p.Add(line)
		sc, _ := plotter.NewScatter(pts)
		sc.Color = col
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(1.5)
		p.Add(sc)
		p.Legend.Add(v, line)
		drawn++
	}
	if drawn == 0 {
		return p, 0, nil
	}
	if !math.IsNaN(t.Threshold) {
		thr := plotter.NewFunction(func(float64) float64 { return t.Threshold })
		thr.Color = color.Gray{Y: 0x60}
		thr.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(thr)
		p.Legend.Add(fmt.Sprintf("threshold %g", t.Threshold), thr)
		// A function has no data range: widen the axis to show it.
		lo, hi := math.Min(p.Y.Min, t.Threshold), math.Max(p.Y.Max, t.Threshold)
		pad := 0.05 * (hi - lo)
		if pad == 0 {
			pad = 1
		}
		if t.Threshold <= p.Y.Min {
			lo -= pad
		}
		if t.Threshold >= p.Y.Max {
			hi += pad
		}
		p.Y.Min, p.Y.Max = lo, hi
	}
	return p, drawn, nil
}

// positiveX drops the points at x <= 0.
func (c curve) positiveX() curve {
	var out curve
	for k, x := range c.xs {
		if x > 0 {
			out.xs, out.mean = append(out.xs, x), append(out.mean, c.mean[k])
			out.lo, out.hi = append(out.lo, c.lo[k]), append(out.hi, c.hi[k])
		}
	}
	return out
}
