// Package envs owns the environment contracts of commgraph: multi-agent
// environments with PettingZoo "parallel" semantics (Env, Spec), the
// vectorised runner that steps K copies across goroutines (Vec), design
// spaces (named knobs with finite value lists evaluated to physical
// metrics), the unique-evaluation budget with its cache (Counted), the DSE
// objectives (Objective, ObjectiveConfig; generic kinds, with named presets
// registered by the design spaces that define them), the one best-design and
// regret tracker (Tracker, Optimum, FindOptimum), and the adapter that turns
// any design space into a multi-agent environment with one agent per knob
// (SpaceEnv).
//
// Conventions every Env follows (checked by envs/envtest):
//   - Reset and Step write every entry of every agent's observation and
//     every reward; all state comes from the reset seed and the actions.
//   - Truncated is reported exactly when the step count reaches
//     Spec.MaxSteps without termination; when both would apply,
//     Terminated wins (no bootstrap).
//   - Clone returns a copy that shares no mutable state with the original.
//
// Random streams are derived with DeriveSeed from (seed, purpose, index),
// never from the global source or the clock.
//
// Sub-packages hold concrete environments (dram, predprey, synthetic), the
// contract tests (envtest) and the exhaustive sweep of a design space.
// envs imports none of marl, experiments or cmd.
package envs
