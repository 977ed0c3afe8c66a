package marl

import (
	"context"
	"io"
)

// Metrics is one logged row: named scalars (iteration, env_steps, returns,
// losses, KL, clip fraction, entropy, receive rate, messages per step, SPS ...).
// Keys are snake_case; experiments writes them as CSV/JSONL columns.
type Metrics map[string]float64

// Algorithm is a training or search run that experiments drives one
// iteration at a time. Everything it does is determined by its construction
// (config + seed); Save followed by Load into a freshly constructed Algorithm
// with the same config must continue bit-identically.
type Algorithm interface {
	// Iterate runs one iteration (e.g. rollout + PPO update, or one batch of
	// design evaluations) and returns the metrics to log for it.
	Iterate(ctx context.Context) (Metrics, error)
	// Iteration returns the number of completed iterations.
	Iteration() int
	// Save writes the complete state (parameters, optimiser states, random
	// sources, counters) so that Load resumes exactly.
	Save(w io.Writer) error
	// Load restores a state written by Save.
	Load(r io.Reader) error
	// Evaluate runs deterministic evaluation and returns its metrics; it must
	// not consume the training random streams.
	Evaluate(ctx context.Context, episodes int) (Metrics, error)
}
