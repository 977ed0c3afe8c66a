package comm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// Snapshot is a plain record of a communication graph at one training
// iteration, for logging and export. Rows are receivers, columns senders.
type Snapshot struct {
	Iteration int      `json:"iteration"`
	Agents    []string `json:"agents"`
	Variant   Variant  `json:"variant"`
	Sparsity  float64  `json:"sparsity"`
	K         int      `json:"k"`
	Gating    bool     `json:"gating"`
	// Logits is alpha (nil for fixed variants).
	Logits [][]float64 `json:"logits"`
	// Probabilities is softmax_row(alpha); for fixed variants the
	// row-normalised matrix.
	Probabilities [][]float64 `json:"probabilities"`
	// Adjacency is the binary exact graph (row top-k of alpha, or the fixed
	// matrix's nonzero pattern). The diagonal is always heard, whatever it says.
	Adjacency [][]int `json:"adjacency"`
	// ReceiveRates is each agent's fraction of steps with gate 1 (all 1 when
	// gating is off).
	ReceiveRates []float64 `json:"receive_rates"`

	// Margins is, per receiver row, the gap between the k-th and (k+1)-th
	// largest off-diagonal logit in units of the row's spread (RowMargins);
	// Gaps the same gap in logits (RowGaps). Both are absent when there is
	// no choice to decide: fixed variants (no logits) and full rows
	// (fullRows: k >= N-1).
	Margins []float64 `json:"margins,omitempty"`
	Gaps    []float64 `json:"gaps,omitempty"`
	// Decided is, per receiver row, whether the row's choice of senders is
	// decided by learning rather than by noise or ties (the rule Decided;
	// always true for fixed variants and full rows). UndecidedRows counts the
	// false entries. Snapshots written before these fields existed get them
	// computed from Logits when read.
	Decided       []bool `json:"decided"`
	UndecidedRows int    `json:"undecided_rows"`
}

// ComputeMargins (re)computes Margins, Gaps, Decided and UndecidedRows from
// Logits and K. Fixed variants (nil Logits) are decided by construction.
func (s *Snapshot) ComputeMargins() {
	n := s.N()
	s.Margins, s.Gaps = nil, nil
	s.Decided = make([]bool, n)
	s.UndecidedRows = 0
	for i := range s.Decided {
		s.Decided[i] = true
	}
	if s.Logits == nil || len(s.Logits) != n {
		return
	}
	flat := make([]float64, 0, n*n)
	for _, r := range s.Logits {
		if len(r) != n {
			return // Validate reports the shape
		}
		flat = append(flat, r...)
	}
	s.Gaps = RowGaps(flat, n, s.K)
	s.Margins = RowMargins(flat, n, s.K)
	if s.Margins == nil {
		return
	}
	for i := range s.Decided {
		s.Decided[i] = Decided(s.Margins[i], s.Gaps[i])
		if !s.Decided[i] {
			s.UndecidedRows++
		}
	}
}

// withMargins returns s itself when its decision fields are set, else a
// shallow copy with them computed.
func (s *Snapshot) withMargins() *Snapshot {
	if s.Decided != nil {
		return s
	}
	c := *s
	c.ComputeMargins()
	return &c
}

// Snapshot records the graph's current state. agents may be nil (names
// "agent0", "agent1", ...); receiveRates may be nil (all 1, e.g. gating off).
func (g *Graph) Snapshot(iteration int, agents []string, receiveRates []float64, gating bool) (*Snapshot, error) {
	n := g.cfg.N
	if agents == nil {
		agents = make([]string, n)
		for i := range agents {
			agents[i] = fmt.Sprintf("agent%d", i)
		}
	}
	if len(agents) != n {
		return nil, fmt.Errorf("comm: snapshot: %d agent names for %d agents", len(agents), n)
	}
	if receiveRates == nil {
		receiveRates = make([]float64, n)
		for i := range receiveRates {
			receiveRates[i] = 1
		}
	}
	if len(receiveRates) != n {
		return nil, fmt.Errorf("comm: snapshot: %d receive rates for %d agents", len(receiveRates), n)
	}
	s := &Snapshot{
		Iteration:     iteration,
		Agents:        append([]string(nil), agents...),
		Variant:       g.cfg.Variant,
		Sparsity:      g.cfg.Sparsity,
		K:             g.k,
		Gating:        gating,
		Probabilities: square(g.Probabilities(), n),
		ReceiveRates:  append([]float64(nil), receiveRates...),
	}
	if g.Alpha != nil {
		s.Logits = square(g.Logits(), n)
	}
	s.ComputeMargins()
	ex := g.Exact()
	s.Adjacency = make([][]int, n)
	for i := range s.Adjacency {
		s.Adjacency[i] = make([]int, n)
		for j := range s.Adjacency[i] {
			if ex[i*n+j] != 0 {
				s.Adjacency[i][j] = 1
			}
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func square(v []float64, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), v[i*n:(i+1)*n]...)
	}
	return out
}

// N returns the number of agents.
func (s *Snapshot) N() int { return len(s.Agents) }

// Validate checks shapes and ranges (finite numbers, 0/1 adjacency,
// probabilities and receive rates in [0,1]).
func (s *Snapshot) Validate() error {
	n := len(s.Agents)
	if n == 0 {
		return errors.New("comm: snapshot: no agents")
	}
	checkM := func(name string, rows int, get func(i int) int) error {
		if rows != n {
			return fmt.Errorf("comm: snapshot: %s has %d rows, want %d", name, rows, n)
		}
		for i := 0; i < n; i++ {
			if c := get(i); c != n {
				return fmt.Errorf("comm: snapshot: %s row %d has %d entries, want %d", name, i, c, n)
			}
		}
		return nil
	}
	if s.Logits != nil {
		if err := checkM("logits", len(s.Logits), func(i int) int { return len(s.Logits[i]) }); err != nil {
			return err
		}
		for i, r := range s.Logits {
			for j, v := range r {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("comm: snapshot: logits[%d][%d] = %v, not finite", i, j, v)
				}
			}
		}
	}
	if err := checkM("probabilities", len(s.Probabilities), func(i int) int { return len(s.Probabilities[i]) }); err != nil {
		return err
	}
	for i, r := range s.Probabilities {
		for j, v := range r {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("comm: snapshot: probabilities[%d][%d] = %v, not in [0,1]", i, j, v)
			}
		}
	}
	if err := checkM("adjacency", len(s.Adjacency), func(i int) int { return len(s.Adjacency[i]) }); err != nil {
		return err
	}
	for i, r := range s.Adjacency {
		for j, v := range r {
			if v != 0 && v != 1 {
				return fmt.Errorf("comm: snapshot: adjacency[%d][%d] = %d, want 0 or 1", i, j, v)
			}
		}
	}
	if len(s.ReceiveRates) != n {
		return fmt.Errorf("comm: snapshot: %d receive rates, want %d", len(s.ReceiveRates), n)
	}
	for i, v := range s.ReceiveRates {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("comm: snapshot: receive_rates[%d] = %v, not in [0,1]", i, v)
		}
	}
	if !(s.Sparsity >= 0 && s.Sparsity <= 1) {
		return fmt.Errorf("comm: snapshot: sparsity = %v, not in [0,1]", s.Sparsity)
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{{"margins", s.Margins}, {"gaps", s.Gaps}} {
		if f.v == nil {
			continue
		}
		if len(f.v) != n {
			return fmt.Errorf("comm: snapshot: %d %s, want %d", len(f.v), f.name, n)
		}
		for i, v := range f.v {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("comm: snapshot: %s[%d] = %v, want finite and >= 0", f.name, i, v)
			}
		}
	}
	if s.Decided == nil {
		if s.UndecidedRows != 0 {
			return fmt.Errorf("comm: snapshot: undecided_rows = %d without decided", s.UndecidedRows)
		}
		return nil
	}
	if len(s.Decided) != n {
		return fmt.Errorf("comm: snapshot: %d decided flags, want %d", len(s.Decided), n)
	}
	u := 0
	for _, d := range s.Decided {
		if !d {
			u++
		}
	}
	if u != s.UndecidedRows {
		return fmt.Errorf("comm: snapshot: undecided_rows = %d, but decided has %d false rows", s.UndecidedRows, u)
	}
	return nil
}

// EncodeJSON writes s as indented JSON.
func (s *Snapshot) EncodeJSON(w io.Writer) error {
	if err := s.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.withMargins()); err != nil {
		return fmt.Errorf("comm: snapshot: encode JSON: %w", err)
	}
	return nil
}

func decodeSnapshot(data []byte) (*Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("comm: snapshot: line %d: %w", lineOf(data, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("comm: snapshot: line %d: field %q: %w", lineOf(data, te.Offset), te.Field, err)
		}
		return nil, fmt.Errorf("comm: snapshot: %w", err)
	}
	if s.Decided == nil {
		s.ComputeMargins()
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// ReadSnapshot reads a snapshot JSON file; errors name the file.
func ReadSnapshot(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// WriteJSON writes s to path atomically (envs/fsutil: temp file, fsync, rename).
func WriteJSON(path string, s *Snapshot) error {
	return fsutil.WriteFileWith(path, func(w io.Writer) error { return s.EncodeJSON(w) })
}
