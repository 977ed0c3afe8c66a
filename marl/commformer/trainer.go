package commformer

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/commgraph/commgraph/attention"
	"github.com/commgraph/commgraph/attention/gemm"
	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/marl"
	"gorgonia.org/tensor"
)

// Purposes of the derived seeds and random streams (one stream per purpose).
const (
	purposeInit    = 1 // parameter initialisation
	purposeEnv     = 2 // rollout environment seeds (per iteration)
	purposeAct     = 3 // action sampling
	purposeGumbel  = 4 // Gumbel noise of the sampled graph
	purposeGate    = 5 // binary-concrete noise of the gate
	purposeShuffle = 6 // minibatch permutations
	purposeEval    = 7 // evaluation environment seeds
	purposeGraph   = 8 // the random graph variant's subsets, and tie-breaking
	purposeOrder   = 9 // decoding orders of the rollouts (stream "order")
	purposeEvalOrd = 10
)

// streamNames fixes the checkpoint order of the random streams; stream i is
// seeded from purpose purposeAct+i, except "order" (purposeOrder).
var streamNames = []string{"act", "gumbel", "gate", "shuffle", "order"}

// Trainer is the CommFormer learner with its bi-level PPO trainer; it
// implements marl.Algorithm.
type Trainer struct {
	cfg   Config
	seed  uint64
	proto envs.Env
	spec  envs.Spec
	m     *model

	modelOpt, alphaOpt *marl.Adam
	vnorm              *marl.ValueNorm
	coefs              marl.PPOCoefs

	streams map[string]*rand.PCG
	rngs    map[string]*rand.Rand

	iter      int
	envSteps  int64
	lastRates []float64 // per-agent receive rates of the last rollout

	// entRaised is the entropy bonus raised by the entropy floor
	// (Config.EntropyTarget; 0 = not raised).
	entRaised float64

	buf     *marl.Buffer
	normObs []float32
	// orders holds the decoding order of every rollout step ([Steps*N]),
	// drawn from the "order" stream and shared by the step's environments:
	// each directed edge gets to carry actions in some steps.
	orders []int32
	// forced holds every sample's forced actions ([Steps*Envs*N], -1 = free)
	// from environments that bind agents to one action (envs.ActionForcer).
	forced []int32
	payoff *payoffStats // alpha_source = payoff: the pair tables (payoff.go)
	// gates holds every sample's acting gates ([Steps*Envs*N]) when the
	// gate is a score-function gate: the update replays them.
	gates  []float64
	fills  map[int]*batchFill
	train  map[int]*trainGraph
	actors map[int]policy
	// graphActing forces the gorgonia acting graphs (float64 models always
	// use them; float32 models use the plain inference path by default).
	graphActing bool
}

var _ marl.Algorithm = (*Trainer)(nil)

// New builds a float32 trainer for env with cfg (start from DefaultConfig;
// an invalid cfg is an error naming the keys) and seed.
func New(env envs.Env, cfg Config, seed uint64) (*Trainer, error) {
	return newTrainer(env, cfg, seed, tensor.Float32)
}

// useBackend installs the fast GEMM backend under gorgonia once per process
// (attention/gemm: our AVX2/FMA kernel, vek where AVX2 is missing, or
// OpenBLAS with the openblas tag).
var useBackend = sync.OnceValue(gemm.Use)

func newTrainer(env envs.Env, cfg Config, seed uint64, dt tensor.Dtype) (*Trainer, error) {
	useBackend()
	if env == nil {
		return nil, fmt.Errorf("commformer: nil environment")
	}
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	spec := env.Spec()
	n := len(spec.Agents)
	if n == 0 {
		return nil, fmt.Errorf("commformer: environment %q has no agents", spec.Name)
	}
	counts := make([]int, n)
	for i, a := range spec.Agents {
		if a.NumActions < 1 || a.ObsSize < 1 {
			return nil, fmt.Errorf("commformer: environment %q agent %d (%s): %d actions, observation size %d", spec.Name, i, a.Name, a.NumActions, a.ObsSize)
		}
		counts[i] = a.NumActions
	}
	gcfg := comm.GraphConfig{N: n, Sparsity: cfg.Sparsity, Senders: cfg.Senders, Tau: cfg.Tau, Variant: cfg.Graph,
		Warmup: cfg.Warmup, PostStable: cfg.PostStable, PostRatio: cfg.PostRatio, UniformWarmup: cfg.AlphaSource != "gradient",
		Seed: envs.DeriveSeed(seed, purposeGraph), Adjacency: cfg.Adjacency}
	initRNG := rand.New(rand.NewPCG(envs.DeriveSeed(seed, purposeInit), purposeInit))
	m, err := newModel(dt, n, spec.MaxObs(), counts, cfg, gcfg, initRNG)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, seed: seed, proto: env.Clone(), spec: spec, m: m,
		modelOpt: marl.NewAdam(m.ps.List(), cfg.LR, cfg.AdamEps),
		alphaOpt: marl.NewAdam(m.aps.List(), cfg.AlphaLR, cfg.AdamEps),
		vnorm:    marl.NewValueNorm(),
		coefs:    marl.PPOCoefs{Clip: cfg.Clip, HuberDelta: cfg.HuberDelta, ValueCoef: cfg.ValueCoef, EntropyCoef: cfg.EntropyCoef},
		streams:  map[string]*rand.PCG{}, rngs: map[string]*rand.Rand{},
		fills: map[int]*batchFill{}, train: map[int]*trainGraph{}, actors: map[int]policy{}, graphActing: dt != tensor.Float32,
	}
	for i, name := range streamNames {
		purpose := uint64(purposeAct + i)
		if name == "order" {
			purpose = purposeOrder
		}
		p := rand.NewPCG(envs.DeriveSeed(seed, purpose), purpose)
		t.streams[name] = p
		t.rngs[name] = rand.New(p)
	}
	if t.buf, err = marl.NewBuffer(cfg.Envs, cfg.Steps, spec.MaxObs(), counts); err != nil {
		return nil, err
	}
	t.normObs = make([]float32, len(t.buf.Obs))
	t.orders = make([]int32, cfg.Steps*n)
	t.forced = make([]int32, cfg.Steps*cfg.Envs*n)
	if cfg.AlphaSource == "payoff" {
		t.payoff = newPayoffStats(counts)
	}
	if t.m.gate.Enabled() && t.m.gate.Config().Score {
		t.gates = make([]float64, cfg.Steps*cfg.Envs*n)
	}
	return t, nil
}

// Config returns the configuration in use (with the adjacency file read).
func (t *Trainer) Config() Config { return t.cfg }

// Iteration returns the number of completed iterations.
func (t *Trainer) Iteration() int { return t.iter }

// EnvSteps returns the number of environment steps taken in training.
func (t *Trainer) EnvSteps() int64 { return t.envSteps }

// Graph returns the communication graph (alpha, variant, exact top-k).
func (t *Trainer) Graph() *comm.Graph { return t.m.graph }

// Params returns the model parameters (the model optimiser's set; alpha is in
// AlphaParams).
func (t *Trainer) Params() *attention.Params { return t.m.ps }

// AlphaParams returns the graph parameters (empty for fixed variants).
func (t *Trainer) AlphaParams() *attention.Params { return t.m.aps }

// Adjacency returns the adjacency used for rollouts at the current
// iteration: alpha itself during warm-up, the exact top-k graph otherwise,
// the constant for fixed variants (N*N, rows = receivers).
func (t *Trainer) Adjacency() []float64 { return t.m.graph.Matrix(t.actMode(), nil) }

// Snapshot records the current communication graph for export (alpha,
// probabilities, exact adjacency, agent names from the environment, and the
// per-agent receive rates of the last rollout when gating is on).
func (t *Trainer) Snapshot() (*comm.Snapshot, error) {
	names := make([]string, len(t.spec.Agents))
	for i, a := range t.spec.Agents {
		names[i] = a.Name
	}
	var rates []float64
	if t.m.gate.Enabled() {
		rates = t.lastRates
	}
	return t.m.graph.Snapshot(t.iter, names, rates, t.m.gate.Enabled())
}

// trainMode is the graph mode of the PPO updates at the current iteration.
func (t *Trainer) trainMode() comm.Mode {
	return t.m.graph.ModeAt(t.iter, t.cfg.Iterations)
}

// actMode is the graph mode of rollouts: warm-up while training warms up,
// the exact graph otherwise.
func (t *Trainer) actMode() comm.Mode {
	if t.trainMode() == comm.ModeWarmup {
		return comm.ModeWarmup
	}
	return comm.ModeExact
}

func (t *Trainer) actor(B int) (policy, error) {
	if a, ok := t.actors[B]; ok {
		return a, nil
	}
	var a policy
	if t.graphActing {
		ga, err := t.m.newActor(B)
		if err != nil {
			return nil, err
		}
		a = ga
	} else if w := resolveWorkers(t.cfg.Workers); w > 1 && B > 1 && gemm.RowBlocksExact() {
		// Rows over w goroutines, same results; only on a GEMM backend
		// whose per-row bits do not depend on the block (not OpenBLAS).
		a = t.m.newSplitActor(B, w)
	} else {
		a = t.m.newFastActor(B)
	}
	t.actors[B] = a
	return a, nil
}

func (t *Trainer) trainGraph(B int) (*trainGraph, error) {
	if g, ok := t.train[B]; ok {
		return g, nil
	}
	g, err := t.m.buildTrain(B, t.coefs, gateLoss{cost: t.cfg.GateLambda, entropy: t.cfg.GateEntropy})
	if err != nil {
		return nil, fmt.Errorf("commformer: build training graph for %d samples: %w", B, err)
	}
	t.train[B] = g
	return g, nil
}

// Iterate runs one rollout (Envs x Steps) and one PPO update (Epochs x
// Minibatches gradient steps, every AlphaEvery-th epoch on alpha). The
// environments are reset at the start of every iteration with seeds derived
// from (seed, iteration), so an iteration depends only on the checkpointed
// state; the partial episodes at the end bootstrap from the value. On a
// cancelled context it returns ctx.Err() with the state unchanged.
func (t *Trainer) Iterate(ctx context.Context) (marl.Metrics, error) {
	start := time.Now()
	t.m.gate.Hold(t.iter < t.cfg.GateStart)
	saved, err := t.saveStreams()
	if err != nil {
		return nil, err
	}
	mode := t.trainMode()
	rs, err := t.rollout(ctx)
	if err != nil {
		if rerr := t.loadStreams(saved); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	rollTime := time.Since(start)
	b := t.buf
	b.ComputeGAE(t.cfg.Gamma, t.cfg.Lambda, t.vnorm.Denormalize)
	entCoef := t.entropyCoef()
	upd, err := t.update()
	if err != nil {
		return nil, err
	}
	if t.cfg.TargetKL > 0 {
		t.adaptLR(upd["approx_kl"])
		upd["lr"] = t.modelOpt.LR
	}
	if t.cfg.EntropyTarget > 0 {
		floor := t.cfg.EntropyTarget * t.uniformEntropy()
		t.adaptEntropy(upd["entropy"], floor)
		upd["entropy_floor"] = floor
	}
	t.iter++
	inflTime, err := t.measureInfluence()
	if err != nil {
		return nil, err
	}
	if err := t.measurePayoff(); err != nil {
		return nil, err
	}
	steps := int64(t.cfg.Envs * t.cfg.Steps)
	t.envSteps += steps
	el := time.Since(start).Seconds()
	mt := marl.Metrics{
		"iteration":         float64(t.iter),
		"env_steps":         float64(t.envSteps),
		"episodes":          float64(rs.episodes),
		"rollout_seconds":   rollTime.Seconds(),
		"iteration_seconds": el,
		"sps":               float64(steps) / el,
		"graph_mode":        float64(mode),
	}
	if t.cfg.EntropyDecay > 0 || t.cfg.EntropyTarget > 0 {
		mt["entropy_coef"] = entCoef
	}
	if t.cfg.AlphaSource == "influence" {
		mt["influence_seconds"] = inflTime.Seconds()
	}
	if rs.episodes > 0 {
		mt["episode_return"] = rs.retSum / float64(rs.episodes)
		mt["episode_length"] = rs.lenSum / float64(rs.episodes)
	} else {
		mt["episode_return"] = math.NaN()
		mt["episode_length"] = math.NaN()
	}
	adj := t.m.graph.Matrix(comm.ModeExact, nil)
	var gates []float64
	if t.m.gate.Enabled() {
		gates = rs.gates
	}
	t.lastRates = comm.ReceiveRates(gates, t.m.N)
	mt["receive_rate"] = comm.ReceiveRate(gates)
	if g := t.m.graph; g.Learnable() {
		// How decided the exact graph is: the median row margin (gap between
		// the k-th and (k+1)-th logit in units of the row's spread) and the
		// number of rows decided by noise (comm.Decided).
		logits := g.Logits()
		if margins := comm.RowMargins(logits, t.m.N, g.K()); margins != nil {
			gaps := comm.RowGaps(logits, t.m.N, g.K())
			undecided := 0
			for i := range margins {
				if !comm.Decided(margins[i], gaps[i]) {
					undecided++
				}
			}
			mt["graph_margin_median"] = median(margins)
			mt["graph_undecided_rows"] = float64(undecided)
		}
	}
	mt["messages_per_step"] = comm.MessagesPerStep(adj, gates, t.m.N)
	for k, v := range upd {
		mt[k] = v
	}
	return mt, nil
}

// updateStats accumulates the losses and diagnostics of an update's
// gradient steps.
type updateStats struct {
	steps, model, alpha         int
	pl, vl, ent, kl, cf, gn, gc float64
	ratio                       []float32 // scratch [B*N]
}

func (u *updateStats) metrics(gate bool) marl.Metrics {
	n := float64(u.steps)
	mt := marl.Metrics{
		"policy_loss":   u.pl / n,
		"value_loss":    u.vl / n,
		"entropy":       u.ent / n,
		"approx_kl":     u.kl / n,
		"clip_fraction": u.cf / n,
		"model_steps":   float64(u.model),
		"alpha_steps":   float64(u.alpha),
	}
	if u.model > 0 {
		mt["grad_norm"] = u.gn / float64(u.model)
	}
	if gate {
		mt["gate_cost"] = u.gc / n
	}
	return mt
}

// update runs the PPO epochs on the buffer: per epoch (an alpha epoch every
// alpha_every-th, see isAlphaEpoch) and minibatch, fill the inputs, run the
// loss and its gradient once (runLoss), then step one optimiser
// (alphaStep or modelStep).
func (t *Trainer) update() (marl.Metrics, error) {
	b := t.buf
	S := b.Len()
	mode := t.trainMode()
	mbs := t.cfg.Minibatches
	B := S / mbs
	tg, err := t.trainGraph(B)
	if err != nil {
		return nil, err
	}
	tg.adj.SetMode(mode)
	adv := make([]float32, len(b.Advantages))
	marl.NormalizeAdvantages(b.Advantages, adv)
	fb := t.batchFill(B)
	idx := make([]int, S)
	for i := range idx {
		idx[i] = i
	}
	st := &updateStats{ratio: make([]float32, B*t.m.N)}
	for ep := 0; ep < t.cfg.Epochs; ep++ {
		alpha := t.isAlphaEpoch(ep, mode)
		t.m.setSparse(tg, mode, alpha)
		if mbs > 1 {
			t.rngs["shuffle"].Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		}
		for mb := 0; mb < mbs; mb++ {
			fb.fill(tg, b, idx[mb*B:(mb+1)*B], adv, t.vnorm, t.orders, t.forced, t.cfg.Envs)
			var err error
			if t.gates != nil { // replay the sampled gates (score-function gate)
				err = tg.gate.SetGates(fb.replayGates(idx[mb*B:(mb+1)*B], t.gates))
			}
			if err == nil {
				err = t.runLoss(tg, mode, alpha, st)
			}
			if err == nil {
				if alpha {
					err = t.alphaStep(tg, st)
				} else {
					err = t.modelStep(tg, st)
				}
			}
			tg.vm.Reset()
			if err != nil {
				return nil, fmt.Errorf("commformer: iteration %d epoch %d: %w", t.iter+1, ep+1, err)
			}
		}
	}
	return st.metrics(tg.gateCost != nil), nil
}

// entropyCoef is the entropy bonus of the iteration being trained:
// entropy_coef, falling linearly to entropy_final over the first
// entropy_decay iterations when entropy_decay > 0.
func (t *Trainer) entropyCoef() float64 {
	return max(t.scheduledEntropyCoef(), t.entRaised)
}

// scheduledEntropyCoef is entropy_coef with its entropy_decay schedule,
// before the entropy floor.
func (t *Trainer) scheduledEntropyCoef() float64 {
	c := t.cfg
	if c.EntropyDecay <= 0 {
		return c.EntropyCoef
	}
	if t.iter >= c.EntropyDecay {
		return c.EntropyFinal
	}
	f := float64(t.iter) / float64(c.EntropyDecay)
	return c.EntropyCoef + (c.EntropyFinal-c.EntropyCoef)*f
}

// entropyRaiseFrom is the smallest bonus the entropy floor raises from when
// the scheduled one is 0 (1.5 x 0 would never rise).
const entropyRaiseFrom = 1e-3

// uniformEntropy is the mean entropy that uniform policies would have over
// the entries of the rollout just taken, in the units of the update's
// "entropy": the mean over all (sample, agent) entries of ln(actions), where
// an agent the environment bound to one action (envs.ActionForcer; its
// entropy is 0 in the loss) counts 0. So the floor applies to the agents
// that chose, whatever share of them the environment leaves free.
func (t *Trainer) uniformEntropy() float64 {
	N := len(t.spec.Agents)
	var sum float64
	for k, a := range t.forced {
		if a < 0 {
			sum += math.Log(float64(t.spec.Agents[k%N].NumActions))
		}
	}
	return sum / float64(len(t.forced))
}

// adaptEntropy applies the entropy floor of Config.EntropyTarget after an
// update whose mean policy entropy was h, against floor (entropy_target x
// uniformEntropy): below the floor the bonus in force
// rises by 1.5 (up to entropy_coef_max); at or above it a raised bonus falls
// by 1.5, and once it is back under the scheduled bonus the schedule rules
// again. A non-finite h leaves the bonus alone.
func (t *Trainer) adaptEntropy(h, floor float64) {
	if math.IsNaN(h) || math.IsInf(h, 0) {
		return
	}
	if h < floor {
		t.entRaised = min(max(t.entropyCoef(), entropyRaiseFrom)*1.5, t.cfg.EntropyCoefMax)
		return
	}
	if t.entRaised /= 1.5; t.entRaised <= t.scheduledEntropyCoef() {
		t.entRaised = 0
	}
}

// isAlphaEpoch reports whether 0-based epoch ep updates alpha (every
// alpha_every-th epoch, from iteration alpha_start on, while the graph is
// learned and not frozen) rather than the model.
func (t *Trainer) isAlphaEpoch(ep int, mode comm.Mode) bool {
	return t.m.graph.Learnable() && t.cfg.AlphaSource == "gradient" && mode != comm.ModeFrozen && t.iter >= t.cfg.AlphaStart &&
		t.cfg.AlphaEvery > 0 && (ep+1)%t.cfg.AlphaEvery == 0
}

// runLoss draws the minibatch's graph and gate noise, runs the loss and its
// gradients, checks them and adds the diagnostics to st. The caller resets
// the machine.
func (t *Trainer) runLoss(tg *trainGraph, mode comm.Mode, alpha bool, st *updateStats) error {
	vw := t.cfg.ValueCoef
	if alpha {
		vw = t.cfg.AlphaValueCoef
	}
	put(tg.valueWeight, []float32{float32(vw)})
	put(tg.entWeight, []float32{float32(t.entropyCoef())})
	if mode == comm.ModeSample {
		tg.adj.Resample(t.rngs["gumbel"])
	}
	if t.m.gate.Enabled() && t.gates == nil {
		tg.gate.Resample(t.rngs["gate"])
	}
	if err := tg.vm.RunAll(); err != nil {
		return err
	}
	pl, vl, en := scalarOf(tg.rPolicy), scalarOf(tg.rValue), scalarOf(tg.rEntropy)
	if tot := scalarOf(tg.rTotal); !finite(tot) || !finite(pl) || !finite(vl) || !finite(en) {
		return fmt.Errorf("non-finite loss (total %v, policy %v, value %v, entropy %v); stopping", tot, pl, vl, en)
	}
	get(st.ratio, tg.loss.Ratio())
	var kl, cf float64
	for _, r := range st.ratio {
		kl += float64(r) - 1 - math.Log(float64(r))
		if math.Abs(float64(r)-1) > t.cfg.Clip {
			cf++
		}
	}
	R := float64(len(st.ratio))
	st.steps++
	st.pl += pl
	st.vl += vl
	st.ent += en
	st.kl += kl / R
	st.cf += cf / R
	if tg.gateCost != nil {
		st.gc += scalarOf(tg.rGateCost)
	}
	return nil
}

// adaptLR applies the adaptive step-size rule of Config.TargetKL to the
// model optimiser after an update whose mean approximate KL was kl. The rate
// lives in the optimiser's state (marl.AdamState.LR), which checkpoints
// carry, so a resumed run continues from the adapted value. A non-finite kl
// leaves the rate alone.
func (t *Trainer) adaptLR(kl float64) {
	if math.IsNaN(kl) || math.IsInf(kl, 0) {
		return
	}
	lr := t.modelOpt.LR
	switch {
	case kl > 2*t.cfg.TargetKL:
		lr /= 1.5
	case kl < t.cfg.TargetKL/2:
		lr *= 1.5
	}
	t.modelOpt.LR = min(max(lr, t.cfg.LRMin), t.cfg.LRMax)
}

// alphaLR is the alpha learning rate at the current iteration (alpha_decay:
// linear from alpha_lr at alpha_start to 0 at the end of the warm-up, or
// of the planned run).
func (t *Trainer) alphaLR() float64 {
	end := t.cfg.Warmup
	if end <= t.cfg.AlphaStart {
		end = t.cfg.Iterations
	}
	if !t.cfg.AlphaDecay || end <= t.cfg.AlphaStart {
		return t.cfg.AlphaLR
	}
	f := 1 - float64(t.iter-t.cfg.AlphaStart)/float64(end-t.cfg.AlphaStart)
	return t.cfg.AlphaLR * min(max(f, 0), 1)
}

// alphaStep applies the graph optimiser to alpha's gradient.
func (t *Trainer) alphaStep(tg *trainGraph, st *updateStats) error {
	t.alphaOpt.LR = t.alphaLR()
	gs, err := attention.Grads(tg.binder, t.m.aps)
	if err != nil {
		return err
	}
	if !marl.AllFinite(gs) {
		return fmt.Errorf("non-finite gradient of alpha; stopping")
	}
	if t.cfg.AlphaSymmetric {
		for _, g := range gs {
			if g.Shape().TotalSize() != t.m.N*t.m.N {
				continue
			}
			switch d := g.Data().(type) {
			case []float32:
				symmetrise(d, t.m.N)
			case []float64:
				symmetrise(d, t.m.N)
			}
		}
	}
	if err := t.alphaOpt.Update(t.m.aps.List(), gs); err != nil {
		return err
	}
	st.alpha++
	return nil
}

// modelStep clips the model's gradient (max_grad_norm) and applies the model
// optimiser.
func (t *Trainer) modelStep(tg *trainGraph, st *updateStats) error {
	params := t.m.ps.List()
	gs, err := attention.Grads(tg.binder, t.m.ps)
	if err != nil {
		return err
	}
	for i, g := range gs {
		if g == nil {
			return fmt.Errorf("parameter %s has no gradient", params[i].Name)
		}
	}
	var gn float64
	if t.cfg.MaxGradNorm > 0 {
		gn = marl.ClipGradNorm(gs, t.cfg.MaxGradNorm)
	} else {
		gn = marl.GradNorm(gs)
	}
	if !finite(gn) {
		return fmt.Errorf("non-finite gradient norm %v; stopping", gn)
	}
	st.gn += gn
	if err := t.modelOpt.Update(params, gs); err != nil {
		return err
	}
	st.model++
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// median returns the median of xs (the mean of the two middle values for an
// even count); xs is not changed.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Evaluate runs episodes deterministic episodes (argmax actions, exact graph,
// thresholded gates) on environment copies seeded from (seed, "eval"), the
// same every call, and returns eval_return, eval_length (mean steps to
// finish; a truncated episode counts its full length), eval_success (the
// fraction that terminated), the communication accounting, and eval_<key>
// for every scalar the environment reports in the Info of an episode's last
// step (averaged over the episodes that report it, e.g. eval_final_regret
// of the revision form). Agents decode in a random order drawn from a
// stream seeded by (seed, "eval order"), the same every call. It consumes
// no training random stream.
func (t *Trainer) Evaluate(ctx context.Context, episodes int) (marl.Metrics, error) {
	if episodes < 1 {
		return nil, fmt.Errorf("commformer: evaluate %d episodes", episodes)
	}
	t.m.gate.Hold(t.iter < t.cfg.GateStart)
	N := t.m.N
	a, err := t.actor(episodes)
	if err != nil {
		return nil, err
	}
	a.setMode(comm.ModeExact)
	vec := envs.NewVec(t.proto, episodes, envs.VecConfig{Seed: envs.DeriveSeed(t.seed, purposeEval), Workers: t.cfg.Workers})
	defer vec.Close()
	vb := vec.NewBuffers()
	vb.TerminalObs = nil
	vec.Reset(vb)
	acts := make([]int32, episodes*N)
	gates := make([]float64, episodes*N)
	// Info scalars of the episodes' last steps (e.g. the revision form's
	// final_regret), averaged over the episodes that report them.
	info, infoN := map[string]float64{}, map[string]float64{}
	order := make([]int32, N)
	forced := make([]int32, episodes*N)
	orderRNG := rand.New(rand.NewPCG(envs.DeriveSeed(t.seed, purposeEvalOrd), purposeEvalOrd))
	var allGates []float64
	done := make([]bool, episodes)
	var ret, length, succ float64
	left := episodes
	maxSteps := t.spec.MaxSteps
	if maxSteps <= 0 {
		maxSteps = 10000
	}
	for step := 0; left > 0; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if step >= maxSteps+1 {
			return nil, fmt.Errorf("commformer: evaluation: %d episodes still running after %d steps (environment %q ignores its cap?)", left, step, t.spec.Name)
		}
		shuffleOrder(order, orderRNG)
		forcedActions(vec, forced, N)
		if err := a.act(vb.Obs, order, forced, true, nil, acts, nil, nil, gates); err != nil {
			return nil, err
		}
		for k := 0; k < episodes; k++ {
			if !done[k] && t.m.gate.Enabled() {
				allGates = append(allGates, gates[k*N:(k+1)*N]...)
			}
		}
		for j, v := range acts {
			vb.Actions[j] = int(v)
		}
		vec.Step(vb)
		for k := 0; k < episodes; k++ {
			if done[k] || !vb.Results[k].Done() {
				continue
			}
			done[k] = true
			left--
			st, _ := vec.LastEpisode(k)
			ret += st.Return
			length += float64(st.Length)
			if st.Terminated {
				succ++
			}
			for key, v := range vb.Results[k].Info {
				info[key] += v
				infoN[key]++
			}
		}
	}
	e := float64(episodes)
	adj := t.m.graph.Matrix(comm.ModeExact, nil)
	var g []float64
	if t.m.gate.Enabled() {
		g = allGates
	}
	mt := marl.Metrics{
		"eval_episodes":          e,
		"eval_return":            ret / e,
		"eval_length":            length / e,
		"eval_success":           succ / e,
		"eval_receive_rate":      comm.ReceiveRate(g),
		"eval_messages_per_step": comm.MessagesPerStep(adj, g, N),
	}
	for key, v := range info {
		mt["eval_"+key] = v / infoN[key]
	}
	return mt, nil
}

func (t *Trainer) saveStreams() ([]marl.NamedBlob, error) {
	out := make([]marl.NamedBlob, len(streamNames))
	for i, name := range streamNames {
		b, err := t.streams[name].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("commformer: save random stream %s: %w", name, err)
		}
		out[i] = marl.NamedBlob{Name: name, Data: b}
	}
	return out, nil
}

func (t *Trainer) loadStreams(bs []marl.NamedBlob) error {
	if len(bs) != len(streamNames) {
		return fmt.Errorf("commformer: checkpoint has %d random streams, want %d", len(bs), len(streamNames))
	}
	for i, name := range streamNames {
		if bs[i].Name != name {
			return fmt.Errorf("commformer: checkpoint random stream %q where %q was expected", bs[i].Name, name)
		}
		if err := t.streams[name].UnmarshalBinary(bs[i].Data); err != nil {
			return fmt.Errorf("commformer: restore random stream %s: %w", name, err)
		}
	}
	return nil
}

// Checkpoint returns the complete state: parameters, alpha, both optimisers,
// the value normaliser, the iteration and environment-step counters and
// every random stream (copies: iterating afterwards leaves it unchanged).
func (t *Trainer) Checkpoint() (*marl.Checkpoint, error) {
	rng, err := t.saveStreams()
	if err != nil {
		return nil, err
	}
	var blobs []marl.NamedBlob
	if t.payoff != nil {
		blobs = append(blobs, marl.NamedBlob{Name: payoffBlob, Data: t.payoff.marshal()})
	}
	if t.cfg.EntropyTarget > 0 {
		blobs = append(blobs, marl.NamedBlob{Name: entropyBlob, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(t.entRaised))})
	}
	return &marl.Checkpoint{
		Algorithm:  "commformer",
		Blobs:      blobs,
		Iteration:  t.iter,
		EnvSteps:   t.envSteps,
		Params:     marl.CaptureParams(t.m.ps.List()),
		Extra:      marl.CaptureParams(t.m.aps.List()),
		Optimisers: []marl.AdamState{t.modelOpt.State("model"), t.alphaOpt.State("alpha")},
		ValueNorm:  *t.vnorm,
		RNG:        rng,
	}, nil
}

// ForkCheckpoint adapts another run's checkpoint for `run --fork` before
// Restore. The one change it allows beyond Restore: a run of the learned
// graph may continue with a fixed graph (full, none, random, file). The
// logits and their optimiser state are dropped; the model, its optimiser,
// the value normaliser, the random streams and the counters continue. That
// is the paired ablation "the same model after the learned graph's warm-up,
// with a fixed graph from here". graphChanged reports the drop; any other
// mismatch is left for Restore to refuse.
func (t *Trainer) ForkCheckpoint(c *marl.Checkpoint) (out *marl.Checkpoint, graphChanged bool, err error) {
	if len(t.m.aps.List()) > 0 || len(c.Extra) == 0 {
		return c, false, nil
	}
	if len(c.Optimisers) != 2 {
		return nil, false, fmt.Errorf("commformer: checkpoint has %d optimisers, want 2", len(c.Optimisers))
	}
	cp := *c
	cp.Extra = nil
	cp.Optimisers = []marl.AdamState{c.Optimisers[0], t.alphaOpt.State(c.Optimisers[1].Name)}
	return &cp, true, nil
}

// Restore restores a state returned by Checkpoint into a trainer built with
// the same environment, configuration and seed.
func (t *Trainer) Restore(c *marl.Checkpoint) error {
	if c.Algorithm != "commformer" {
		return fmt.Errorf("commformer: checkpoint of algorithm %q", c.Algorithm)
	}
	if len(c.Optimisers) != 2 {
		return fmt.Errorf("commformer: checkpoint has %d optimisers, want 2", len(c.Optimisers))
	}
	if err := marl.RestoreParams(t.m.ps.List(), c.Params); err != nil {
		return err
	}
	if err := marl.RestoreParams(t.m.aps.List(), c.Extra); err != nil {
		return err
	}
	if err := t.modelOpt.SetState(c.Optimisers[0]); err != nil {
		return err
	}
	if err := t.alphaOpt.SetState(c.Optimisers[1]); err != nil {
		return err
	}
	if err := t.loadStreams(c.RNG); err != nil {
		return err
	}
	if t.payoff != nil {
		if err := t.restorePayoff(c); err != nil {
			return err
		}
	}
	if t.cfg.EntropyTarget > 0 {
		if err := t.restoreEntropy(c); err != nil {
			return err
		}
	}
	*t.vnorm = c.ValueNorm
	t.iter = c.Iteration
	t.envSteps = c.EnvSteps
	return nil
}

// blobNamed returns the data of the checkpoint's blob called name.
func blobNamed(c *marl.Checkpoint, name string) ([]byte, bool) {
	for _, b := range c.Blobs {
		if b.Name == name {
			return b.Data, true
		}
	}
	return nil, false
}

// entropyBlob names the checkpoint blob of the entropy floor's raised bonus
// (8 bytes, a little-endian float64).
const entropyBlob = "entropy_raised"

// restoreEntropy restores the entropy floor's raised bonus. A checkpoint of
// iteration 0 may lack it (nothing was raised yet); a later one written
// without entropy_target cannot be continued with it exactly.
func (t *Trainer) restoreEntropy(c *marl.Checkpoint) error {
	if data, ok := blobNamed(c, entropyBlob); ok {
		if len(data) != 8 {
			return fmt.Errorf("commformer: checkpoint blob %q has %d bytes, want 8", entropyBlob, len(data))
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(data))
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("commformer: checkpoint blob %q holds %v, want a finite bonus >= 0", entropyBlob, v)
		}
		t.entRaised = v
		return nil
	}
	if c.Iteration > 0 {
		return fmt.Errorf("commformer: entropy_target > 0: the checkpoint of iteration %d has no entropy floor state (it was written by a run without entropy_target)", c.Iteration)
	}
	t.entRaised = 0
	return nil
}
