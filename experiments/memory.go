package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl/commformer"
)

// DefaultMaxMemory is the memory a run may plan to use unless raised
// (RunOptions.MaxMemory, `--max-memory` on the command line): work whose
// estimate exceeds it is refused before it starts, naming the keys that
// drive the estimate.
const DefaultMaxMemory int64 = 16 << 30

// defaultMaxTrials is the largest sweep expanded unless the sweep file's
// max_trials raises it.
const defaultMaxTrials = 100_000

// GiB renders a byte count in GiB for messages.
func GiB(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", b/(1<<10))
}

// checkMemory refuses an estimate above limit (bytes, used as given: a
// limit that is not positive is an error, not a default). what names the
// work, keys the settings that drive it with their values, parts the terms
// of the estimate.
func checkMemory(what string, est float64, limit int64, keys, parts []string) error {
	if limit <= 0 {
		return fmt.Errorf("%s: memory limit %d bytes: want a positive limit (Config.MaxMemory, DefaultMaxMemory in DefaultConfig; --max-memory GiB)", what, limit)
	}
	if est <= float64(limit) {
		return nil
	}
	return fmt.Errorf("%s would need about %s of memory (%s), above the limit of %s: reduce %s, or raise the limit with --max-memory GiB", what, GiB(est), strings.Join(parts, " + "), GiB(float64(limit)), strings.Join(keys, ", "))
}

// commformerMemory estimates, in bytes, what a CommFormer learner holds at
// once on env: the rollout buffer (num_envs x rollout_steps x agents steps
// of an observation and six float32 per agent), the model (about 22 d^2
// weights per encoder+decoder block pair: six d x d projections in each
// attention, one attention in the encoder and two in the decoder, and two
// d x d feed-forward layers in each; times four for the weights, their
// gradients and Adam's two moments), and the activations of one minibatch
// kept for the backward pass (per sample and block about 30 d-vectors per
// agent, the N x N x d relation embeddings and the attention maps). It is
// an order-of-magnitude guard against settings that cannot fit, not a
// measurement; everything is float64 so nothing overflows.
func commformerMemory(c commformer.Config, spec envs.Spec) (float64, []string) {
	n := float64(len(spec.Agents))
	obs := float64(spec.MaxObs())
	e, t := float64(c.Envs), float64(c.Steps)
	d, l, h := float64(c.Embed), float64(c.Blocks), float64(c.Heads)
	buffer := e * t * n * (obs + 6) * 4
	model := 22 * l * d * d * 4 * 4
	batch := math.Ceil(e * t / float64(max(c.Minibatches, 1)))
	acts := batch * l * (2*30*n*d + 2*n*n*d + 3*h*n*n) * 4
	parts := []string{
		"rollout buffer " + GiB(buffer),
		"model with gradients and Adam " + GiB(model),
		"minibatch activations " + GiB(acts),
	}
	return buffer + model + acts, parts
}
