package dram

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// RefRow is one reference run of DRAMSys: a trace, a configuration and the
// metrics the reference printed.
type RefRow struct {
	File     string // reference CSV (for messages)
	Line     int    // 1-based line in File
	Trace    string // trace name as written (e.g. "stream.stl")
	Config   Config
	EnergyPJ float64
	PowerMW  float64
	TimeNS   float64
	NoEnergy bool // energy_pJ and power_mW are empty (time-only runs: LPDDR4)
}

// ReadReference reads a reference CSV with the columns trace, the 10 knob
// names, energy_pJ, power_mW and time_ns (any order; extra columns ignored).
// A row may leave both energy_pJ and power_mW empty (a time-only run, as
// the reference's LPDDR4 runs are); it is then compared in time only.
func ReadReference(path string) ([]RefRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	defer f.Close()
	return parseReference(f, path)
}

// parseReference parses a reference CSV from r; file names it in errors.
func parseReference(r io.Reader, file string) ([]RefRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: reading header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"trace"}
	for _, k := range knobs {
		need = append(need, k.Name)
	}
	need = append(need, "energy_pJ", "power_mW", "time_ns")
	idx := make([]int, len(need))
	for i, n := range need {
		c, ok := col[n]
		if !ok {
			return nil, fmt.Errorf("%s:1: missing column %q (need %s)", file, n, strings.Join(need, ", "))
		}
		idx[i] = c
	}
	var rows []RefRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(i int) (string, error) {
			if idx[i] >= len(rec) {
				return "", fmt.Errorf("%s:%d: missing field %q", file, line, need[i])
			}
			return strings.TrimSpace(rec[idx[i]]), nil
		}
		row := RefRow{File: file, Line: line}
		if row.Trace, err = get(0); err != nil {
			return nil, err
		}
		vals := make([]string, NumKnobs)
		for k := range NumKnobs {
			if vals[k], err = get(1 + k); err != nil {
				return nil, err
			}
		}
		if row.Config, err = configFromValues(vals); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		for i, dst := range []*float64{&row.EnergyPJ, &row.PowerMW, &row.TimeNS} {
			s, err := get(1 + NumKnobs + i)
			if err != nil {
				return nil, err
			}
			if i == 0 && s == "" {
				if p, err := get(2 + NumKnobs); err == nil && p == "" {
					row.NoEnergy = true
					row.EnergyPJ, row.PowerMW = math.NaN(), math.NaN()
					continue
				}
			}
			if i == 1 && row.NoEnergy {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: column %s: bad number %q", file, line, need[1+NumKnobs+i], s)
			}
			*dst = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no data rows", file)
	}
	return rows, nil
}

// RowResult pairs a reference row with the simulated result.
type RowResult struct {
	Ref RefRow
	Sim Result
}

// Exact reports whether the simulation reproduces the reference row to the
// precision the reference prints: time to 1e-6 ns (DRAMSys counts
// picoseconds), energy to 0.005 pJ (printed with two decimals; not
// compared for time-only rows).
func (r RowResult) Exact() bool {
	if math.Abs(r.Sim.TimeNS-r.Ref.TimeNS) > 1e-6 {
		return false
	}
	return r.Ref.NoEnergy || math.Abs(r.Sim.EnergyPJ-r.Ref.EnergyPJ) <= 0.005+1e-9*math.Abs(r.Ref.EnergyPJ)
}

// TraceStats summarises the error of the model on one trace. Errors are
// absolute relative errors in percent.
type TraceStats struct {
	Trace                              string
	Rows                               int
	EnergyRows                         int // rows with reference energy; the energy and power figures cover these
	MedianTime, P95Time, MaxTime       float64
	MedianEnergy, P95Energy, MaxEnergy float64
	MedianPower, P95Power, MaxPower    float64
	SpearmanTime, SpearmanEnergy       float64
}

// Validation is the outcome of simulating every reference row.
type Validation struct {
	Rows   []RowResult
	Traces []TraceStats // sorted by trace name
}

// Thresholds are the acceptance limits of a validation (percent and rank
// correlation).
type Thresholds struct {
	MaxMedianTimeErr   float64
	MaxMedianEnergyErr float64
	MaxP95Err          float64
	MinSpearman        float64
}

// DefaultThresholds are the limits of issue 2: median <= 1% (time) and
// <= 0.5% (energy), p95 <= 3% on both, Spearman >= 0.99.
func DefaultThresholds() Thresholds {
	return Thresholds{MaxMedianTimeErr: 1, MaxMedianEnergyErr: 0.5, MaxP95Err: 3, MinSpearman: 0.99}
}

// TraceLoader resolves trace names once and caches the parsed traces; it
// is safe for concurrent use.
type TraceLoader struct {
	Dirs  []string // searched before the embedded traces
	mu    sync.Mutex
	cache map[string]*traceEntry
}

type traceEntry struct {
	once sync.Once
	t    *Trace
	err  error
}

// Load returns the trace called name (see LoadTrace).
func (l *TraceLoader) Load(name string) (*Trace, error) {
	l.mu.Lock()
	if l.cache == nil {
		l.cache = map[string]*traceEntry{}
	}
	e := l.cache[name]
	if e == nil {
		e = &traceEntry{}
		l.cache[name] = e
	}
	l.mu.Unlock()
	e.once.Do(func() { e.t, e.err = LoadTrace(name, l.Dirs...) })
	return e.t, e.err
}

// Validate simulates every row in parallel (workers <= 0: GOMAXPROCS), one
// Simulator per worker, on the embedded DDR3-1600 memory system, and
// summarises the errors per trace.
func Validate(ctx context.Context, rows []RefRow, loader *TraceLoader, workers int) (*Validation, error) {
	return ValidateOn(ctx, rows, loader, workers, nil, nil)
}

// ValidateOn is Validate on the memory system of spec and am (nil: the
// defaults of NewSimulator).
func ValidateOn(ctx context.Context, rows []RefRow, loader *TraceLoader, workers int, spec *MemSpec, am *AddressMapping) (*Validation, error) {
	if loader == nil {
		loader = &TraceLoader{}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Resolve traces up front so that errors name the first row using them.
	for _, r := range rows {
		if _, err := loader.Load(r.Trace); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
		}
	}
	out := make([]RowResult, len(rows))
	var (
		wg       sync.WaitGroup
		next     = make(chan int)
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sim := NewSimulator(spec, am)
			for i := range next {
				r := rows[i]
				tr, _ := loader.Load(r.Trace)
				res, err := sim.Run(tr, r.Config)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s:%d: %w", r.File, r.Line, err) })
				}
				out[i] = RowResult{Ref: r, Sim: res}
			}
		}()
	}
	var ctxErr error
feed:
	for i := range rows {
		select {
		case next <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctxErr != nil {
		return nil, ctxErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return &Validation{Rows: out, Traces: summarise(out)}, nil
}

// summarise computes the per-trace error statistics of simulated rows.
func summarise(rows []RowResult) []TraceStats {
	by := map[string][]RowResult{}
	for _, r := range rows {
		by[r.Ref.Trace] = append(by[r.Ref.Trace], r)
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	var stats []TraceStats
	for _, n := range names {
		rs := by[n]
		m := len(rs)
		et, rt, st := make([]float64, m), make([]float64, m), make([]float64, m)
		var ee, ep, re, se []float64
		for i, r := range rs {
			et[i] = relErr(r.Sim.TimeNS, r.Ref.TimeNS)
			rt[i], st[i] = r.Ref.TimeNS, r.Sim.TimeNS
			if !r.Ref.NoEnergy {
				ee = append(ee, relErr(r.Sim.EnergyPJ, r.Ref.EnergyPJ))
				ep = append(ep, relErr(r.Sim.PowerMW, r.Ref.PowerMW))
				re, se = append(re, r.Ref.EnergyPJ), append(se, r.Sim.EnergyPJ)
			}
		}
		s := TraceStats{Trace: n, Rows: m, EnergyRows: len(ee)}
		s.MedianTime, s.P95Time, s.MaxTime = summary(et)
		s.SpearmanTime = spearman(rt, st)
		if len(ee) > 0 {
			s.MedianEnergy, s.P95Energy, s.MaxEnergy = summary(ee)
			s.MedianPower, s.P95Power, s.MaxPower = summary(ep)
			s.SpearmanEnergy = spearman(re, se)
		} else {
			nan := math.NaN()
			s.MedianEnergy, s.P95Energy, s.MaxEnergy = nan, nan, nan
			s.MedianPower, s.P95Power, s.MaxPower = nan, nan, nan
			s.SpearmanEnergy = nan
		}
		stats = append(stats, s)
	}
	return stats
}

// Check returns one message per violated threshold (empty: all pass).
func (v *Validation) Check(th Thresholds) []string {
	var bad []string
	for _, s := range v.Traces {
		f := func(what string, got, lim float64, above bool) {
			if above && got > lim || !above && got < lim {
				rel := "above"
				if !above {
					rel = "below"
				}
				bad = append(bad, fmt.Sprintf("%s: %s %.4g %s the limit %g", s.Trace, what, got, rel, lim))
			}
		}
		e := s.EnergyRows > 0 // time-only references have no energy to compare
		f("median time error %", s.MedianTime, th.MaxMedianTimeErr, true)
		if e {
			f("median energy error %", s.MedianEnergy, th.MaxMedianEnergyErr, true)
		}
		f("p95 time error %", s.P95Time, th.MaxP95Err, true)
		if e {
			f("p95 energy error %", s.P95Energy, th.MaxP95Err, true)
		}
		f("Spearman of time", s.SpearmanTime, th.MinSpearman, false)
		if e {
			f("Spearman of energy", s.SpearmanEnergy, th.MinSpearman, false)
		}
	}
	return bad
}

func relErr(got, want float64) float64 {
	if want == 0 {
		if got == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(got-want) / math.Abs(want) * 100
}

// summary returns the median, the 95th percentile (linear interpolation
// between order statistics) and the maximum of xs.
func summary(xs []float64) (med, p95, mx float64) {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return quantile(s, 0.5), quantile(s, 0.95), s[len(s)-1]
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// spearman returns Spearman's rank correlation of x and y (ties get their
// average rank). If either series is constant, it returns 1 when both are
// constant and 0 otherwise.
func spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) == 0 {
		return math.NaN()
	}
	rx, ry := ranks(x), ranks(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		if sxx == 0 && syy == 0 {
			return 1
		}
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
