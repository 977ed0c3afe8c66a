// Package blackbox owns the black-box design-space-exploration baselines of
// commgraph: random search, a genetic algorithm, ant colony optimisation and
// Bayesian optimisation with a tree-structured Parzen estimator (TPE), each
// searching an envs.DesignSpace directly (no environment, no learning)
// for the design that maximises an envs.Objective's reward, behind the same
// contract.Algorithm contract as the learners.
//
// Every method is charged through an envs.Counted wrapper, so the sample
// budget is the number of distinct configurations evaluated, exactly as for
// the learners: repeats are free. One Iterate proposes one batch of designs
// (Config.Batch), sequentially from the method's own random streams, and then
// evaluates the new ones in parallel on a pool of Config.Workers goroutines;
// results are consumed in proposal order, so a run is the same for any
// number of workers. When a budget is set, a batch is cut to the budget in
// proposal order, so a run ends with exactly Budget unique evaluations.
//
// Metrics per iteration (contract.Metrics keys):
//
//	iteration      completed iterations
//	unique_evals   distinct configurations charged so far (Counted.Unique)
//	evals          new configurations evaluated in this iteration
//	proposals      designs proposed in this iteration
//	repeats        proposals served free (already evaluated, or repeated within the batch)
//	best_reward    Objective.Reward of the best design (larger is better)
//	best_value     Objective.Value of the best design (physical units, lower is better)
//	best_<metric>  the best design's metrics by name (e.g. best_time_ns, best_energy_pJ, best_power_mW)
//	regret         when Config.Optimum is set: (best_value - opt)/|opt| for
//	               minimize/constrained objectives (0.01 = 1% worse than the
//	               optimum; equals best_value/opt - 1 for positive values),
//	               and best_value - opt for target objectives, whose Value is
//	               a dimensionless distance that is often 0 at the optimum
//	               (the same definitions experiments uses)
//	batch_best_reward / batch_mean_reward  over this iteration's proposals
//
// plus best_violation (Objective.Violation of the best design) for
// constrained objectives and method-specific columns (genetic: population;
// aco: pheromone_entropy, restarts). A run is over when Search.Done reports
// true (budget spent or space exhausted); later iterations evaluate nothing.
// The best design is
// the one with the largest reward; ties go to the smaller Value and then to
// the lexicographically smaller configuration, so it is deterministic.
//
// Save writes the whole state (iteration, every random stream's PCG state,
// the evaluation history and method state, and the Counted records); Load
// into a freshly constructed search with the same space, objective, config
// and seed continues bit-identically.
package blackbox
