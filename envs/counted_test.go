package envs

import (
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// polySpace is a deterministic test space: 3 knobs (4, 3, 5 values), two
// metrics. It counts underlying evaluations per configuration and can be
// slowed down to force concurrent callers to overlap.
type polySpace struct {
	delay time.Duration
	calls [4 * 3 * 5]atomic.Int32
	fail  func(cfg []int) bool
}

func (p *polySpace) Name() string { return "poly" }
func (p *polySpace) Knobs() []Knob {
	return []Knob{{"a", []string{"0", "1", "2", "3"}}, {"b", []string{"x", "y", "z"}}, {"c", []string{"1", "2", "4", "8", "16"}}}
}
func (p *polySpace) MetricNames() []string { return []string{"time_ns", "power_mW"} }
func (p *polySpace) Evaluate(cfg []int, out []float64) error {
	if err := ValidateConfig(p.Knobs(), cfg); err != nil {
		return err
	}
	if p.fail != nil && p.fail(cfg) {
		return errors.New("simulated failure")
	}
	p.calls[(cfg[0]*3+cfg[1])*5+cfg[2]].Add(1)
	time.Sleep(p.delay)
	a, b, c := float64(cfg[0]), float64(cfg[1]), float64(cfg[2])
	out[0] = 1000 + 100*a - 50*b + 10*a*c + math.Sqrt(c+1)
	out[1] = 500 + 20*b*c - a
	return nil
}

func allConfigs() [][]int {
	var out [][]int
	for a := range 4 {
		for b := range 3 {
			for c := range 5 {
				out = append(out, []int{a, b, c})
			}
		}
	}
	return out
}

func TestCountedConcurrent(t *testing.T) {
	p := &polySpace{delay: 200 * time.Microsecond}
	c := NewCounted(p)
	cfgs := allConfigs()
	const g = 8
	var start, wg sync.WaitGroup
	start.Add(1)
	results := make([][][]float64, g)
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			results[w] = make([][]float64, len(cfgs))
			for j := range cfgs {
				// Half the workers go forwards, half backwards, all over
				// the same configurations, so many calls collide in flight.
				i := j
				if w%2 == 1 {
					i = len(cfgs) - 1 - j
				}
				out := make([]float64, 2)
				if err := c.Evaluate(slices.Clone(cfgs[i]), out); err != nil {
					t.Error(err)
					return
				}
				results[w][i] = out
			}
		}()
	}
	start.Done()
	wg.Wait()
	for i := range p.calls {
		if n := p.calls[i].Load(); n != 1 {
			t.Fatalf("configuration %v evaluated %d times by the underlying space, want 1", cfgs[i], n)
		}
	}
	if c.Unique() != len(cfgs) || c.Calls() != g*len(cfgs) {
		t.Fatalf("unique %d calls %d, want %d and %d", c.Unique(), c.Calls(), len(cfgs), g*len(cfgs))
	}
	// Cached results equal fresh evaluations of the raw space.
	fresh := &polySpace{}
	for i, cfg := range cfgs {
		want := make([]float64, 2)
		if err := fresh.Evaluate(cfg, want); err != nil {
			t.Fatal(err)
		}
		for w := range g {
			if !slices.Equal(results[w][i], want) {
				t.Fatalf("worker %d cfg %v: %v, fresh %v", w, cfg, results[w][i], want)
			}
		}
		got := make([]float64, 2)
		if !c.Lookup(cfg, got) || !slices.Equal(got, want) {
			t.Fatalf("Lookup(%v) = %v", cfg, got)
		}
	}
	// Repeats are free.
	out := make([]float64, 2)
	_ = c.Evaluate([]int{1, 1, 1}, out)
	if c.Unique() != len(cfgs) {
		t.Fatal("a repeat was charged")
	}
}

func TestCountedBudgetAndErrors(t *testing.T) {
	p := &polySpace{fail: func(cfg []int) bool { return cfg[0] == 3 }}
	c := NewCounted(p)
	c.SetBudget(2)
	out := make([]float64, 2)
	if err := c.Evaluate([]int{3, 0, 0}, out); err == nil || c.Unique() != 0 {
		t.Fatalf("failed evaluation: err %v unique %d", err, c.Unique())
	}
	if err := c.Evaluate([]int{0, 9, 0}, out); err == nil || c.Unique() != 0 {
		t.Fatalf("invalid config: err %v unique %d", err, c.Unique())
	}
	for _, cfg := range [][]int{{0, 0, 0}, {1, 0, 0}, {0, 0, 0}} {
		if err := c.Evaluate(cfg, out); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Evaluate([]int{2, 0, 0}, out); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("over budget: %v", err)
	}
	if err := c.Evaluate([]int{1, 0, 0}, out); err != nil {
		t.Fatalf("cached config refused after budget: %v", err)
	}
	// Records / Restore round trip.
	recs := c.Records()
	if len(recs) != 2 || !slices.Equal(recs[0].Config, []int{0, 0, 0}) || !slices.Equal(recs[1].Config, []int{1, 0, 0}) {
		t.Fatalf("records %v", recs)
	}
	d := NewCounted(&polySpace{})
	if err := d.Restore(recs); err != nil {
		t.Fatal(err)
	}
	if d.Unique() != 2 || !d.Lookup([]int{1, 0, 0}, out) || out[0] != recs[1].Metrics[0] {
		t.Fatalf("restored unique %d", d.Unique())
	}
	if err := d.Restore([]CountedRecord{{Config: []int{5, 0, 0}, Metrics: []float64{1, 2}}}); err == nil {
		t.Fatal("bad record restored")
	}
}
