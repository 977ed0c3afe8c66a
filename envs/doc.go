// Package envs owns the environment contracts of commgraph: multi-agent
// environments with PettingZoo "parallel" semantics (Env, Spec), the
// vectorised runner that steps K copies across goroutines, design spaces
// (named knobs with finite value lists evaluated to physical metrics), the
// DSE objectives, and the adapter that turns any design space into a
// multi-agent environment with one agent per knob.
//
// Sub-packages hold concrete environments (dram, predprey, synthetic) and
// the exhaustive sweep of a design space. envs imports none of marl,
// experiments or cmd.
package envs
