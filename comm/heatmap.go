package comm

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// heatGrid maps the probability matrix onto plotter.GridXYZ: column c =
// sender c, grid row r = receiver N-1-r (so receiver 0 is the top row).
type heatGrid struct{ s *Snapshot }

func (g heatGrid) Dims() (c, r int)   { return g.s.N(), g.s.N() }
func (g heatGrid) X(c int) float64    { return float64(c) }
func (g heatGrid) Y(r int) float64    { return float64(r) }
func (g heatGrid) Z(c, r int) float64 { return g.s.Probabilities[g.s.N()-1-r][c] }

const heatDPI = 96

// RenderPNG draws the heatmap of the row-softmax probabilities (receivers as
// rows, top to bottom; senders as columns), axes labelled with the agent
// names, each cell annotated with its probability (in brackets when the edge
// is in the binary adjacency, i.e. the exact top-k; up to 16 agents, with a
// legend saying so under the sender axis), and a vertical colour bar on the
// right. When rows are undecided (see Decided), the title gets a second line
// "undecided: R of N rows within noise" and those receivers' names are
// marked with " *".
func (s *Snapshot) RenderPNG(w io.Writer, opt ExportOptions) error {
	if err := s.Validate(); err != nil {
		return err
	}
	wpx, hpx := opt.Width, opt.Height
	if wpx == 0 && hpx == 0 {
		wpx, hpx = 640, 480
	}
	if wpx < 200 || hpx < 150 {
		return fmt.Errorf("comm: PNG: size %dx%d too small (minimum 200x150)", wpx, hpx)
	}
	n := s.N()
	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(0)
	cmap.SetMax(1)

	d := s.withMargins()
	p := plot.New()
	p.Title.Text = s.title()
	if note := s.UndecidedNote(); note != "" {
		p.Title.Text += "\n" + note + " (receivers marked *)"
	}
	p.X.Label.Text = "sender"
	if n <= 16 {
		p.X.Label.Text = "sender      ([p] = heard in the exported graph: itself and the row's exact top-k)"
	}
	p.Y.Label.Text = "receiver"
	hm := plotter.NewHeatMap(heatGrid{s}, cmap.Palette(256))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	xt := make([]plot.Tick, n)
	yt := make([]plot.Tick, n)
	for i, a := range s.Agents {
		xt[i] = plot.Tick{Value: float64(i), Label: a}
		yt[i] = plot.Tick{Value: float64(n - 1 - i), Label: a}
		if !d.Decided[i] {
			yt[i].Label += " *"
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	if n <= 16 { // cell annotations stay readable up to about 16 agents
		var xys plotter.XYs
		var labels []string
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				xys = append(xys, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
				l := fmt.Sprintf("%.2f", s.Probabilities[i][j])
				if s.Adjacency[i][j] == 1 {
					l = "[" + l + "]"
				}
				labels = append(labels, l)
			}
		}
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
		if err != nil {
			return fmt.Errorf("comm: PNG: labels: %w", err)
		}
		for i := range lab.TextStyle {
			lab.TextStyle[i].XAlign = draw.XCenter
			lab.TextStyle[i].YAlign = draw.YCenter
			if s.Probabilities[i/n][i%n] < 0.5 {
				lab.TextStyle[i].Color = color.White
			}
		}
		p.Add(lab)
	}

	bar := plot.New()
	bar.Y.Label.Text = "probability"
	bar.HideX()
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})

	c := vgimg.NewWith(vgimg.UseWH(vg.Length(wpx)*vg.Inch/heatDPI, vg.Length(hpx)*vg.Inch/heatDPI), vgimg.UseDPI(heatDPI))
	dc := draw.New(c)
	barW := vg.Length(wpx) * vg.Inch / heatDPI * 0.16
	p.Draw(draw.Crop(dc, 0, -barW-vg.Length(wpx)*vg.Inch/heatDPI*0.02, 0, 0))
	bar.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-barW, 0, 0, 0))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("comm: PNG: %w", err)
	}
	return nil
}

// writePNG writes the heatmap to path atomically.
func writePNG(path string, s *Snapshot, opt ExportOptions) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileWith(path, func(w io.Writer) error { return s.RenderPNG(w, opt) })
}
