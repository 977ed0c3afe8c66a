package attention

import (
	"math"
	"sync"

	"github.com/commgraph/commgraph/attention/internal/loops32"
	"github.com/commgraph/commgraph/attention/internal/par"
	"github.com/viterin/vek/vek32"
)

// Float32 layer norm, row by row: the row sums through vek's AVX2 kernels,
// the element-wise work in fused passes (attention/internal/loops32); the
// same arithmetic as layerNorm / layerNormBackward except that the row sums
// are accumulated in float32 (rows are at most a few hundred wide).

func layerNorm32(y, x, gain, bias []float32, d int, eps float64, means, rstds []float64) {
	gain, bias = gain[:d], bias[:d]
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		mean := vek32.Sum(xr) / float32(d)
		loops32.SubScalar(yr, xr, mean)
		v := vek32.Dot(yr, yr) / float32(d)
		rstd := float32(1 / math.Sqrt(float64(v)+eps))
		if means != nil {
			means[r/d], rstds[r/d] = float64(mean), float64(rstd)
		}
		loops32.ScaleMulAdd(yr, rstd, gain, bias)
	}
}

// layerNormBackward32 also copies each row of dx into dx2 when dx2 is not
// nil (the second input gradient of AddLayerNorm).
func layerNormBackward32(dx, dx2, dgain, dbias, x, gain, gy []float32, d int, eps float64, means, rstds []float64) {
	clear(dgain)
	clear(dbias)
	gain = gain[:d]
	xh := make([]float32, d)
	dxh := make([]float32, d)
	for r := 0; r < len(x); r += d {
		xr, gr, dxr := x[r:r+d], gy[r:r+d], dx[r:r+d]
		var mean, rstd float32
		if means != nil {
			mean, rstd = float32(means[r/d]), float32(rstds[r/d])
		} else {
			m, s := rowStats(xr, eps)
			mean, rstd = float32(m), float32(s)
		}
		loops32.LNBackRow(xh, dxh, dgain, dbias, xr, gr, gain, mean, rstd)
		m1 := vek32.Sum(dxh) / float32(d)
		m2 := vek32.Dot(dxh, xh) / float32(d)
		// dx = rstd (dxh - m1 - xh m2)
		loops32.LNBackDx(dxr, xh, dxh, -m2, -m1, rstd)
		if dx2 != nil {
			copy(dx2[r:r+d], dxr)
		}
	}
}

// lnMinSplit is the size rows*d below which a float32 LayerNorm pass runs
// on one goroutine.
var lnMinSplit = 1 << 14

// lnTask is a float32 LayerNorm pass split over up to workers goroutines
// (a par.Task), bit for bit the serial pass: the forward and the row-local
// part of the backward (x-hat, dx) over blocks of rows, then the gain and
// bias gradients, which sum over rows, over blocks of columns, each column
// summing its rows in increasing order with the serial operations
// (loops32.LNRowParts + LNGainBias = LNBackRow).
type lnTask struct {
	phase                                  int
	d                                      int
	eps                                    float64
	y, x, gain, bias, dx, dx2, gy, dg, dbi []float32
	means, rstds                           []float64
	ms, rs                                 []float32   // the backward's row statistics, as the serial pass rounds them
	scr                                    [][]float32 // per part: x-hat and its gradient, 2d
}

const (
	lnForward = iota
	lnBackRows
	lnBackCols
)

// lnParts returns how many parts a pass over rows rows of width d is cut
// into (1: serial).
func lnParts(workers, rows, d int) int {
	if rows*d < lnMinSplit {
		return 1
	}
	return max(1, min(par.Workers(workers), rows))
}

func (t *lnTask) Part(p, n int) {
	d := t.d
	rows := len(t.x) / d
	switch t.phase {
	case lnForward:
		lo, hi := par.Range(p, n, rows)
		var means, rstds []float64
		if t.means != nil {
			means, rstds = t.means[lo:hi], t.rstds[lo:hi]
		}
		layerNorm32(t.y[lo*d:hi*d], t.x[lo*d:hi*d], t.gain, t.bias, d, t.eps, means, rstds)
	case lnBackRows:
		lo, hi := par.Range(p, n, rows)
		if len(t.scr[p]) < 2*d {
			t.scr[p] = make([]float32, 2*d)
		}
		xh, dxh := t.scr[p][:d], t.scr[p][d:2*d]
		gain := t.gain[:d]
		for r := lo; r < hi; r++ {
			xr, gr, dxr := t.x[r*d:(r+1)*d], t.gy[r*d:(r+1)*d], t.dx[r*d:(r+1)*d]
			var mean, rstd float32
			if t.means != nil {
				mean, rstd = float32(t.means[r]), float32(t.rstds[r])
			} else {
				m, s := rowStats(xr, t.eps)
				mean, rstd = float32(m), float32(s)
			}
			t.ms[r], t.rs[r] = mean, rstd
			loops32.LNRowParts(xh, dxh, xr, gr, gain, mean, rstd)
			m1 := vek32.Sum(dxh) / float32(d)
			m2 := vek32.Dot(dxh, xh) / float32(d)
			loops32.LNBackDx(dxr, xh, dxh, -m2, -m1, rstd)
			if t.dx2 != nil {
				copy(t.dx2[r*d:(r+1)*d], dxr)
			}
		}
	case lnBackCols:
		c0, c1 := par.Range(p, n, d)
		dg, db := t.dg[c0:c1], t.dbi[c0:c1]
		clear(dg)
		clear(db)
		for r := 0; r < rows; r++ {
			loops32.LNGainBias(dg, db, t.x[r*d+c0:r*d+c1], t.gy[r*d+c0:r*d+c1], t.ms[r], t.rs[r])
		}
	}
}

// release drops the task's references to the pass's tensors.
func (t *lnTask) release() {
	t.y, t.x, t.gain, t.bias, t.dx, t.dx2, t.gy, t.dg, t.dbi = nil, nil, nil, nil, nil, nil, nil, nil, nil
	t.means, t.rstds = nil, nil
}

// layerNormSplit32 is layerNorm32 over n parts.
func layerNormSplit32(t *lnTask, wg *sync.WaitGroup, n int, y, x, gain, bias []float32, d int, eps float64, means, rstds []float64) {
	*t = lnTask{phase: lnForward, d: d, eps: eps, y: y, x: x, gain: gain, bias: bias, means: means, rstds: rstds, ms: t.ms, rs: t.rs, scr: t.scr}
	par.Run(n, t, wg)
	t.release()
}

// layerNormBackwardSplit32 is layerNormBackward32 over n parts (rows, then
// columns).
func layerNormBackwardSplit32(t *lnTask, wg *sync.WaitGroup, n int, dx, dx2, dgain, dbias, x, gain, gy []float32, d int, eps float64, means, rstds []float64) {
	rows := len(x) / d
	ms, rs := t.ms, t.rs
	if cap(ms) < rows {
		ms, rs = make([]float32, rows), make([]float32, rows)
	}
	scr := t.scr
	for len(scr) < n {
		scr = append(scr, nil)
	}
	*t = lnTask{phase: lnBackRows, d: d, eps: eps, x: x, gain: gain, dx: dx, dx2: dx2, gy: gy, dg: dgain, dbi: dbias, means: means, rstds: rstds,
		ms: ms[:rows], rs: rs[:rows], scr: scr}
	par.Run(n, t, wg)
	t.phase = lnBackCols
	par.Run(min(n, d), t, wg)
	t.release()
}
