package marl

import (
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/commgraph/commgraph/attention"
)

// CheckpointFormat names the encoding written by Checkpoint.Encode.
const CheckpointFormat = "commgraph-checkpoint/1"

// TensorState is one named tensor in a checkpoint (exactly one of F32/F64 set).
type TensorState struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

// AdamState is the complete state of an Adam optimiser.
type AdamState struct {
	Name                  string
	LR, Beta1, Beta2, Eps float64
	Step                  int
	M, V                  [][]float64
}

// NamedBlob is an opaque named state (e.g. a PCG source's MarshalBinary).
type NamedBlob struct {
	Name string
	Data []byte
}

// Checkpoint is the complete resumable state of a training run. Everything is
// stored in slices (never maps) so that encoding is deterministic.
type Checkpoint struct {
	Format     string
	Algorithm  string // e.g. "commformer"
	Iteration  int
	EnvSteps   int64
	Params     []TensorState // model parameters in creation order
	Extra      []TensorState // other tensors (e.g. the graph logits alpha)
	Optimisers []AdamState
	ValueNorm  ValueNorm
	RNG        []NamedBlob // every random source's binary state
	Blobs      []NamedBlob // anything else the algorithm needs
	Scalars    []float64   // algorithm-defined counters
}

// Encode writes the checkpoint (gob).
func (c *Checkpoint) Encode(w io.Writer) error {
	c.Format = CheckpointFormat
	if err := gob.NewEncoder(w).Encode(c); err != nil {
		return fmt.Errorf("marl: encode checkpoint: %w", err)
	}
	return nil
}

// DecodeCheckpoint reads a checkpoint written by Encode.
func DecodeCheckpoint(r io.Reader) (*Checkpoint, error) {
	var c Checkpoint
	if err := gob.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Errorf("marl: decode checkpoint: %w", err)
	}
	if c.Format != CheckpointFormat {
		return nil, fmt.Errorf("marl: checkpoint format %q, want %q", c.Format, CheckpointFormat)
	}
	return &c, nil
}

// CaptureTensor copies a parameter into a TensorState.
func CaptureTensor(p *attention.Param) TensorState {
	s := TensorState{Name: p.Name, Shape: slices.Clone([]int(p.Value.Shape()))}
	switch d := p.Value.Data().(type) {
	case []float32:
		s.F32 = slices.Clone(d)
	case []float64:
		s.F64 = slices.Clone(d)
	}
	return s
}

// RestoreTensor copies a TensorState into p, checking name, shape and dtype.
func RestoreTensor(p *attention.Param, s TensorState) error {
	if s.Name != p.Name {
		return fmt.Errorf("marl: checkpoint tensor %q where %q was expected", s.Name, p.Name)
	}
	if !slices.Equal(s.Shape, []int(p.Value.Shape())) {
		return fmt.Errorf("marl: checkpoint tensor %q has shape %v, model has %v", s.Name, s.Shape, p.Value.Shape())
	}
	switch d := p.Value.Data().(type) {
	case []float32:
		if len(s.F32) != len(d) {
			return fmt.Errorf("marl: checkpoint tensor %q is not float32 of %d values", s.Name, len(d))
		}
		copy(d, s.F32)
	case []float64:
		if len(s.F64) != len(d) {
			return fmt.Errorf("marl: checkpoint tensor %q is not float64 of %d values", s.Name, len(d))
		}
		copy(d, s.F64)
	default:
		return fmt.Errorf("marl: parameter %q has unsupported dtype %v", p.Name, p.Value.Dtype())
	}
	return nil
}

// CaptureParams copies every parameter of ps.
func CaptureParams(ps []*attention.Param) []TensorState {
	out := make([]TensorState, len(ps))
	for i, p := range ps {
		out[i] = CaptureTensor(p)
	}
	return out
}

// RestoreParams restores ps from states written by CaptureParams.
func RestoreParams(ps []*attention.Param, states []TensorState) error {
	if len(states) != len(ps) {
		return fmt.Errorf("marl: checkpoint has %d tensors, model has %d", len(states), len(ps))
	}
	for i, p := range ps {
		if err := RestoreTensor(p, states[i]); err != nil {
			return err
		}
	}
	return nil
}

// State returns a copy of the optimiser state.
func (a *Adam) State(name string) AdamState {
	s := AdamState{Name: name, LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, Step: a.Step}
	for i := range a.M {
		s.M = append(s.M, slices.Clone(a.M[i]))
		s.V = append(s.V, slices.Clone(a.V[i]))
	}
	return s
}

// SetState restores an optimiser state captured by State; moment shapes must match.
func (a *Adam) SetState(s AdamState) error {
	if len(s.M) != len(a.M) || len(s.V) != len(a.V) {
		return fmt.Errorf("marl: optimiser %q has %d slots in the checkpoint, %d in the model", s.Name, len(s.M), len(a.M))
	}
	for i := range a.M {
		if len(s.M[i]) != len(a.M[i]) || len(s.V[i]) != len(a.V[i]) {
			return fmt.Errorf("marl: optimiser %q slot %d has %d values in the checkpoint, %d in the model", s.Name, i, len(s.M[i]), len(a.M[i]))
		}
		copy(a.M[i], s.M[i])
		copy(a.V[i], s.V[i])
	}
	a.LR, a.Beta1, a.Beta2, a.Eps, a.Step = s.LR, s.Beta1, s.Beta2, s.Eps, s.Step
	return nil
}

// WriteFileAtomic writes a file through write into a temporary file in the
// same directory and renames it into place, so that path holds either the
// old or the complete new content, never a partial one.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	// The temporary name ends in .tmp so that leftovers of a killed process
	// are recognisable (experiments removes them on resume).
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	// CreateTemp makes the file private (0600); results are for sharing.
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("marl: write %s: %w", path, err)
	}
	// Make the rename itself durable (best effort: not every system can
	// sync a directory).
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
