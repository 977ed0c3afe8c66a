package comm

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// matGrid maps an N x N matrix onto plotter.GridXYZ (row 0 on top).
type matGrid [][]float64

func (g matGrid) Dims() (c, r int)   { return len(g), len(g) }
func (g matGrid) X(c int) float64    { return float64(c) }
func (g matGrid) Y(r int) float64    { return float64(r) }
func (g matGrid) Z(c, r int) float64 { return g[len(g)-1-r][c] }

// CompareView describes the right-hand panel of RenderComparePNG.
type CompareView struct {
	// Truth is the N x N ground truth (rows = receivers), as for Compare;
	// its nonzero cells are annotated with their weight.
	Truth [][]float64
	// Shade, when set, colours the right panel instead of Truth (same
	// shape, finite and >= 0): e.g. every pair's measured interaction share,
	// of which Truth keeps only those above a threshold.
	Shade [][]float64
	// Title names the truth, e.g. "truth: planted pairs" or "measured:
	// ANOVA interaction shares of log(time_ns)".
	Title string
	// Summary is an optional first title line (e.g. the figures of Compare).
	Summary string
}

// RenderComparePNG draws the learned graph and a ground truth side by side
// as two heatmaps with the same axes (receivers as rows, senders as
// columns). Left: the learned row-softmax probabilities of the off-diagonal
// entries, coloured from 0 to the largest one (so structure shows even when
// the probabilities are nearly flat; the colour bar gives the scale), each
// cell in brackets when the edge is in the exported graph (up to 16 agents)
// and undecided receivers marked " *". Right: the truth weights (or Shade)
// divided by the largest one, the truth's nonzero cells annotated with their
// weight. Diagonals are grey (a receiver always hears itself).
func (s *Snapshot) RenderComparePNG(w io.Writer, v CompareView, opt ExportOptions) error {
	f, err := s.compareFigure(v, opt)
	if err != nil {
		return err
	}
	for _, pt := range f.parts {
		pt.p.Draw(pt.c)
	}
	if _, err := (vgimg.PngCanvas{Canvas: f.img}).WriteTo(w); err != nil {
		return fmt.Errorf("comm: compare PNG: %w", err)
	}
	return nil
}

// compareFigure is the laid-out figure of RenderComparePNG: each plot with
// the part of the image it is drawn on (summary, left panel, colour bar,
// right panel).
type compareFigure struct {
	img         *vgimg.Canvas
	parts       []comparePart
	left, right comparePart
}

type comparePart struct {
	p *plot.Plot
	c draw.Canvas
}

func (s *Snapshot) compareFigure(v CompareView, opt ExportOptions) (*compareFigure, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n := s.N()
	if len(v.Truth) != n {
		return nil, fmt.Errorf("comm: compare PNG: the truth has %d agents, the graph %d", len(v.Truth), n)
	}
	wpx, hpx := opt.Width, opt.Height
	if wpx == 0 && hpx == 0 {
		wpx, hpx = 1280, 520
	}
	if wpx < 400 || hpx < 150 {
		return nil, fmt.Errorf("comm: compare PNG: size %dx%d too small (minimum 400x150)", wpx, hpx)
	}
	shade := v.Shade
	if shade == nil {
		shade = v.Truth
	}
	if len(shade) != n {
		return nil, fmt.Errorf("comm: compare PNG: the shade has %d agents, the graph %d", len(shade), n)
	}
	learned := make([][]float64, n)
	truth := make([][]float64, n)
	pMax, tMax := 0.0, 0.0
	for i := 0; i < n; i++ {
		if len(v.Truth[i]) != n || len(shade[i]) != n {
			return nil, fmt.Errorf("comm: compare PNG: truth row %d has %d entries (shade %d), want %d", i, len(v.Truth[i]), len(shade[i]), n)
		}
		learned[i] = make([]float64, n)
		truth[i] = make([]float64, n)
		for j := 0; j < n; j++ {
			if u := v.Truth[i][j]; math.IsNaN(u) || math.IsInf(u, 0) || u < 0 {
				return nil, fmt.Errorf("comm: compare PNG: truth[%d][%d] = %v, want finite and >= 0", i, j, u)
			}
			t := shade[i][j]
			if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
				return nil, fmt.Errorf("comm: compare PNG: shade[%d][%d] = %v, want finite and >= 0", i, j, t)
			}
			if i == j {
				learned[i][j], truth[i][j] = math.NaN(), math.NaN() // blank
				continue
			}
			learned[i][j], truth[i][j] = s.Probabilities[i][j], t
			pMax, tMax = max(pMax, learned[i][j]), max(tMax, t)
		}
	}
	if pMax == 0 {
		pMax = 1
	}
	if tMax == 0 {
		tMax = 1
	}
	for i := range truth {
		for j := range truth[i] {
			truth[i][j] /= tMax
		}
	}
	d := s.withMargins()
	ticks := func(mark bool) (xt, yt []plot.Tick) {
		for i, a := range s.Agents {
			xt = append(xt, plot.Tick{Value: float64(i), Label: a})
			l := a
			if mark && !d.Decided[i] {
				l += " *"
			}
			yt = append(yt, plot.Tick{Value: float64(n - 1 - i), Label: l})
		}
		return xt, yt
	}

	lt := fmt.Sprintf("learned: iteration %d, %s, k = %d", s.Iteration, s.Variant, s.K)
	if note := s.UndecidedNote(); note != "" {
		lt += "\n" + note + " (marked *)"
	}
	left, err := panel(learned, pMax, lt, func(i, j int) string {
		l := fmt.Sprintf("%.2f", s.Probabilities[i][j])
		if s.Adjacency[i][j] == 1 {
			l = "[" + l + "]"
		}
		return l
	})
	if err != nil {
		return nil, err
	}
	xt, yt := ticks(true)
	left.X.Tick.Marker, left.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	left.X.Label.Text = "sender"
	if n <= 16 {
		left.X.Label.Text = "sender   ([p] = in the exported graph)"
	}
	left.Y.Label.Text = "receiver"
	right, err := panel(truth, 1, v.Title, func(i, j int) string {
		if v.Truth[i][j] == 0 {
			return ""
		}
		return fmt.Sprintf("%.2g", v.Truth[i][j])
	})
	if err != nil {
		return nil, err
	}
	xt, yt = ticks(false)
	right.X.Tick.Marker, right.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	right.X.Label.Text = "sender   (colour: weight / largest weight)"

	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(0)
	cmap.SetMax(pMax)
	bar := plot.New()
	bar.Y.Label.Text = "learned probability"
	bar.HideX()
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})

	inch := func(px int) vg.Length { return vg.Length(px) * vg.Inch / heatDPI }
	c := vgimg.NewWith(vgimg.UseWH(inch(wpx), inch(hpx)), vgimg.UseDPI(heatDPI))
	dc := draw.New(c)
	f := &compareFigure{img: c}
	top := vg.Length(0)
	if v.Summary != "" {
		top = inch(30)
		sp := plot.New()
		sp.Title.Text = v.Summary
		sp.HideAxes()
		f.parts = append(f.parts, comparePart{sp, draw.Crop(dc, 0, 0, dc.Max.Y-dc.Min.Y-top, 0)})
	}
	lc, bc, rc := compareCanvases(dc, top)
	uprightSenders(left, lc, n)
	uprightSenders(right, rc, n)
	f.left, f.right = comparePart{left, lc}, comparePart{right, rc}
	f.parts = append(f.parts, f.left, comparePart{bar, bc}, f.right)
	return f, nil
}

// compareCanvases splits the canvas below a title band of height top into
// the left panel, the colour bar and the right panel.
func compareCanvases(dc draw.Canvas, top vg.Length) (left, bar, right draw.Canvas) {
	W := dc.Max.X - dc.Min.X
	barW, gap := W*0.08, W*0.03
	half := (W - barW - gap) / 2
	return draw.Crop(dc, 0, -(W - half), 0, -top),
		draw.Crop(dc, half, -(W - half - barW), 0, -top),
		draw.Crop(dc, half+barW+gap, 0, 0, -top)
}

// uprightSenders turns the sender (x) tick labels of a panel of n columns
// drawn on c upright (reading upwards, ending at their tick) when side by
// side they would not fit under their columns: the DRAM knob names
// (RefreshMaxPostponed, MaxActiveTransactions, ...) are several times wider
// than a column of the side-by-side figure.
func uprightSenders(p *plot.Plot, c draw.Canvas, n int) {
	col := senderColumn(p, c, n)
	for _, t := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		if p.X.Tick.Label.Width(t.Label) > 0.9*col {
			p.X.Tick.Label.Rotation = math.Pi / 2
			p.X.Tick.Label.XAlign = draw.XRight
			p.X.Tick.Label.YAlign = draw.YCenter
			return
		}
	}
}

// senderColumn is the width of one column of a heatmap panel of n columns
// drawn on c.
func senderColumn(p *plot.Plot, c draw.Canvas, n int) vg.Length {
	da := p.DataCanvas(c)
	return (da.Max.X - da.Min.X) / vg.Length(n)
}

// panel is one heatmap of m (NaN cells blank) coloured over [0, hi], with
// cell annotations from label up to 16 agents.
func panel(m [][]float64, hi float64, title string, label func(i, j int) string) (*plot.Plot, error) {
	n := len(m)
	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(0)
	cmap.SetMax(hi)
	p := plot.New()
	p.Title.Text = title
	hm := plotter.NewHeatMap(matGrid(m), cmap.Palette(256))
	hm.Min, hm.Max = 0, hi
	hm.NaN = color.Gray{Y: 150} // the diagonal: distinct from the palette's white end
	p.Add(hm)
	if n > 16 {
		return p, nil
	}
	var xys plotter.XYs
	var labels []string
	var dark []bool
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
			labels = append(labels, label(i, j))
			dark = append(dark, m[i][j] < 0.5*hi)
		}
	}
	if len(xys) == 0 {
		return p, nil
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("comm: compare PNG: labels: %w", err)
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].XAlign = draw.XCenter
		lab.TextStyle[i].YAlign = draw.YCenter
		if dark[i] {
			lab.TextStyle[i].Color = color.White
		}
	}
	p.Add(lab)
	return p, nil
}

// WriteComparePNG writes the side-by-side heatmap (RenderComparePNG) to
// path atomically.
func WriteComparePNG(path string, s *Snapshot, v CompareView, opt ExportOptions) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileWith(path, func(w io.Writer) error { return s.RenderComparePNG(w, v, opt) })
}
