package attention

import (
	"fmt"
	"math"
	"sync"

	"gorgonia.org/tensor"

	"github.com/commgraph/commgraph/attention/internal/loops32"
	"github.com/commgraph/commgraph/attention/internal/par"
)

// float is the element type of the plain kernels shared by the gorgonia ops
// (float32 for training, float64 for gradient checks) and the inference path.
type float interface{ ~float32 | ~float64 }

func newLike(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
}

// slice returns the backing slice of d as []T.
func slice[T float](d *tensor.Dense) []T {
	if d == nil {
		return nil
	}
	return d.Data().([]T)
}

func checkDtype(name string, in []*tensor.Dense) error {
	dt := in[0].Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("attention: %s: unsupported dtype %v", name, dt)
	}
	for i, d := range in {
		if d.Dtype() != dt {
			return fmt.Errorf("attention: %s: input %d has dtype %v, want %v", name, i, d.Dtype(), dt)
		}
	}
	return nil
}

// colSums sets db[j] to the sum of column j of the row-major g with d columns
// (the bias gradient of a linear layer).
func colSums[T float](db, g []T, d int) {
	clear(db)
	if db32, ok := as32(db); ok {
		g32, _ := as32(g)
		loops32.AddColSums(db32[:d], g32[:len(g)/d*d])
		return
	}
	for r := 0; r < len(g); r += d {
		for j, v := range g[r : r+d] {
			db[j] += v
		}
	}
}

// ---------------------------------------------------------------------------
// Layer normalisation over the last dimension (Ba, Kiros & Hinton 2016,
// "Layer Normalization"): y = (x - mean)/sqrt(var + eps) * gain + bias with the
// biased variance, as in PyTorch's nn.LayerNorm.

type layerNormKernel struct {
	eps        float64
	cache      bool
	mean, rstd []float64 // per row, from the last forward (when cache)
	// workers bounds the goroutines of a float32 pass (Binder.Workers; see
	// lnTask: the bits do not depend on it).
	workers int
	wg      sync.WaitGroup
	task    lnTask
}

func (k *layerNormKernel) enableCache() { k.cache = true }

func (*layerNormKernel) name() string    { return "LayerNorm" }
func (*layerNormKernel) arity() int      { return 3 }
func (*layerNormKernel) diffWRT() []bool { return []bool{true, true, true} }
func (*layerNormKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	if s[0].Dims() != 2 || s[1].TotalSize() != s[0][1] || s[2].TotalSize() != s[0][1] {
		return nil, fmt.Errorf("x %v, gain %v and bias %v do not match", s[0], s[1], s[2])
	}
	return s[0].Clone(), nil
}

// layerNorm normalises each row of x (width d) into y; it records the row
// statistics in means/rstds when they are not nil.
func layerNorm[T float](y, x, gain, bias []T, d int, eps float64, means, rstds []float64) {
	if x32, ok := any(x).([]float32); ok {
		layerNorm32(any(y).([]float32), x32, any(gain).([]float32), any(bias).([]float32), d, eps, means, rstds)
		return
	}
	gain, bias = gain[:d], bias[:d]
	for r := 0; r < len(x); r += d {
		xr, yr := x[r:r+d], y[r:r+d]
		mean, rstd := rowStats(xr, eps)
		if means != nil {
			means[r/d], rstds[r/d] = mean, rstd
		}
		for j, v := range xr {
			yr[j] = T((float64(v)-mean)*rstd)*gain[j] + bias[j]
		}
	}
}

func rowStats[T float](xr []T, eps float64) (mean, rstd float64) {
	var s float64
	for _, v := range xr {
		s += float64(v)
	}
	mean = s / float64(len(xr))
	var ss float64
	for _, v := range xr {
		c := float64(v) - mean
		ss += c * c
	}
	return mean, 1 / math.Sqrt(ss/float64(len(xr))+eps)
}

func layerNormBackward[T float](dx, dgain, dbias, x, gain, gy []T, d int, eps float64, means, rstds []float64) {
	layerNormBackwardDup(dx, nil, dgain, dbias, x, gain, gy, d, eps, means, rstds)
}

// layerNormBackwardDup is layerNormBackward that also copies each row of dx
// into dx2 (when not nil) while the row is in cache.
func layerNormBackwardDup[T float](dx, dx2, dgain, dbias, x, gain, gy []T, d int, eps float64, means, rstds []float64) {
	if x32, ok := any(x).([]float32); ok {
		layerNormBackward32(any(dx).([]float32), any(dx2).([]float32), any(dgain).([]float32), any(dbias).([]float32), x32,
			any(gain).([]float32), any(gy).([]float32), d, eps, means, rstds)
		return
	}
	clear(dgain)
	clear(dbias)
	xhat := make([]float64, d)
	for r := 0; r < len(x); r += d {
		xr, gr, dxr := x[r:r+d], gy[r:r+d], dx[r:r+d]
		var mean, rstd float64
		if means != nil {
			mean, rstd = means[r/d], rstds[r/d]
		} else {
			mean, rstd = rowStats(xr, eps)
		}
		var m1, m2 float64 // means of dxhat and dxhat*xhat
		for j, v := range xr {
			xh := (float64(v) - mean) * rstd
			xhat[j] = xh
			g := float64(gr[j])
			dgain[j] += T(g * xh)
			dbias[j] += gr[j]
			dxh := g * float64(gain[j])
			m1 += dxh
			m2 += dxh * xh
		}
		m1 /= float64(d)
		m2 /= float64(d)
		for j := range xr {
			dxh := float64(gr[j]) * float64(gain[j])
			dxr[j] = T(rstd * (dxh - m1 - xhat[j]*m2))
		}
		if dx2 != nil {
			copy(dx2[r:r+d], dxr)
		}
	}
}

func (k *layerNormKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	rows, d := in[0].Shape()[0], in[0].Shape()[1]
	var means, rstds []float64
	if k.cache {
		if cap(k.mean) < rows {
			k.mean, k.rstd = make([]float64, rows), make([]float64, rows)
		}
		means, rstds = k.mean[:rows], k.rstd[:rows]
	}
	switch in[0].Dtype() {
	case tensor.Float32:
		if n := lnParts(k.workers, rows, d); n > 1 {
			layerNormSplit32(&k.task, &k.wg, n, slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]), d, k.eps, means, rstds)
			break
		}
		layerNorm(slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), slice[float32](in[2]), d, k.eps, means, rstds)
	default:
		layerNorm(slice[float64](out), slice[float64](in[0]), slice[float64](in[1]), slice[float64](in[2]), d, k.eps, means, rstds)
	}
	return nil
}

func (k *layerNormKernel) backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) error {
	return k.backwardDup(in, gout, grads, nil)
}

// backwardDup is backward that also writes the input gradient into dx2
// (when not nil).
func (k *layerNormKernel) backwardDup(in []*tensor.Dense, gout *tensor.Dense, grads []*tensor.Dense, dx2 *tensor.Dense) error {
	dt := in[0].Dtype()
	dx, dg, db := grads[0], grads[1], grads[2]
	rows, d := in[0].Shape()[0], in[0].Shape()[1]
	var means, rstds []float64
	if k.cache && len(k.mean) >= rows {
		means, rstds = k.mean[:rows], k.rstd[:rows]
	}
	switch dt {
	case tensor.Float32:
		if n := lnParts(k.workers, rows, d); n > 1 {
			layerNormBackwardSplit32(&k.task, &k.wg, n, slice[float32](dx), slice[float32](dx2), slice[float32](dg), slice[float32](db), slice[float32](in[0]), slice[float32](in[1]), slice[float32](gout), d, k.eps, means, rstds)
			break
		}
		layerNormBackwardDup(slice[float32](dx), slice[float32](dx2), slice[float32](dg), slice[float32](db), slice[float32](in[0]), slice[float32](in[1]), slice[float32](gout), d, k.eps, means, rstds)
	default:
		layerNormBackwardDup(slice[float64](dx), slice[float64](dx2), slice[float64](dg), slice[float64](db), slice[float64](in[0]), slice[float64](in[1]), slice[float64](gout), d, k.eps, means, rstds)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Element-wise activations.

// Activation selects an element-wise non-linearity.
type Activation int

const (
	// GELU is the exact Gaussian error linear unit x*Phi(x) (Hendrycks &
	// Gimpel 2016), computed with math.Erf as PyTorch's default nn.GELU; not
	// the tanh approximation.
	GELU Activation = iota
	// ReLU is max(x, 0); its derivative at 0 is taken as 0.
	ReLU
)

func (a Activation) String() string {
	switch a {
	case GELU:
		return "GELU"
	case ReLU:
		return "ReLU"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

const invSqrt2 = 0.70710678118654752440
const invSqrt2Pi = 0.39894228040143267794

// geluCDF returns Phi(x) and phi(x) (the standard normal CDF and density).
// float64 uses math.Erf and math.Exp (exact, for gradient checks); float32
// uses erf from Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) with a fast
// exp, accurate to float32 precision and several times cheaper.
func geluCDF[T float](x T) (cdf, pdf float64) {
	f := float64(x)
	var zero T
	if _, is32 := any(zero).(float32); !is32 {
		return 0.5 * (1 + math.Erf(f*invSqrt2)), invSqrt2Pi * math.Exp(-0.5*f*f)
	}
	e := fastExp(-0.5 * f * f) // = exp(-z^2) with z = |x|/sqrt2
	z := math.Abs(f) * invSqrt2
	t := 1 / (1 + 0.3275911*z)
	poly := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
	erf := 1 - poly*e
	if f < 0 {
		erf = -erf
	}
	return 0.5 * (1 + erf), invSqrt2Pi * e
}

// fastExp is exp(x) for x <= 0 with relative error below 1e-8: x = n ln2 + r
// with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial (remainder
// < 0.35^8/8! ~ 5e-9), scaled by 2^n through the exponent bits.
func fastExp(x float64) float64 {
	if x < -700 {
		return 0
	}
	const ln2Hi, ln2Lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
	y := x*1.4426950408889634 + 0.5
	n := float64(int64(y)) // floor(y): y <= 0.5 here, truncation rounds up for negatives
	if n > y {
		n--
	}
	r := x - n*ln2Hi - n*ln2Lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return math.Float64frombits(uint64(int64(n)+1023)<<52) * p
}

// mulInto sets dst[i] = a[i] * b[i] (float32: attention/internal/loops32, the same
// rounded products).
func mulInto[T float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	if d32, ok := as32(dst); ok {
		a32, _ := as32(a)
		b32, _ := as32(b)
		loops32.Mul(d32, a32, b32)
		return
	}
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func activate[T float](act Activation, y, x []T) {
	if act == GELU {
		if x32, ok := any(x).([]float32); ok {
			gelu32(any(y).([]float32), nil, x32)
			return
		}
	}
	switch act {
	case GELU:
		for i, v := range x {
			cdf, _ := geluCDF(v)
			y[i] = T(float64(v) * cdf)
		}
	case ReLU:
		for i, v := range x {
			if v > 0 {
				y[i] = v
			} else {
				y[i] = 0
			}
		}
	}
}

func activateBackward[T float](act Activation, dx, x, gy []T) {
	if act == GELU {
		if x32, ok := any(x).([]float32); ok {
			d := any(dx).([]float32)
			gelu32(nil, d, x32)
			mulInto(d, any(gy).([]float32), d)
			return
		}
	}
	switch act {
	case GELU:
		for i, v := range x {
			cdf, pdf := geluCDF(v)
			dx[i] = T(float64(gy[i]) * (cdf + float64(v)*pdf))
		}
	case ReLU:
		for i, v := range x {
			if v > 0 {
				dx[i] = gy[i]
			} else {
				dx[i] = 0
			}
		}
	}
}

type activationKernel struct {
	act   Activation
	cache bool
	deriv any // []float32 or []float64: act'(x) from the last forward (GELU, when cache)
	// workers bounds the goroutines of a float32 GELU pass (see geluTask).
	workers int
	wg      sync.WaitGroup
	task    geluTask
}

// geluMinSplit is the element count below which a float32 GELU pass runs on
// one goroutine.
var geluMinSplit = 1 << 15

// geluTask is a float32 GELU pass (forward with its derivative, or the
// backward product) split over blocks of whole 256-element chunks (a
// par.Task): gelu32 works chunk by chunk from the start of x, and a block
// starting at a chunk boundary sees the same chunks, so every element gets
// the serial pass's operations.
type geluTask struct {
	back       bool
	y, dy, x   []float32 // forward: y, dy = GELU(x), GELU'(x)
	dx, gy, dd []float32 // backward: dx = gy * dd
}

const geluChunk = 256

func (t *geluTask) Part(p, n int) {
	total := len(t.x)
	if t.back {
		total = len(t.dx)
	}
	c0, c1 := par.Range(p, n, (total+geluChunk-1)/geluChunk)
	lo, hi := c0*geluChunk, min(c1*geluChunk, total)
	if t.back {
		mulInto(t.dx[lo:hi], t.gy[lo:hi], t.dd[lo:hi])
		return
	}
	gelu32(t.y[lo:hi], t.dy[lo:hi], t.x[lo:hi])
}

// geluParts returns how many parts a float32 GELU pass over n elements is
// cut into (1: serial).
func (k *activationKernel) geluParts(n int) int {
	if k.act != GELU || n < geluMinSplit {
		return 1
	}
	return max(1, min(par.Workers(k.workers), (n+geluChunk-1)/geluChunk))
}

func (k *activationKernel) enableCache() { k.cache = k.act == GELU }

func (k *activationKernel) name() string  { return k.act.String() }
func (*activationKernel) arity() int      { return 1 }
func (*activationKernel) diffWRT() []bool { return []bool{true} }
func (*activationKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	return s[0].Clone(), nil
}

func (k *activationKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	n := in[0].Shape().TotalSize()
	switch in[0].Dtype() {
	case tensor.Float32:
		if k.cache {
			if parts := k.geluParts(n); parts > 1 {
				k.task = geluTask{y: slice[float32](out)[:n], dy: cacheBuf[float32](&k.deriv, n), x: slice[float32](in[0])[:n]}
				par.Run(parts, &k.task, &k.wg)
				k.task = geluTask{}
				break
			}
			geluWithDeriv(slice[float32](out), cacheBuf[float32](&k.deriv, n), slice[float32](in[0]))
		} else {
			activate(k.act, slice[float32](out), slice[float32](in[0]))
		}
	default:
		if k.cache {
			geluWithDeriv(slice[float64](out), cacheBuf[float64](&k.deriv, n), slice[float64](in[0]))
		} else {
			activate(k.act, slice[float64](out), slice[float64](in[0]))
		}
	}
	return nil
}

// cacheBuf returns a []T of length n kept in *slot, reallocated when too small.
func cacheBuf[T float](slot *any, n int) []T {
	if b, ok := (*slot).([]T); ok && cap(b) >= n {
		return b[:n]
	}
	b := make([]T, n)
	*slot = b
	return b
}

// geluWithDeriv writes GELU(x) into y and GELU'(x) into dy.
func geluWithDeriv[T float](y, dy, x []T) {
	if x32, ok := any(x).([]float32); ok {
		gelu32(any(y).([]float32), any(dy).([]float32), x32)
		return
	}
	dy = dy[:len(x)]
	y = y[:len(x)]
	for i, v := range x {
		cdf, pdf := geluCDF(v)
		f := float64(v)
		y[i] = T(f * cdf)
		dy[i] = T(cdf + f*pdf)
	}
}

func (k *activationKernel) backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) error {
	dx := grads[0]
	n := in[0].Shape().TotalSize()
	switch in[0].Dtype() {
	case tensor.Float32:
		if d, ok := k.deriv.([]float32); ok && k.cache && len(d) >= n {
			if parts := k.geluParts(n); parts > 1 {
				k.task = geluTask{back: true, dx: slice[float32](dx)[:n], gy: slice[float32](gout)[:n], dd: d[:n]}
				par.Run(parts, &k.task, &k.wg)
				k.task = geluTask{}
				break
			}
			mulInto(slice[float32](dx), slice[float32](gout), d[:n])
		} else {
			activateBackward(k.act, slice[float32](dx), slice[float32](in[0]), slice[float32](gout))
		}
	default:
		if d, ok := k.deriv.([]float64); ok && k.cache && len(d) >= n {
			mulInto(slice[float64](dx), slice[float64](gout), d[:n])
		} else {
			activateBackward(k.act, slice[float64](dx), slice[float64](in[0]), slice[float64](gout))
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Relaxed edge-type embedding: E[A_ij] = (1-A_ij) E0 + A_ij E1, so that the
// gradient reaches a relaxed (straight-through) graph matrix A.

type edgeEmbedKernel struct{}

func (edgeEmbedKernel) name() string    { return "EdgeEmbed" }
func (edgeEmbedKernel) arity() int      { return 2 }
func (edgeEmbedKernel) diffWRT() []bool { return []bool{true, true} }
func (edgeEmbedKernel) outShape(s []tensor.Shape) (tensor.Shape, error) {
	if s[0].Dims() != 2 || s[0][0] != s[0][1] || s[1].Dims() != 2 || s[1][0] != 2 {
		return nil, fmt.Errorf("graph %v must be [N,N] and table %v [2,d]", s[0], s[1])
	}
	return tensor.Shape{s[0][0] * s[0][1], s[1][1]}, nil
}

func edgeEmbed[T float](out, a, table []T, d int) {
	e0, e1 := table[:d], table[d:2*d]
	for p, av := range a {
		o := out[p*d : (p+1)*d]
		for c := range o {
			o[c] = (1-av)*e0[c] + av*e1[c]
		}
	}
}

func edgeEmbedBackward[T float](da, dtable, a, table, g []T, d int) {
	clear(dtable)
	e0, e1 := table[:d], table[d:2*d]
	d0, d1 := dtable[:d], dtable[d:2*d]
	for p, av := range a {
		gp := g[p*d : (p+1)*d]
		var s T
		for c, gv := range gp {
			s += gv * (e1[c] - e0[c])
			d0[c] += (1 - av) * gv
			d1[c] += av * gv
		}
		da[p] = s
	}
}

func (k edgeEmbedKernel) forward(in []*tensor.Dense, out *tensor.Dense) error {
	if err := checkDtype(k.name(), in); err != nil {
		return err
	}
	d := in[1].Shape()[1]
	switch in[0].Dtype() {
	case tensor.Float32:
		edgeEmbed(slice[float32](out), slice[float32](in[0]), slice[float32](in[1]), d)
	default:
		edgeEmbed(slice[float64](out), slice[float64](in[0]), slice[float64](in[1]), d)
	}
	return nil
}

func (k edgeEmbedKernel) backward(in []*tensor.Dense, _, gout *tensor.Dense, grads []*tensor.Dense) error {
	dt := in[0].Dtype()
	da, dtab := grads[0], grads[1]
	d := in[1].Shape()[1]
	switch dt {
	case tensor.Float32:
		edgeEmbedBackward(slice[float32](da), slice[float32](dtab), slice[float32](in[0]), slice[float32](in[1]), slice[float32](gout), d)
	default:
		edgeEmbedBackward(slice[float64](da), slice[float64](dtab), slice[float64](in[0]), slice[float64](in[1]), slice[float64](gout), d)
	}
	return nil
}
