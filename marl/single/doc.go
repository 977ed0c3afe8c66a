// Package single owns the single-agent reinforcement-learning baselines of
// commgraph's design-space exploration: one agent sets every knob of a
// design (one action head per knob, no messages), the comparison of the
// published MARL study (Krishnan et al., "Multi-agent reinforcement
// learning for microprocessor design space exploration", 2022, whose MARL
// agents beat single-agent PPO and SAC on a DRAM controller).
//
//   - KindPPO ("ppo_single"): proximal policy optimisation (Schulman et al.,
//     "Proximal policy optimization algorithms", 2017) with a factorised
//     categorical policy, one head per knob.
//   - KindSAC ("sac"): discrete soft actor-critic (Christodoulou, "Soft
//     actor-critic for discrete action settings", 2019), with one policy
//     head and one critic term per knob.
//
// Both act in the bandit form of the design space (the published form:
// every episode is one step from the same start design, so the observation
// is constant): the network's output for that one observation is all that
// matters, so the heads' logits (and the critic's values) are the
// parameters themselves, the output of a network on a constant input.
//
// They run inside a blackbox.Search (blackbox.NewMethod): proposals are
// charged once per distinct design on the same envs.Counted cache and
// budget as every other method, evaluated in parallel in proposal order,
// and the search's metrics (unique_evals, best_value, regret ...) and
// checkpoints (history, cache, random streams, and here the parameters and
// optimiser moments) are the same, so a run is a function of its seed and
// resumes bit for bit. Each Iterate samples Config.Batch designs from the
// policy, evaluates them, and updates from their rewards
// (envs.Objective.Reward).
package single
