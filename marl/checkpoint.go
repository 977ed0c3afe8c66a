package marl

import (
	"fmt"
	"slices"

	"github.com/commgraph/commgraph/attention"
)

// captureTensor copies a parameter into a TensorState.
func captureTensor(p *attention.Param) TensorState {
	s := TensorState{Name: p.Name, Shape: slices.Clone([]int(p.Value.Shape()))}
	switch d := p.Value.Data().(type) {
	case []float32:
		s.F32 = slices.Clone(d)
	case []float64:
		s.F64 = slices.Clone(d)
	}
	return s
}

// restoreTensor copies a TensorState into p, checking name, shape and dtype.
func restoreTensor(p *attention.Param, s TensorState) error {
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
		out[i] = captureTensor(p)
	}
	return out
}

// RestoreParams restores ps from states written by CaptureParams.
func RestoreParams(ps []*attention.Param, states []TensorState) error {
	if len(states) != len(ps) {
		return fmt.Errorf("marl: checkpoint has %d tensors, model has %d", len(states), len(ps))
	}
	for i, p := range ps {
		if err := restoreTensor(p, states[i]); err != nil {
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
