package synthetic

import (
	"errors"
	"fmt"
	"github.com/commgraph/commgraph/envs"
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
	Graph      string  `toml:"graph" range:"pairs|planted|dramlike" doc:"planted interactions: pairs = (k0,k1), (k2,k3), ... of the given strength; planted = a sparse random graph drawn from space_seed (every knob in 1-3 pairs, strengths 1-2, see synthetic.Planted); dramlike = the DRAM space's shape (10 knobs of 4,3,3,8,2,2,4,4,3,8 values, so knobs must be 10 and values is unused) with three planted pairs (k8,k9) 2.0, (k0,k3) 1.5, (k1,k2) 0.7 and four knobs in no pair (synthetic.DRAMLike)"`
	Pairs      int     `toml:"pairs" unit:"pairs" range:"[0, 32]" doc:"graph = pairs: planted interacting pairs; at most knobs/2"`
	Strength   float64 `toml:"strength" range:"[0, 100]" doc:"graph = pairs: standard deviation of each planted pair term (main effects have 1)"`
	SpaceSeed  int64   `toml:"space_seed" range:"[0, inf)" doc:"seed of the landscape itself (fixed across run seeds so seeds are comparable); with graph = planted it also draws the graph"`
	Form       string  `toml:"form" range:"bandit|revision|search" doc:"bandit = episodes revise the design from the all-first-values start (the published form); revision = episodes start from a random design with some knobs pinned (envs.RevisionEnv); search = episodes start from one of the best designs evaluated so far with all knobs but free (the key) pinned, each proposing a child of that parent (envs.RevisionEnv, start elite)"`
	EpisodeLen int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode"`
	Pinned     float64 `toml:"pinned" unit:"fraction of knobs" range:"[0, 1)" doc:"form = revision: fraction of the knobs pinned at their start value in each episode"`
	Credit     string  `toml:"credit" range:"shared|difference|improvement" doc:"form = revision: shared = every agent receives the improvement of the design; difference = agent i receives the score minus the score with its knob left unchanged (difference reward); improvement (form = search) = every agent receives the child's improvement over its parent when positive and the child is new, else 0"`
	Elite      int     `toml:"elite" unit:"designs" range:"[1, 4096]" doc:"form = search: the parents are the elite best designs evaluated so far (drawn uniformly)"`
	Free       int     `toml:"free" unit:"knobs" range:"[1, knobs]" doc:"form = search: knobs each episode may change (the others keep the parent's values)"`
	Stall      int     `toml:"stall" unit:"unique evaluations" range:"[0, inf)" doc:"form = search: once this many unique evaluations pass without a new best, half of the episodes start from a uniformly drawn design with no knob pinned (random immigrants) until the best improves; 0 = never"`
	FirstGen   int     `toml:"first_gen" unit:"designs" range:"[0, 4096]" doc:"form = search: 0 = the first iteration's episodes start from their own uniform designs with every knob free; n > 0 = from a first generation of n uniform designs drawn from the run's seed, with free knobs as later"`
	FirstStart string  `toml:"first_start" range:"uniform|reference" doc:"form = search, first_gen = 0: how the first iteration's episodes start while the archive holds fewer than elite designs: uniform = each from its own uniform design with every knob free (two evaluations per episode: the start and its child); reference = from the reference design with every knob free (one evaluation per episode: the policy's own proposal, as in the bandit form's first iteration)"`
	AgentID    bool    `toml:"agent_id" doc:"form = revision: append a one-hot of the agent's index to its observation, so a receiver can tell its senders apart (without it a message says \"some sender has value v\", not whose)"`
}

// DefaultEnvConfig returns the defaults of EnvConfig: 8 knobs of 4 values,
// 3 planted pairs of strength 1.5, the bandit form (pinned 0.5 applies to
// the revision form).
func DefaultEnvConfig() EnvConfig {
	return EnvConfig{Knobs: 8, Values: 4, Graph: "pairs", Pairs: 3, Strength: 1.5, SpaceSeed: 1, Form: "bandit", EpisodeLen: 1, Pinned: 0.5, Credit: "shared", Elite: 8, Free: 2, Stall: 500, FirstStart: "uniform", AgentID: true}
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
	if c.Graph != "pairs" && c.Graph != "planted" && c.Graph != "dramlike" {
		bad("graph", fmt.Sprintf("%q", c.Graph), `must be "pairs", "planted" or "dramlike"`)
	}
	if c.Graph == "dramlike" && c.Knobs != len(DRAMLike(0).Values) {
		bad("knobs", c.Knobs, fmt.Sprintf(`graph = "dramlike" has the DRAM space's %d knobs: set knobs = %d`, len(DRAMLike(0).Values), len(DRAMLike(0).Values)))
	}
	errs = append(errs, envs.CheckFormKeys(c.Form, c.Pinned, c.Credit)...)
	errs = append(errs, envs.CheckSearchKeys(c.Elite, c.Free, c.Stall, c.FirstGen, c.FirstStart, c.Knobs)...)
	if c.Pairs < 0 || (c.Graph == "pairs" && 2*c.Pairs > c.Knobs) {
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

// Space returns the Config of the landscape (named synthetic-<knobs>x<values>,
// synthetic-planted<knobs>x<values> for the planted graph, or
// synthetic-dramlike).
func (c EnvConfig) Space() Config {
	if c.Graph == "dramlike" {
		return DRAMLike(uint64(c.SpaceSeed))
	}
	if c.Graph == "planted" {
		sc, err := Planted(c.Knobs, c.Values, uint64(c.SpaceSeed))
		if err == nil { // Validate guarantees knobs, values >= 2
			return sc
		}
	}
	sc := Config{Name: fmt.Sprintf("synthetic-%dx%d", c.Knobs, c.Values), Seed: uint64(c.SpaceSeed)}
	for range c.Knobs {
		sc.Values = append(sc.Values, c.Values)
	}
	for i := range c.Pairs {
		sc.Pairs = append(sc.Pairs, Pair{A: 2 * i, B: 2*i + 1, S: c.Strength})
	}
	return sc
}
