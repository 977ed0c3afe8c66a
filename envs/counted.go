package envs

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrBudgetExhausted is returned by Counted.Evaluate for a configuration
// not yet evaluated once the budget of unique evaluations is spent.
var ErrBudgetExhausted = errors.New("design-space evaluation budget exhausted")

// Counted wraps a DesignSpace and charges each distinct configuration once:
// the first Evaluate of a configuration runs the underlying space and caches
// the metrics; repeats are served from the cache for free. Unique is the
// sample budget a DSE method has used.
//
// Counted is safe for concurrent use. Concurrent Evaluate calls of the same
// new configuration are deduplicated: one runs it, the others wait for its
// result, and it is charged once. A failed evaluation is neither charged nor
// cached (every waiter gets the error; a later call retries).
type Counted struct {
	ds      DesignSpace
	knobs   []Knob
	nMetric int
	budget  int

	mu     sync.Mutex
	cache  map[string]*countedEntry
	unique int
	calls  int
	// done lists the successful entries in the order they finished (or
	// were restored); placed of them have been examined by place.
	done   []countedDone
	placed int
	// order lists the entries that have a place in the evaluation order
	// (countedEntry.seq), sorted by it, so that a Tracker reads only what is
	// new since its last call (placedSince). lastSeq is the highest place
	// given; gen changes when Restore reorders order.
	order   []countedDone
	lastSeq int
	gen     int
}

type countedDone struct {
	key string
	e   *countedEntry
}

type countedEntry struct {
	done    chan struct{} // closed when metrics/err are final
	metrics []float64
	err     error
	// seq is the entry's 1-based place in the evaluation order (0 = not
	// placed yet): see place.
	seq int
}

var _ DesignSpace = (*Counted)(nil)

// NewCounted wraps ds with no budget limit.
func NewCounted(ds DesignSpace) *Counted {
	return &Counted{ds: ds, knobs: ds.Knobs(), nMetric: len(ds.MetricNames()), cache: map[string]*countedEntry{}}
}

// SetBudget limits the number of unique evaluations (0 = unlimited); once
// reached, new configurations get ErrBudgetExhausted while cached ones are
// still served.
func (c *Counted) SetBudget(n int) {
	c.mu.Lock()
	c.budget = n
	c.mu.Unlock()
}

// Unwrap returns the wrapped design space.
func (c *Counted) Unwrap() DesignSpace { return c.ds }

// Name implements DesignSpace.
func (c *Counted) Name() string { return c.ds.Name() }

// Knobs implements DesignSpace.
func (c *Counted) Knobs() []Knob { return c.ds.Knobs() }

// MetricNames implements DesignSpace.
func (c *Counted) MetricNames() []string { return c.ds.MetricNames() }

// Unique returns the number of distinct configurations charged so far.
func (c *Counted) Unique() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unique
}

// Calls returns the number of Evaluate calls, repeats and failures included.
func (c *Counted) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Lookup returns the cached metrics of cfg without charging or evaluating.
func (c *Counted) Lookup(cfg []int, out []float64) bool {
	var kb [64]byte
	key := appendKey(kb[:0], cfg)
	c.mu.Lock()
	e, ok := c.cache[string(key)]
	c.mu.Unlock()
	if !ok {
		return false
	}
	<-e.done
	if e.err != nil {
		return false
	}
	copy(out, e.metrics)
	return true
}

// isPlaced reports whether cfg has a place in the evaluation order (see
// place): it was evaluated before the last read of a Tracker.
func (c *Counted) isPlaced(cfg []int) bool {
	var kb [64]byte
	key := appendKey(kb[:0], cfg)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[string(key)]
	return ok && e.seq != 0
}

// ValidateConfig checks cfg against the knobs of ds.
func ValidateConfig(knobs []Knob, cfg []int) error {
	if len(cfg) != len(knobs) {
		return fmt.Errorf("configuration has %d values, want one per knob (%d)", len(cfg), len(knobs))
	}
	for i, v := range cfg {
		if v < 0 || v >= len(knobs[i].Values) {
			return fmt.Errorf("knob %s: value index %d outside [0,%d)", knobs[i].Name, v, len(knobs[i].Values))
		}
	}
	return nil
}

func appendKey(b []byte, cfg []int) []byte {
	for _, v := range cfg {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

// Evaluate implements DesignSpace with caching and charging.
func (c *Counted) Evaluate(cfg []int, out []float64) error {
	if err := ValidateConfig(c.knobs, cfg); err != nil {
		c.mu.Lock()
		c.calls++
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", c.ds.Name(), err)
	}
	if len(out) < c.nMetric {
		return fmt.Errorf("%s: metric buffer has %d entries, want %d", c.ds.Name(), len(out), c.nMetric)
	}
	var kb [64]byte
	key := appendKey(kb[:0], cfg)

	c.mu.Lock()
	c.calls++
	if e, ok := c.cache[string(key)]; ok {
		c.mu.Unlock()
		<-e.done
		if e.err != nil {
			return e.err
		}
		copy(out, e.metrics)
		return nil
	}
	if c.budget > 0 && c.unique >= c.budget {
		c.mu.Unlock()
		return fmt.Errorf("%s: %w (%d unique evaluations)", c.ds.Name(), ErrBudgetExhausted, c.budget)
	}
	e := &countedEntry{done: make(chan struct{})}
	c.cache[string(key)] = e
	c.unique++ // reserved now so concurrent callers respect the budget
	c.mu.Unlock()

	m := make([]float64, c.nMetric)
	err := c.ds.Evaluate(slices.Clone(cfg), m)
	if err != nil {
		c.mu.Lock()
		delete(c.cache, string(key))
		c.unique--
		c.mu.Unlock()
		e.err = err
		close(e.done)
		return err
	}
	e.metrics = m
	close(e.done)
	c.mu.Lock()
	c.done = append(c.done, countedDone{string(key), e})
	c.mu.Unlock()
	copy(out, m)
	return nil
}

// place gives the evaluations finished since the last call their places in
// the evaluation order, after every place given before. Within such a batch
// the order is a fixed pseudo-random permutation (by a hash of the
// configuration) rather than the order they finished in: designs evaluated
// on several goroutines finish in any order, and a batch's designs are
// exchangeable for the methods that propose them (one policy or population
// proposes the whole batch), so "the i-th unique evaluation" is then the
// same on every run and does not favour any region of the space.
// Callers hold c.mu. A Tracker places at every read (between a method's
// iterations), so a batch is an iteration's new designs.
func (c *Counted) place() {
	if c.placed == len(c.done) {
		return
	}
	batch := make([]countedDone, 0, len(c.done)-c.placed)
	for _, d := range c.done[c.placed:] {
		if d.e.seq == 0 {
			batch = append(batch, d)
		}
	}
	c.placed = len(c.done)
	slices.SortFunc(batch, func(a, b countedDone) int {
		return cmp.Or(cmp.Compare(keyHash(a.key), keyHash(b.key)), strings.Compare(a.key, b.key))
	})
	for _, d := range batch {
		c.lastSeq++
		d.e.seq = c.lastSeq
		c.order = append(c.order, d)
	}
}

// keyHash is the FNV-1a hash of a configuration key (the order within a
// batch, see place).
func keyHash(k string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	return h
}

// placedSince places the finished evaluations (place) and returns those
// after the first n of the evaluation order, with the new count and the
// order's generation. When gen is not the current generation (Restore has
// reordered the places since), it returns the whole order: the caller
// starts over.
func (c *Counted) placedSince(n, gen int) ([]countedDone, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.place()
	if gen != c.gen {
		n = 0
	}
	if n >= len(c.order) {
		return nil, len(c.order), c.gen
	}
	return c.order[n:len(c.order):len(c.order)], len(c.order), c.gen
}

// CountedRecord is one cached evaluation (for checkpoints and logs).
type CountedRecord struct {
	Config  []int     `json:"config"`
	Metrics []float64 `json:"metrics"`
	// Seq is its place in the evaluation order (1 = the first unique
	// evaluation; 0 = unknown, e.g. a checkpoint written before places were
	// kept).
	Seq int `json:"seq,omitempty"`
}

// Records returns every finished cached evaluation with its place in the
// evaluation order (placing the ones not placed yet), sorted by
// configuration so the output is deterministic.
func (c *Counted) Records() []CountedRecord {
	c.mu.Lock()
	c.place()
	entries := make(map[string]*countedEntry, len(c.cache))
	for k, e := range c.cache {
		entries[k] = e
	}
	c.mu.Unlock()
	var out []CountedRecord
	for k, e := range entries {
		select {
		case <-e.done:
		default:
			continue // still in flight
		}
		if e.err != nil {
			continue
		}
		out = append(out, CountedRecord{Config: decodeKey(k), Metrics: slices.Clone(e.metrics), Seq: e.seq})
	}
	slices.SortFunc(out, func(a, b CountedRecord) int { return slices.Compare(a.Config, b.Config) })
	return out
}

// Restore adds records (e.g. from a checkpoint) to the cache and charges
// each one not already present, so a resumed run continues with the same
// budget use. Records keep their places in the evaluation order (Seq; a
// design already cached, such as an environment's start design, takes its
// recorded place); records without one are placed after them at the next
// read, as one batch. Nothing is restored when a record is invalid.
func (c *Counted) Restore(recs []CountedRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range recs {
		if err := ValidateConfig(c.knobs, r.Config); err != nil {
			return fmt.Errorf("%s: record %d: %w", c.ds.Name(), i, err)
		}
		if len(r.Metrics) != c.nMetric {
			return fmt.Errorf("%s: record %d has %d metrics, want %d", c.ds.Name(), i, len(r.Metrics), c.nMetric)
		}
		if r.Seq < 0 {
			return fmt.Errorf("%s: record %d has place %d in the evaluation order, want >= 0", c.ds.Name(), i, r.Seq)
		}
	}
	reordered := false
	for _, r := range recs {
		key := string(appendKey(nil, r.Config))
		e, ok := c.cache[key]
		if !ok {
			e = &countedEntry{done: make(chan struct{}), metrics: slices.Clone(r.Metrics)}
			close(e.done)
			c.cache[key] = e
			c.done = append(c.done, countedDone{key, e})
			c.unique++
		}
		if r.Seq == 0 || e.seq == r.Seq {
			continue
		}
		select {
		case <-e.done:
		default:
			continue // still being evaluated: placed when it finishes
		}
		if e.seq == 0 {
			c.order = append(c.order, countedDone{key, e})
		}
		e.seq = r.Seq
		c.lastSeq = max(c.lastSeq, r.Seq)
		reordered = true
	}
	if reordered {
		slices.SortStableFunc(c.order, func(a, b countedDone) int { return cmp.Compare(a.e.seq, b.e.seq) })
		c.gen++
	}
	return nil
}

func decodeKey(k string) []int {
	var out []int
	r := strings.NewReader(k)
	for r.Len() > 0 {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			break
		}
		out = append(out, int(v))
	}
	return out
}
