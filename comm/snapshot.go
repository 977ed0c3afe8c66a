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
	return nil
}

// EncodeJSON writes s as indented JSON.
func (s *Snapshot) EncodeJSON(w io.Writer) error {
	if err := s.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("comm: snapshot: encode JSON: %w", err)
	}
	return nil
}

// DecodeSnapshot reads one snapshot from JSON (unknown fields are errors;
// syntax errors name the line) and validates it.
func DecodeSnapshot(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("comm: snapshot: read: %w", err)
	}
	return decodeSnapshot(data)
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
