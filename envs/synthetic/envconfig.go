package synthetic

import (
	"errors"
	"fmt"
)

// EnvConfig is the synthetic task as run files describe it ([env.synthetic]
// of experiments): Knobs knobs of Values values each, with Pairs planted
// interactions (k0,k1), (k2,k3), ... of standard deviation Strength, seen as
// a multi-agent environment whose episodes revise the design EpisodeLen
// times. DefaultEnvConfig holds its defaults; the struct tags document it
// (see experiments.Config for their meaning).
type EnvConfig struct {
	Knobs      int     `toml:"knobs" unit:"agents" range:"[2, 64]" doc:"number of knobs (agents)"`
	Values     int     `toml:"values" unit:"values per knob" range:"[2, 64]" doc:"values per knob"`
	Pairs      int     `toml:"pairs" unit:"pairs" range:"[0, 32]" doc:"planted interacting pairs (k0,k1), (k2,k3), ...; at most knobs/2"`
	Strength   float64 `toml:"strength" range:"[0, 100]" doc:"standard deviation of each planted pair term (main effects have 1)"`
	SpaceSeed  int64   `toml:"space_seed" range:"[0, inf)" doc:"seed of the landscape itself (fixed across run seeds so seeds are comparable)"`
	EpisodeLen int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode; 1 = the bandit form"`
}

// DefaultEnvConfig returns the defaults of EnvConfig: 8 knobs of 4 values,
// 3 planted pairs of strength 1.5, the bandit form.
func DefaultEnvConfig() EnvConfig {
	return EnvConfig{Knobs: 8, Values: 4, Pairs: 3, Strength: 1.5, SpaceSeed: 1, EpisodeLen: 1}
}

// Validate reports every field out of range, each error starting with its
// key.
func (c EnvConfig) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if c.Knobs < 2 || c.Knobs > 64 {
		bad("knobs", c.Knobs, "must be in [2, 64]")
	}
	if c.Values < 2 || c.Values > 64 {
		bad("values", c.Values, "must be in [2, 64]")
	}
	if c.Pairs < 0 || 2*c.Pairs > c.Knobs {
		bad("pairs", c.Pairs, fmt.Sprintf("%d pairs need %d knobs, have %d", c.Pairs, 2*c.Pairs, c.Knobs))
	}
	if !(c.Strength >= 0 && c.Strength <= 100) {
		bad("strength", c.Strength, "must be in [0, 100]")
	}
	if c.SpaceSeed < 0 {
		bad("space_seed", c.SpaceSeed, "must be >= 0")
	}
	if c.EpisodeLen < 1 || c.EpisodeLen > 1000 {
		bad("episode_len", c.EpisodeLen, "must be in [1, 1000]")
	}
	return errors.Join(errs...)
}

// Space returns the Config of the landscape (named synthetic-<knobs>x<values>).
func (c EnvConfig) Space() Config {
	sc := Config{Name: fmt.Sprintf("synthetic-%dx%d", c.Knobs, c.Values), Seed: uint64(c.SpaceSeed)}
	for range c.Knobs {
		sc.Values = append(sc.Values, c.Values)
	}
	for i := range c.Pairs {
		sc.Pairs = append(sc.Pairs, Pair{A: 2 * i, B: 2*i + 1, S: c.Strength})
	}
	return sc
}
