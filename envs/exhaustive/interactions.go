package exhaustive

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/encoding"
	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/simple"
)

// Derived metric names Interactions understands besides a table's columns.
const (
	// MetricEDP is the energy-delay product time_ns * energy_pJ, derived
	// when the table has both columns.
	MetricEDP = "edp"
)

// KnobShare is the share of the variance of log(metric) explained by one
// knob's main effect.
type KnobShare struct {
	Knob  string  `json:"knob"`
	Share float64 `json:"share"`
}

// PairShare is the share of the variance of log(metric) explained by the
// two-way interaction of two knobs beyond both main effects.
type PairShare struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	AIndex int     `json:"a_index"`
	BIndex int     `json:"b_index"`
	Share  float64 `json:"share"`
}

// MetricInteractions is the decomposition of log(metric).
type MetricInteractions struct {
	Metric  string  `json:"metric"`
	Mean    float64 `json:"mean_log"`
	TotalSS float64 `json:"total_ss_log"`
	// Main lists every knob's main-effect share, in knob order.
	Main []KnobShare `json:"main"`
	// Pairs lists every knob pair, largest share first (ties: knob order).
	Pairs []PairShare `json:"pairs"`
	// MainTotal, PairTotal and Higher split the variance into main effects,
	// two-way interactions and everything of higher order; they sum to 1.
	MainTotal float64 `json:"main_total"`
	PairTotal float64 `json:"pair_total"`
	Higher    float64 `json:"higher_order"`
}

// Interactions is the measured knob-interaction report of a sweep.
type Interactions struct {
	Space     string               `json:"space"`
	Configs   int64                `json:"configs"`
	Knobs     []string             `json:"knobs"`
	Transform string               `json:"transform"`
	Method    string               `json:"method"`
	Metrics   []MetricInteractions `json:"metrics"`
}

// MetricValues returns the per-configuration values of a column or of a
// derived metric (MetricEDP).
func MetricValues(t *Table, name string) ([]float64, error) {
	if m := t.MetricIndex(name); m >= 0 {
		return t.Column(m), nil
	}
	if name == MetricEDP {
		ti, ei := t.MetricIndex("time_ns"), t.MetricIndex("energy_pJ")
		if ti >= 0 && ei >= 0 {
			out := make([]float64, t.Len())
			nm := len(t.Metrics)
			for i := range out {
				out[i] = t.Data[i*nm+ti] * t.Data[i*nm+ei]
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("metric %q not in the table (has %v, and %q when time_ns and energy_pJ are present)", name, t.Metrics, MetricEDP)
}

// DefaultInteractionMetrics returns the table's columns plus MetricEDP when
// it can be derived.
func DefaultInteractionMetrics(t *Table) []string {
	ms := append([]string(nil), t.Metrics...)
	if t.MetricIndex("time_ns") >= 0 && t.MetricIndex("energy_pJ") >= 0 && t.MetricIndex(MetricEDP) < 0 {
		ms = append(ms, MetricEDP)
	}
	return ms
}

// ComputeInteractions decomposes log(metric) for each named metric (nil
// means DefaultInteractionMetrics). Every value must be positive.
func ComputeInteractions(t *Table, metrics []string) (*Interactions, error) {
	if metrics == nil {
		metrics = DefaultInteractionMetrics(t)
	}
	r := &Interactions{
		Space:     t.Space,
		Configs:   t.Configs,
		Knobs:     t.KnobNames(),
		Transform: "log",
		Method:    "two-way functional ANOVA over the full factorial: share = SS / total SS of log(metric)",
	}
	radices := t.Radices()
	for _, name := range metrics {
		y, err := MetricValues(t, name)
		if err != nil {
			return nil, err
		}
		for i, v := range y {
			if !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("metric %s of configuration %d is %v; log needs finite positive values", name, i, v)
			}
			y[i] = math.Log(v)
		}
		d, err := Decompose(y, radices)
		if err != nil {
			return nil, err
		}
		r.Metrics = append(r.Metrics, summarise(name, d, r.Knobs))
	}
	return r, nil
}

func summarise(name string, d *Decomposition, knobs []string) MetricInteractions {
	mi := MetricInteractions{Metric: name, Mean: d.Mean, TotalSS: d.TotalSS}
	for a, k := range knobs {
		s := d.MainShare(a)
		mi.Main = append(mi.Main, KnobShare{Knob: k, Share: s})
		mi.MainTotal += s
	}
	for a := range knobs {
		for b := a + 1; b < len(knobs); b++ {
			s := d.PairShare(a, b)
			mi.Pairs = append(mi.Pairs, PairShare{A: knobs[a], B: knobs[b], AIndex: a, BIndex: b, Share: s})
			mi.PairTotal += s
		}
	}
	sort.SliceStable(mi.Pairs, func(i, j int) bool { return mi.Pairs[i].Share > mi.Pairs[j].Share })
	if d.TotalSS > 0 {
		mi.Higher = max(0, 1-mi.MainTotal-mi.PairTotal)
	}
	return mi
}

// Metric returns the report of the named metric, or nil.
func (r *Interactions) Metric(name string) *MetricInteractions {
	for i := range r.Metrics {
		if r.Metrics[i].Metric == name {
			return &r.Metrics[i]
		}
	}
	return nil
}

// JSON returns the report as indented JSON.
func (r *Interactions) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Top returns the n pairs with the largest share (all when n <= 0).
func (m *MetricInteractions) Top(n int) []PairShare {
	if n <= 0 || n > len(m.Pairs) {
		n = len(m.Pairs)
	}
	return m.Pairs[:n]
}

// DOT returns the interaction graph of the metric in Graphviz DOT: one
// node per knob (with its main-effect share), one undirected edge per pair
// whose share is at least minShare, with weight = share.
func (r *Interactions) DOT(metric string, minShare float64) ([]byte, error) {
	m := r.Metric(metric)
	if m == nil {
		return nil, fmt.Errorf("no interactions for metric %q", metric)
	}
	g := simple.NewWeightedUndirectedGraph(0, 0)
	nodes := make([]*dotNode, len(r.Knobs))
	for i, k := range r.Knobs {
		nodes[i] = &dotNode{id: int64(i), name: k, main: m.Main[i].Share}
		g.AddNode(nodes[i])
	}
	for _, p := range m.Pairs {
		if p.Share < minShare || p.Share <= 0 {
			continue
		}
		g.SetWeightedEdge(&dotEdge{f: nodes[p.AIndex], t: nodes[p.BIndex], w: p.Share})
	}
	name := "interactions_" + metric
	return dot.Marshal(dotGraph{g, name}, name, "", "  ")
}

type dotGraph struct {
	*simple.WeightedUndirectedGraph
	id string
}

func (g dotGraph) DOTID() string { return g.id }

type dotNode struct {
	id   int64
	name string
	main float64
}

func (n *dotNode) ID() int64     { return n.id }
func (n *dotNode) DOTID() string { return n.name }
func (n *dotNode) Attributes() []encoding.Attribute {
	return []encoding.Attribute{{Key: "main_share", Value: fmtShare(n.main)}}
}

type dotEdge struct {
	f, t *dotNode
	w    float64
}

func (e *dotEdge) From() graph.Node         { return e.f }
func (e *dotEdge) To() graph.Node           { return e.t }
func (e *dotEdge) ReversedEdge() graph.Edge { return &dotEdge{f: e.t, t: e.f, w: e.w} }
func (e *dotEdge) Weight() float64          { return e.w }
func (e *dotEdge) Attributes() []encoding.Attribute {
	return []encoding.Attribute{
		{Key: "weight", Value: fmtShare(e.w)},
		{Key: "label", Value: strconv.Quote(strconv.FormatFloat(100*e.w, 'f', 2, 64) + "%")},
	}
}

func fmtShare(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
