package multichan

import (
	"fmt"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
)

// MaxChannels is the largest number of channels a Space takes.
const MaxChannels = 8

// DefaultTraces are the traces of the default four channels, one per
// channel: the four DSE traces of the DRAM space.
func DefaultTraces() []string { return []string{"stream", "random", "cloud-1", "cloud-2"} }

// Metric names of the system, in the order Space.Evaluate writes them: the
// DRAM space's names, so that its objective presets bind unchanged.
//
//	time_ns   = max over channels of the channel's makespan
//	energy_pJ = sum over channels of the channel's energy
//	power_mW  = energy_pJ / time_ns (pJ/ns = mW)
var metricNames = []string{dram.MetricTimeNS, dram.MetricEnergyPJ, dram.MetricPowerMW}

// Space is the multi-channel memory system: C independent channels, each a
// DDR3 controller with the 10 knobs of dram.Knobs serving its own trace.
// Its knobs are the channels' knobs in channel order, named
// "c<channel>.<knob>" (c0.PagePolicy ... c3.MaxActiveTransactions); its
// metrics are the system's (see metricNames). Channels share nothing, so a
// system evaluation is C channel simulations; each channel memoises its
// results in a table shared by every Space of the process on the same trace
// (see channelTable), so a design that changes one channel's knobs
// simulates that channel only, and a channel configuration is simulated at
// most once per process, whichever run or trial of a sweep asks. Space is
// safe for concurrent use.
type Space struct {
	traces   []string
	channels []*dram.Space
	knobs    []envs.Knob
	tables   []*channelTable
}

var _ envs.DesignSpace = (*Space)(nil)

// New returns the space of one channel per trace (names of embedded traces
// or paths of .stl files, see dram.LoadTrace); 1 to MaxChannels channels.
func New(traces []string) (*Space, error) {
	if len(traces) < 1 || len(traces) > MaxChannels {
		return nil, fmt.Errorf("multichan: %d channels, want 1 to %d", len(traces), MaxChannels)
	}
	s := &Space{traces: append([]string(nil), traces...)}
	for c, name := range traces {
		ch, err := dram.NewTraceSpace(name)
		if err != nil {
			return nil, fmt.Errorf("channel %d: %w", c, err)
		}
		s.channels = append(s.channels, ch)
		s.tables = append(s.tables, tableFor(ch.Trace()))
		for _, k := range dram.Knobs() {
			s.knobs = append(s.knobs, envs.Knob{Name: KnobName(c, k.Name), Values: k.Values})
		}
	}
	return s, nil
}

// KnobName is the name of a channel's knob in the system space.
func KnobName(channel int, knob string) string { return fmt.Sprintf("c%d.%s", channel, knob) }

// Name returns "multichan/<trace>+<trace>+...".
func (s *Space) Name() string { return "multichan/" + strings.Join(s.TraceNames(), "+") }

// TraceNames returns the trace name of each channel.
func (s *Space) TraceNames() []string {
	out := make([]string, len(s.channels))
	for c, ch := range s.channels {
		out[c] = ch.Trace().Name
	}
	return out
}

// Channels returns the number of channels.
func (s *Space) Channels() int { return len(s.channels) }

// Channel returns the DRAM space of channel c.
func (s *Space) Channel(c int) *dram.Space { return s.channels[c] }

// Knobs returns the 10*C knobs, channel by channel.
func (s *Space) Knobs() []envs.Knob { return append([]envs.Knob(nil), s.knobs...) }

// MetricNames returns time_ns, energy_pJ, power_mW.
func (s *Space) MetricNames() []string { return append([]string(nil), metricNames...) }

// channelIndex is the configuration index of a channel's knob values in
// sweep order (last knob fastest), as in envs/exhaustive.
func channelIndex(cfg []int) int {
	i := 0
	for k, kn := range dram.Knobs() {
		i = i*len(kn.Values) + cfg[k]
	}
	return i
}

// Evaluate writes the system's time_ns, energy_pJ and power_mW of cfg (10
// value indices per channel, channel by channel) into out.
func (s *Space) Evaluate(cfg []int, out []float64) error {
	if len(cfg) != len(s.knobs) {
		return fmt.Errorf("%s: configuration has %d values, want %d", s.Name(), len(cfg), len(s.knobs))
	}
	if len(out) < len(metricNames) {
		return fmt.Errorf("%s: metric buffer of %d, want %d", s.Name(), len(out), len(metricNames))
	}
	var m [3]float64
	t, e := 0.0, 0.0
	for c := range s.channels {
		if err := s.evalChannel(c, cfg[c*dram.NumKnobs:(c+1)*dram.NumKnobs], m[:]); err != nil {
			return err
		}
		t = max(t, m[0])
		e += m[1]
	}
	out[0], out[1], out[2] = t, e, e/t
	return nil
}

// ChannelMetrics writes channel c's time_ns, energy_pJ, power_mW for its 10
// knob values.
func (s *Space) ChannelMetrics(c int, cfg []int, out []float64) error {
	if c < 0 || c >= len(s.channels) {
		return fmt.Errorf("%s: no channel %d", s.Name(), c)
	}
	return s.evalChannel(c, cfg, out)
}

func (s *Space) evalChannel(c int, cfg []int, out []float64) error {
	if len(cfg) != dram.NumKnobs {
		return fmt.Errorf("channel %d: %d values, want %d", c, len(cfg), dram.NumKnobs)
	}
	for k, kn := range dram.Knobs() {
		if cfg[k] < 0 || cfg[k] >= len(kn.Values) {
			return fmt.Errorf("channel %d: knob %s: value index %d out of range [0,%d)", c, kn.Name, cfg[k], len(kn.Values))
		}
	}
	tb, idx := s.tables[c], channelIndex(cfg)
	if tb.get(idx, out) {
		return nil
	}
	claimed := tb.claim(idx)
	if err := s.channels[c].Evaluate(cfg, out); err != nil {
		if claimed {
			tb.release(idx)
		}
		return fmt.Errorf("channel %d: %w", c, err)
	}
	if claimed {
		tb.put(idx, out)
	}
	return nil
}

// Truth returns the structural interaction graph of a system of C
// channels as an adjacency matrix over its 10 C knobs: 1 for every pair of
// distinct knobs of the same channel, 0 across channels. Channels share no
// state, so a knob interacts with another channel's only through the
// system's max (makespan) and sum (energy). That coupling is weak for
// energy but not for makespan, power or EDP, where the max makes the
// slowest channel's knobs matter and the others' not: measured over
// uniform designs, half of the 20 strongest knob pairs of log makespan
// cross channels (docs/environments.md).
func Truth(channels int) [][]int {
	n := channels * dram.NumKnobs
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, n)
		for j := range out[i] {
			if i != j && i/dram.NumKnobs == j/dram.NumKnobs {
				out[i][j] = 1
			}
		}
	}
	return out
}
