package contract

import "context"

// Metrics is one logged row: named scalars (iteration, env_steps, returns,
// losses, KL, clip fraction, entropy, receive rate, messages per step, SPS ...).
// Keys are snake_case; experiments writes them as CSV/JSONL columns.
type Metrics map[string]float64

// Algorithm is a training or search run that experiments drives one
// iteration at a time. Everything it does is determined by its construction
// (config + seed); Checkpoint followed by Restore into a freshly constructed
// Algorithm with the same config must continue bit-identically.
type Algorithm interface {
	// Iterate runs one iteration (e.g. rollout + PPO update, or one batch of
	// design evaluations) and returns the metrics to log for it.
	Iterate(ctx context.Context) (Metrics, error)
	// Iteration returns the number of completed iterations.
	Iteration() int
	// Checkpoint returns the complete state (parameters, optimiser states,
	// random sources, counters, a design-space task's evaluation cache) so
	// that Restore resumes exactly. The result shares no memory with the
	// algorithm: iterating afterwards must not change it. The caller writes
	// it (WriteCheckpoint: one versioned, checksummed file format); the
	// algorithm never sees the bytes.
	Checkpoint() (*Checkpoint, error)
	// Restore restores a state returned by Checkpoint (possibly read back
	// from a file) into an algorithm built with the same config and seed.
	// It leaves c.Run alone.
	Restore(c *Checkpoint) error
	// Evaluate runs deterministic evaluation and returns its metrics; it must
	// not consume the training random streams.
	Evaluate(ctx context.Context, episodes int) (Metrics, error)
}
