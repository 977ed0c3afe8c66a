package multichan

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// Point is one channel design: its configuration index in sweep order
// (envs/exhaustive, last knob fastest) and its makespan and energy.
type Point struct {
	Index    int     `json:"i"`
	TimeNS   float64 `json:"t"`
	EnergyPJ float64 `json:"e"`
}

// Summary is what the exact system optima need from the exhaustive sweep
// of one trace: every distinct (makespan, energy) pair the trace's 442,368
// controller configurations reach, each with the lowest configuration
// index that reaches it, ordered by time, then energy. The embedded
// simulator quantises both to a few hundred pairs per trace, so the
// summary is small and the optima are exact.
type Summary struct {
	Trace   string  `json:"trace"`
	Configs int     `json:"configs"`
	Command string  `json:"command"`
	Points  []Point `json:"points"`
}

// summaries holds the shipped summaries, one JSON file per trace.
//
//go:embed summaries/*.json
var summaries embed.FS

// SummaryTraces lists the traces with a shipped summary.
func SummaryTraces() []string {
	ents, _ := summaries.ReadDir("summaries")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// LoadSummary returns the shipped summary of a trace.
func LoadSummary(trace string) (*Summary, error) {
	data, err := summaries.ReadFile("summaries/" + trace + ".json")
	if err != nil {
		return nil, fmt.Errorf("no shipped channel summary for trace %q (have: %s)", trace, strings.Join(SummaryTraces(), ", "))
	}
	return ParseSummary(data, trace+".json")
}

// Summarize computes the summary of a complete sweep of the DRAM space of
// one trace; command is recorded verbatim.
func Summarize(t *exhaustive.Table, trace, command string) (*Summary, error) {
	ti, ei := t.MetricIndex(dram.MetricTimeNS), t.MetricIndex(dram.MetricEnergyPJ)
	if ti < 0 || ei < 0 {
		return nil, fmt.Errorf("sweep of %s lacks time_ns or energy_pJ (has %v)", t.Space, t.Metrics)
	}
	knobs := dram.Knobs()
	if len(t.Knobs) != len(knobs) {
		return nil, fmt.Errorf("sweep of %s has %d knobs, want the %d of the DRAM space", t.Space, len(t.Knobs), len(knobs))
	}
	for k, kn := range knobs {
		if t.Knobs[k].Name != kn.Name || strings.Join(t.Knobs[k].Values, ",") != strings.Join(kn.Values, ",") {
			return nil, fmt.Errorf("sweep of %s: knob %d is %s%v, want %s%v", t.Space, k, t.Knobs[k].Name, t.Knobs[k].Values, kn.Name, kn.Values)
		}
	}
	pts := make([]Point, t.Len())
	for i := range pts {
		r := t.Row(i)
		pts[i] = Point{Index: i, TimeNS: r[ti], EnergyPJ: r[ei]}
	}
	return &Summary{Trace: trace, Configs: t.Len(), Command: command, Points: distinct(pts)}, nil
}

// distinct returns one point per distinct (time, energy) pair, the lowest
// index, ordered by time, then energy.
func distinct(pts []Point) []Point {
	s := slices.Clone(pts)
	slices.SortFunc(s, func(a, b Point) int {
		return cmp.Or(cmp.Compare(a.TimeNS, b.TimeNS), cmp.Compare(a.EnergyPJ, b.EnergyPJ), cmp.Compare(a.Index, b.Index))
	})
	return slices.CompactFunc(s, func(a, b Point) bool { return a.TimeNS == b.TimeNS && a.EnergyPJ == b.EnergyPJ })
}

// JSON returns the summary as JSON, one point per line.
func (s *Summary) JSON() ([]byte, error) {
	head, err := json.Marshal(struct {
		Trace   string `json:"trace"`
		Configs int    `json:"configs"`
		Command string `json:"command"`
	}{s.Trace, s.Configs, s.Command})
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Write(head[:len(head)-1])
	b.WriteString(`,"points":[`)
	for i, p := range s.Points {
		if i > 0 {
			b.WriteByte(',')
		}
		q, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		b.WriteString("\n ")
		b.Write(q)
	}
	b.WriteString("\n]}\n")
	return []byte(b.String()), nil
}

// ParseSummary decodes a summary; name is used in errors. It checks that
// the points are distinct, ordered and in range, so that a damaged file
// cannot give a wrong optimum silently.
func ParseSummary(data []byte, name string) (*Summary, error) {
	var s Summary
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(s.Points) == 0 {
		return nil, fmt.Errorf("%s: no points", name)
	}
	for i, p := range s.Points {
		if p.Index < 0 || p.Index >= s.Configs || !(p.TimeNS > 0) || !(p.EnergyPJ > 0) {
			return nil, fmt.Errorf("%s: points[%d] = %+v out of range", name, i, p)
		}
		if i > 0 {
			q := s.Points[i-1]
			if cmp.Or(cmp.Compare(q.TimeNS, p.TimeNS), cmp.Compare(q.EnergyPJ, p.EnergyPJ)) >= 0 {
				return nil, fmt.Errorf("%s: points[%d] is not after points[%d] (time, then energy)", name, i, i-1)
			}
		}
	}
	return &s, nil
}

// ChannelConfig returns the knob value indices of a configuration index of
// one channel.
func ChannelConfig(index int) []int {
	knobs := dram.Knobs()
	cfg := make([]int, len(knobs))
	for k := len(knobs) - 1; k >= 0; k-- {
		n := len(knobs[k].Values)
		cfg[k] = index % n
		index /= n
	}
	return cfg
}
