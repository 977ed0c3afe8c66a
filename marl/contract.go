package marl

import (
	"io"

	"github.com/commgraph/commgraph/marl/contract"
)

// The contract between an algorithm and its driver lives in the leaf
// package marl/contract (so that algorithms without neural networks, such
// as marl/blackbox, link no numerical library); these names keep it
// reachable from marl.
type (
	Metrics     = contract.Metrics
	Algorithm   = contract.Algorithm
	Checkpoint  = contract.Checkpoint
	NamedBlob   = contract.NamedBlob
	TensorState = contract.TensorState
	AdamState   = contract.AdamState
	RunState    = contract.RunState
	ValueNorm   = contract.ValueNorm
)

// CheckpointVersion is contract.CheckpointVersion.
const CheckpointVersion = contract.CheckpointVersion

// ErrBadCheckpoint is contract.ErrBadCheckpoint.
var ErrBadCheckpoint = contract.ErrBadCheckpoint

// NewValueNorm returns a normaliser with MAPPO's constants
// (contract.NewValueNorm).
func NewValueNorm() *ValueNorm { return contract.NewValueNorm() }

// DecodeCheckpoint is contract.DecodeCheckpoint.
func DecodeCheckpoint(r io.Reader) (*Checkpoint, error) { return contract.DecodeCheckpoint(r) }

// WriteCheckpoint is contract.WriteCheckpoint.
func WriteCheckpoint(path string, c *Checkpoint) error { return contract.WriteCheckpoint(path, c) }

// ReadCheckpoint is contract.ReadCheckpoint.
func ReadCheckpoint(path string) (*Checkpoint, error) { return contract.ReadCheckpoint(path) }
