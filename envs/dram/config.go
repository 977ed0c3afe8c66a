package dram

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/envs"
)

// Knob indices into a Config, in the order of the spec's knob table.
const (
	KnobPagePolicy = iota
	KnobScheduler
	KnobSchedulerBuffer
	KnobRequestBufferSize
	KnobRespQueue
	KnobRefreshPolicy
	KnobRefreshMaxPostponed
	KnobRefreshMaxPulledin
	KnobArbiter
	KnobMaxActiveTransactions
	NumKnobs
)

// PagePolicy is a value of the PagePolicy knob.
type PagePolicy int

// PagePolicy values.
const (
	PageOpen PagePolicy = iota
	PageOpenAdaptive
	PageClosed
	PageClosedAdaptive
)

// Scheduler is a value of the Scheduler knob.
type Scheduler int

// Scheduler values.
const (
	SchedFifo Scheduler = iota
	SchedFrFcfsGrp
	SchedFrFcfs
)

// SchedulerBuffer is a value of the SchedulerBuffer knob.
type SchedulerBuffer int

// SchedulerBuffer values.
const (
	BufBankwise SchedulerBuffer = iota
	BufReadWrite
	BufShared
)

// RespQueue is a value of the RespQueue knob.
type RespQueue int

// RespQueue values.
const (
	RespFifo RespQueue = iota
	RespReorder
)

// RefreshPolicy is a value of the RefreshPolicy knob.
type RefreshPolicy int

// RefreshPolicy values.
const (
	RefreshNone RefreshPolicy = iota
	RefreshAllBank
)

// Arbiter is a value of the Arbiter knob.
type Arbiter int

// Arbiter values.
const (
	ArbSimple Arbiter = iota
	ArbFifo
	ArbReorder
)

func (v PagePolicy) String() string      { return valueName(KnobPagePolicy, int(v)) }
func (v Scheduler) String() string       { return valueName(KnobScheduler, int(v)) }
func (v SchedulerBuffer) String() string { return valueName(KnobSchedulerBuffer, int(v)) }
func (v RespQueue) String() string       { return valueName(KnobRespQueue, int(v)) }
func (v RefreshPolicy) String() string   { return valueName(KnobRefreshPolicy, int(v)) }
func (v Arbiter) String() string         { return valueName(KnobArbiter, int(v)) }

// valueName spells value index v of knob k, or Knob(v) when out of range.
func valueName(k, v int) string {
	if v < 0 || v >= len(knobs[k].Values) {
		return fmt.Sprintf("%s(%d)", knobs[k].Name, v)
	}
	return knobs[k].Values[v]
}

var knobs = [NumKnobs]envs.Knob{
	{Name: "PagePolicy", Values: []string{"Open", "OpenAdaptive", "Closed", "ClosedAdaptive"}},
	{Name: "Scheduler", Values: []string{"Fifo", "FrFcfsGrp", "FrFcfs"}},
	{Name: "SchedulerBuffer", Values: []string{"Bankwise", "ReadWrite", "Shared"}},
	{Name: "RequestBufferSize", Values: []string{"1", "2", "4", "8", "16", "32", "64", "128"}},
	{Name: "RespQueue", Values: []string{"Fifo", "Reorder"}},
	{Name: "RefreshPolicy", Values: []string{"NoRefresh", "AllBank"}},
	{Name: "RefreshMaxPostponed", Values: []string{"1", "2", "4", "8"}},
	{Name: "RefreshMaxPulledin", Values: []string{"1", "2", "4", "8"}},
	{Name: "Arbiter", Values: []string{"Simple", "Fifo", "Reorder"}},
	{Name: "MaxActiveTransactions", Values: []string{"1", "2", "4", "8", "16", "32", "64", "128"}},
}

// Knobs returns the 10 controller knobs with their values, in the spec's
// order. The returned slice is a fresh copy; the value lists are shared and
// must not be modified.
func Knobs() []envs.Knob {
	out := make([]envs.Knob, NumKnobs)
	copy(out, knobs[:])
	return out
}

// knobIndex returns the index of the knob with the given name
// (case-insensitive), or -1.
func knobIndex(name string) int {
	for i, k := range knobs {
		if strings.EqualFold(k.Name, name) {
			return i
		}
	}
	return -1
}

// Config picks one value index per knob; the zero Config has every knob at
// its first value (the ArchGym starting point, policy.json).
type Config [NumKnobs]int

// defaultConfig returns the configuration with every knob at its first value.
func defaultConfig() Config { return Config{} }

// fastConfig returns Open/FrFcfs/Bankwise/128/Fifo/AllBank/1/1/Simple/128,
// the "fast" configuration of the benchmarks.
func fastConfig() Config {
	return Config{int(PageOpen), int(SchedFrFcfs), int(BufBankwise), 7, int(RespFifo), int(RefreshAllBank), 0, 0, int(ArbSimple), 7}
}

func allowed(k int) string { return strings.Join(knobs[k].Values, ", ") }

// set sets knob name to value (knob names are case-insensitive, values
// must match one of the allowed spellings, case-insensitively).
func (c *Config) set(name, value string) error {
	k := knobIndex(strings.TrimSpace(name))
	if k < 0 {
		names := make([]string, NumKnobs)
		for i, kn := range knobs {
			names[i] = kn.Name
		}
		return fmt.Errorf("unknown knob %q (allowed: %s)", name, strings.Join(names, ", "))
	}
	v := valueIndex(k, strings.TrimSpace(value))
	if v < 0 {
		return fmt.Errorf("knob %s: unknown value %q (allowed: %s)", knobs[k].Name, value, allowed(k))
	}
	c[k] = v
	return nil
}

func valueIndex(k int, value string) int {
	for i, v := range knobs[k].Values {
		if strings.EqualFold(v, value) {
			return i
		}
	}
	// Accept numeric spellings such as "08" or "128.0" for numeric knobs.
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		for i, v := range knobs[k].Values {
			if g, err := strconv.ParseFloat(v, 64); err == nil && g == f {
				return i
			}
		}
	}
	return -1
}

// ParseConfig starts from the default configuration and applies
// "Knob=Value" pairs in order.
func ParseConfig(pairs []string) (Config, error) {
	var c Config
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			return c, fmt.Errorf("setting %q: want Knob=Value", p)
		}
		if err := c.set(name, value); err != nil {
			return c, err
		}
	}
	return c, nil
}

// configFromValues builds a Config from one value string per knob in knob
// order (for example the knob columns of a reference CSV row).
func configFromValues(values []string) (Config, error) {
	var c Config
	if len(values) != NumKnobs {
		return c, fmt.Errorf("want %d knob values, got %d", NumKnobs, len(values))
	}
	for k, v := range values {
		if err := c.set(knobs[k].Name, v); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Validate reports an error if any value index is out of range.
func (c Config) Validate() error {
	for k, v := range c {
		if v < 0 || v >= len(knobs[k].Values) {
			return fmt.Errorf("knob %s: value index %d out of range [0,%d)", knobs[k].Name, v, len(knobs[k].Values))
		}
	}
	return nil
}

// Value returns the value string of knob k.
func (c Config) Value(k int) string { return knobs[k].Values[c[k]] }

// pairs returns the configuration as "Knob=Value" strings in knob order.
func (c Config) pairs() []string {
	out := make([]string, NumKnobs)
	for k := range c {
		out[k] = knobs[k].Name + "=" + c.Value(k)
	}
	return out
}

// String returns the values joined by "/" in knob order, e.g.
// "Open/Fifo/Bankwise/1/Fifo/NoRefresh/1/1/Simple/1".
func (c Config) String() string {
	if c.Validate() != nil {
		return fmt.Sprintf("Config%v", [NumKnobs]int(c))
	}
	var b strings.Builder
	for k := range c {
		if k > 0 {
			b.WriteByte('/')
		}
		b.WriteString(c.Value(k))
	}
	return b.String()
}

// Typed accessors of the categorical knobs.

// PagePolicy returns the PagePolicy value.
func (c Config) PagePolicy() PagePolicy { return PagePolicy(c[KnobPagePolicy]) }

// Scheduler returns the Scheduler value.
func (c Config) Scheduler() Scheduler { return Scheduler(c[KnobScheduler]) }

// SchedulerBuffer returns the SchedulerBuffer value.
func (c Config) SchedulerBuffer() SchedulerBuffer { return SchedulerBuffer(c[KnobSchedulerBuffer]) }

// RespQueue returns the RespQueue value.
func (c Config) RespQueue() RespQueue { return RespQueue(c[KnobRespQueue]) }

// RefreshPolicy returns the RefreshPolicy value.
func (c Config) RefreshPolicy() RefreshPolicy { return RefreshPolicy(c[KnobRefreshPolicy]) }

// Arbiter returns the Arbiter value.
func (c Config) Arbiter() Arbiter { return Arbiter(c[KnobArbiter]) }

// The numeric knobs take the values 1, 2, 4, ..., one power of two per
// value index.

// bufferSize returns the RequestBufferSize value.
func (c Config) bufferSize() int { return 1 << c[KnobRequestBufferSize] }

// maxActive returns the MaxActiveTransactions value.
func (c Config) maxActive() int { return 1 << c[KnobMaxActiveTransactions] }

// maxPostponed returns the RefreshMaxPostponed value.
func (c Config) maxPostponed() int { return 1 << c[KnobRefreshMaxPostponed] }

// maxPulledIn returns the RefreshMaxPulledin value.
func (c Config) maxPulledIn() int { return 1 << c[KnobRefreshMaxPulledin] }
