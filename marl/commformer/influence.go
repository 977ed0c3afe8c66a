package commformer

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Influence measures, on the observations of the last rollout, how much each
// agent's policy depends on each other agent's message: entry [i*N+j] is the
// mean KL divergence KL(pi_i(. | graph) || pi_i(. | graph without sender j))
// over the samples in which agent i chose freely (forced agents carry no
// policy). "Without sender j" zeroes column j of the rollout's adjacency (j
// still hears itself), so j reaches no receiver through the encoder nor
// through its decoder token; every agent's action is teacher-forced to the
// one taken in the rollout, so only the messages differ between the two
// passes. This is the causal effect of communication that I2C uses to decide
// whom to talk to (Ding, Huang and Lu, "Learning Individually Inferred
// Communication for Multi-Agent Cooperation", NeurIPS 2020), close to the
// counterfactual "social influence" of Jaques et al., ICML 2019.
//
// The effect is total, not only through the direct edge: removing j also
// changes what the agents that heard j pass on (their encoder outputs,
// which i's decoder reads when it hears them). So on an exact top-k graph
// an unselected pair can read a small positive value through a two-hop
// path; measured during a dense warm-up every pair is ranked. The diagonal is 0. It costs N+1
// teacher-forced acting passes over the rollout (the N probes on
// Config.Workers goroutines, with the same result) and changes no state
// (no random stream is drawn). Float32 trainers only.
func (t *Trainer) Influence() ([]float64, error) { return t.influence(false) }

// InfluenceEdges is Influence with one edge (i <- j) removed at a time
// instead of sender j from every receiver: the direct effect of each edge,
// without the two-hop paths, for N(N-1) passes instead of N.
func (t *Trainer) InfluenceEdges() ([]float64, error) { return t.influence(true) }

// influence is Influence; direct removes one edge (i <- j) at a time
// instead of sender j from every receiver: N(N-1) passes instead of N,
// and no two-hop effect.
func (t *Trainer) influence(direct bool) ([]float64, error) {
	if t.graphActing {
		return nil, fmt.Errorf("commformer: influence needs the float32 acting path")
	}
	if t.iter == 0 {
		return nil, fmt.Errorf("commformer: influence needs a rollout (run an iteration first)")
	}
	N, E, S := t.m.N, t.cfg.Envs, t.cfg.Steps
	A, O := t.m.A, t.m.O
	b := t.buf
	base := t.m.graph.Matrix(t.actMode(), nil)
	// probe is one worker's actor and scratch.
	type probe struct {
		fa           *fastActor
		mat          []float64
		forced, acts []int32
	}
	newProbe := func() *probe {
		fa := t.m.newFastActor(E)
		fa.keepDist = true
		return &probe{fa: fa, mat: make([]float64, N*N), forced: make([]int32, E*N), acts: make([]int32, E*N)}
	}
	// pass runs the teacher-forced decoder of every rollout step on pr.mat
	// and hands each step's distributions to use.
	pass := func(pr *probe, use func(s int, dist []float32)) error {
		for s := 0; s < S; s++ {
			k := s * E * N
			copy(pr.forced, b.Actions[k:k+E*N])
			pr.fa.matrix = pr.mat
			if err := pr.fa.act(b.Obs[k*O:(k+E*N)*O], t.orders[s*N:(s+1)*N], pr.forced, true, nil, pr.acts, nil, nil, nil); err != nil {
				return err
			}
			use(s, pr.fa.dist[:E*N*A])
		}
		return nil
	}
	full := make([]float32, S*E*N*A)
	ref := newProbe()
	copy(ref.mat, base)
	if err := pass(ref, func(s int, dist []float32) { copy(full[s*E*N*A:], dist) }); err != nil {
		return nil, err
	}
	out := make([]float64, N*N)
	free := make([]float64, N)
	for s := 0; s < S; s++ {
		for e := 0; e < E; e++ {
			for i := 0; i < N; i++ {
				if t.forced[(s*E+e)*N+i] < 0 {
					free[i]++
				}
			}
		}
	}
	// The probes: sender j removed (or edge only <- j). Probe (only, j)
	// writes only the entries [i*N+j] of its receivers, each with the
	// same sequence of additions (steps s, then copies e) as on one
	// goroutine, so the probes run on Config.Workers goroutines, each
	// with its own actor, with the same result.
	type job struct{ only, j int }
	var jobs []job
	for p := 0; p < N*N; p++ {
		j, only := p, -1
		if direct {
			only, j = p/N, p%N
			if only == j {
				continue
			}
		} else if p >= N {
			break
		}
		jobs = append(jobs, job{only, j})
	}
	run := func(pr *probe, jb job) error {
		j, only := jb.j, jb.only
		copy(pr.mat, base)
		for i := 0; i < N; i++ {
			if i != j && (only < 0 || i == only) {
				pr.mat[i*N+j] = 0
			}
		}
		return pass(pr, func(s int, dist []float32) {
			for e := 0; e < E; e++ {
				for i := 0; i < N; i++ {
					r := (s*E+e)*N + i
					if i == j || t.forced[r] >= 0 || (only >= 0 && i != only) {
						continue
					}
					p := full[r*A : (r+1)*A]
					q := dist[(e*N+i)*A : (e*N+i+1)*A]
					var kl float64
					for a := 0; a < t.m.counts[i]; a++ {
						lp := float64(p[a])
						kl += math.Exp(lp) * (lp - float64(q[a]))
					}
					out[i*N+j] += max(kl, 0)
				}
			}
		})
	}
	w := min(resolveWorkers(t.cfg.Workers), len(jobs))
	errs := make([]error, max(w, 1))
	var next atomic.Int64
	work := func(k int, pr *probe) {
		for {
			n := int(next.Add(1)) - 1
			if n >= len(jobs) {
				return
			}
			if err := run(pr, jobs[n]); err != nil {
				errs[k] = err
				return
			}
		}
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(k, newProbe())
		}()
	}
	work(0, ref)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i := 0; i < N; i++ {
		if free[i] > 0 {
			for j := 0; j < N; j++ {
				out[i*N+j] /= free[i]
			}
		}
	}
	return out, nil
}

// measureInfluence, with alpha_source = influence, folds the influence
// measured on this iteration's rollout into alpha after the update of every
// influence_every-th iteration after alpha_start, up to the end of the
// warm-up: alpha = log(mean influence + 1e-9) over the measurements so far
// (their count follows from the iteration, so a resumed run continues the
// same mean). It returns the time spent.
func (t *Trainer) measureInfluence() (time.Duration, error) {
	c := t.cfg
	if c.AlphaSource != "influence" || t.iter <= c.AlphaStart || t.iter > c.Warmup || (t.iter-c.AlphaStart)%c.InfluenceEvery != 0 {
		return 0, nil
	}
	start := time.Now()
	s, err := t.Influence()
	if err != nil {
		return 0, err
	}
	const eps = 1e-9
	cnt := float64((t.iter - c.AlphaStart) / c.InfluenceEvery)
	alpha := t.m.graph.Logits()
	for i, v := range s {
		mean := v
		if cnt > 1 {
			prev := max(math.Exp(alpha[i])-eps, 0)
			mean = prev + (v-prev)/cnt
		}
		alpha[i] = math.Log(mean + eps)
	}
	if c.AlphaSymmetric && t.iter+c.InfluenceEvery > c.Warmup {
		// The last measurement: the running mean is complete (nothing
		// reads it again), so the logits become the pair scores.
		pairScores(alpha, t.m.N)
	}
	if err := t.m.graph.SetLogits(alpha); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// pairScores turns the n x n log mean influences a (rows = receivers) into
// symmetric pair scores: s_ij = s_ji = c_ij + c_ji, where c_ij is a_ij minus
// the mean of row i's off-diagonal entries. Centring puts every receiver on
// its own scale (a receiver with a sharp policy shows larger KLs from every
// sender), and the sum adds the evidence of both receivers of a pair, so an
// interaction that moves mostly one knob's best value still ranks by its
// stronger direction instead of losing to other receivers' edges. The
// diagonal is left as it is (self-loops are always on).
func pairScores(a []float64, n int) {
	c := make([]float64, len(a))
	for i := range n {
		var m float64
		for j := range n {
			if j != i {
				m += a[i*n+j]
			}
		}
		m /= float64(n - 1)
		for j := range n {
			if j != i {
				c[i*n+j] = a[i*n+j] - m
			}
		}
	}
	for i := range n {
		for j := range n {
			if j != i {
				a[i*n+j] = c[i*n+j] + c[j*n+i]
			}
		}
	}
}

// symmetrise replaces each off-diagonal pair of the n x n matrix v by its
// mean.
func symmetrise[T float32 | float64](v []T, n int) {
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			m := (v[i*n+j] + v[j*n+i]) / 2
			v[i*n+j], v[j*n+i] = m, m
		}
	}
}
