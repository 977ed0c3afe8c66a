package dram

import (
	"fmt"
	"sync"

	"github.com/commgraph/commgraph/envs"
)

// Metric names of the DRAM design space, in the order Space.Evaluate writes
// them. The energy-delay product is time_ns * energy_pJ.
const (
	MetricTimeNS   = "time_ns"   // makespan in ns
	MetricEnergyPJ = "energy_pJ" // total DIMM energy in pJ
	MetricPowerMW  = "power_mW"  // average power in mW
)

var spaceMetrics = []string{MetricTimeNS, MetricEnergyPJ, MetricPowerMW}

// spaceOptions selects the memory system of a Space; zero values select the
// embedded DDR3-1600 memspec and address mapping and an 800 MHz player.
type spaceOptions struct {
	MemSpec        *MemSpec
	Mapping        *AddressMapping
	PlayerClockMHz float64
	RequestMetrics bool // also the request metrics of reqstats.go
}

// Space is the DRAM controller design space of one trace: the 10 knobs of
// Knobs (spec section 2, in that order) evaluated by the simulator to
// time_ns, energy_pJ and power_mW. It implements envs.DesignSpace and is safe
// for concurrent use (simulators are pooled); NewEvaluator gives a goroutine
// its own simulator for lock-free bulk evaluation (the sweep uses it).
type Space struct {
	label    string // memory system other than the default one (see systemLabel)
	trace    *Trace
	readOnly bool
	opt      spaceOptions
	pool     sync.Pool
}

var _ envs.DesignSpace = (*Space)(nil)

// newSpace returns the design space of trace t.
func newSpace(t *Trace, opt spaceOptions) (*Space, error) {
	if t == nil || len(t.Requests) == 0 {
		return nil, fmt.Errorf("dram space: empty trace")
	}
	if opt.MemSpec == nil {
		opt.MemSpec = defaultMemSpec()
	}
	if opt.Mapping == nil {
		opt.Mapping = DefaultMapping(opt.MemSpec)
	}
	if opt.PlayerClockMHz == 0 {
		opt.PlayerClockMHz = 800
	}
	if opt.PlayerClockMHz < 0 {
		return nil, fmt.Errorf("dram space: player clock %v MHz", opt.PlayerClockMHz)
	}
	s := &Space{trace: t, opt: opt, readOnly: t.NumWrites() == 0, label: systemLabel(opt.MemSpec, opt.Mapping)}
	s.pool.New = func() any { return s.newSimulator() }
	return s, nil
}

// NewTraceSpace loads a trace by name or path (see LoadTrace) and returns
// its design space with the embedded memory system.
func NewTraceSpace(nameOrPath string, dirs ...string) (*Space, error) {
	t, err := LoadTrace(nameOrPath, dirs...)
	if err != nil {
		return nil, err
	}
	return newSpace(t, spaceOptions{})
}

// NewTraceSpaceOn is NewTraceSpace on the memory system of spec and am
// (see LoadSystem; nil selects the defaults of NewSimulator).
func NewTraceSpaceOn(nameOrPath string, spec *MemSpec, am *AddressMapping, dirs ...string) (*Space, error) {
	t, err := LoadTrace(nameOrPath, dirs...)
	if err != nil {
		return nil, err
	}
	if spec != nil && am != nil {
		if err := checkMapping(spec, am); err != nil {
			return nil, err
		}
	}
	return newSpace(t, spaceOptions{MemSpec: spec, Mapping: am})
}

// MemSpec returns the device the space simulates.
func (s *Space) MemSpec() *MemSpec { return s.opt.MemSpec }

func (s *Space) newSimulator() *Simulator {
	sim := NewSimulator(s.opt.MemSpec, s.opt.Mapping)
	sim.PlayerClockMHz = s.opt.PlayerClockMHz
	sim.RecordRequests = s.opt.RequestMetrics
	return sim
}

// Name returns "dram/<trace name>" on the embedded DDR3-1600 DIMM, else
// "dram/<trace name>@<memoryId>" (with "+<mapping>" for a mapping other
// than the device's default), so sweeps of different devices never mix.
func (s *Space) Name() string {
	if s.label != "" {
		return "dram/" + s.trace.Name + "@" + s.label
	}
	return "dram/" + s.trace.Name
}

// Trace returns the trace of the space.
func (s *Space) Trace() *Trace { return s.trace }

// Knobs returns the 10 controller knobs.
func (s *Space) Knobs() []envs.Knob { return Knobs() }

// MetricNames returns time_ns, energy_pJ, power_mW, and with request
// metrics (WithRequestMetrics) read_latency_ns, read_latency_p99_ns,
// bandwidth_Gbps, utilization.
func (s *Space) MetricNames() []string {
	out := append([]string(nil), spaceMetrics...)
	if s.opt.RequestMetrics {
		out = append(out, requestMetrics...)
	}
	return out
}

// sliceConfig converts a value-index slice into a Config.
func sliceConfig(cfg []int) (Config, error) {
	var c Config
	if len(cfg) != NumKnobs {
		return c, fmt.Errorf("dram: configuration has %d values, want %d", len(cfg), NumKnobs)
	}
	copy(c[:], cfg)
	return c, c.Validate()
}

// simulate runs the full simulation of cfg (with command counts).
func (s *Space) simulate(cfg Config) (Result, error) {
	sim := s.pool.Get().(*Simulator)
	defer s.pool.Put(sim)
	return sim.Run(s.trace, cfg)
}

// evaluate runs cfg on sim and writes its metrics into out.
func (s *Space) evaluate(sim *Simulator, c Config, out []float64) error {
	r, err := sim.Run(s.trace, c)
	if err != nil {
		return err
	}
	if err := putMetrics(r, out); err != nil || !s.opt.RequestMetrics {
		return err
	}
	return s.putRequestMetrics(sim, out)
}

// Evaluate writes time_ns, energy_pJ and power_mW of cfg into out.
func (s *Space) Evaluate(cfg []int, out []float64) error {
	c, err := sliceConfig(cfg)
	if err != nil {
		return err
	}
	sim := s.pool.Get().(*Simulator)
	defer s.pool.Put(sim)
	if err := s.evaluate(sim, c, out); err != nil {
		return fmt.Errorf("%s %s: %w", s.Name(), c, err)
	}
	return nil
}

// NewEvaluator returns an evaluation function that owns one simulator; it
// must be used by one goroutine at a time.
func (s *Space) NewEvaluator() func(cfg []int, out []float64) error {
	sim := s.newSimulator()
	return func(cfg []int, out []float64) error {
		c, err := sliceConfig(cfg)
		if err != nil {
			return err
		}
		return s.evaluate(sim, c, out) // callers (the sweep) name the configuration
	}
}

func putMetrics(r Result, out []float64) error {
	if len(out) < len(spaceMetrics) {
		return fmt.Errorf("dram: metric buffer of %d, want %d", len(out), len(spaceMetrics))
	}
	out[0], out[1], out[2] = r.TimeNS, r.EnergyPJ, r.PowerMW
	return nil
}

// Canonical maps cfg to the representative of the configurations the model
// evaluates identically (it implements sweep.Canonicalizer, so an
// exhaustive sweep simulates each class once and checks a sample of the
// copies). The equivalences are properties of the controller semantics
// (spec sections 2-4), each visible in the simulator's code:
//
//   - RefreshPolicy=NoRefresh: RefreshMaxPostponed and RefreshMaxPulledin
//     are never read (no refresh manager runs).
//   - Arbiter=Simple: MaxActiveTransactions is ignored.
//   - Read-only traces only: SchedulerBuffer=Shared counts exactly like
//     ReadWrite (no writes are ever buffered), and Scheduler=FrFcfs picks
//     exactly like FrFcfsGrp (every row hit is in the direction of the last
//     column command, and the oldest hit has no older same-address hit).
//
// Representatives take the lowest value index of the irrelevant knob, so a
// representative never comes after the configurations it stands for.
func (s *Space) Canonical(cfg, rep []int) {
	copy(rep, cfg)
	if RefreshPolicy(cfg[KnobRefreshPolicy]) == RefreshNone {
		rep[KnobRefreshMaxPostponed], rep[KnobRefreshMaxPulledin] = 0, 0
	}
	if Arbiter(cfg[KnobArbiter]) == ArbSimple {
		rep[KnobMaxActiveTransactions] = 0
	}
	if s.readOnly {
		if Scheduler(cfg[KnobScheduler]) == SchedFrFcfs {
			rep[KnobScheduler] = int(SchedFrFcfsGrp)
		}
		if SchedulerBuffer(cfg[KnobSchedulerBuffer]) == BufShared {
			rep[KnobSchedulerBuffer] = int(BufReadWrite)
		}
	}
}
