package envs

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// VecConfig configures a Vec.
type VecConfig struct {
	// Seed is the base seed: episode e of copy k is reset with
	// EpisodeSeed(Seed, k, e).
	Seed uint64
	// Workers is the number of goroutines stepping the copies (the calling
	// goroutine is one of them). 0 = min(GOMAXPROCS, K) (no Vec has 0
	// workers); 1 steps everything on the calling goroutine; negative
	// panics, like k <= 0.
	Workers int
}

// VecBuffers are the caller-owned buffers of a Vec. All are flat, row-major:
//
//	Obs, TerminalObs: [K][agents][stride]  (stride = Spec.MaxObs(); agent i
//	                  uses the first Agents[i].ObsSize entries, the rest are 0)
//	Rewards:          [K][agents]
//	Actions:          [K][agents]
//	Results:          [K]
//
// TerminalObs may be nil when the caller does not bootstrap truncated
// episodes. The caller may point the slices at its own storage (e.g. a
// rollout buffer) between calls.
type VecBuffers struct {
	Obs         []float32
	Rewards     []float32
	Actions     []int
	Results     []StepResult
	TerminalObs []float32
}

// EpisodeStats summarises one finished episode of one copy.
type EpisodeStats struct {
	// Return is the sum over steps of the mean reward over agents.
	Return float64
	// Length is the number of steps taken.
	Length int
	// Terminated is true when the episode ended in the environment's terms,
	// false when it was truncated by the step cap.
	Terminated bool
}

// Vec steps K independent copies of an Env across goroutines.
//
// Every copy is owned by exactly one worker for the duration of a call and
// writes only its own rows of the buffers, so the results do not depend on
// scheduling: for a given VecConfig.Seed and action sequence the outputs are
// identical bit for bit with any number of workers.
//
// When a copy's episode ends during Step (terminated or truncated), its final
// observation is copied into TerminalObs (if non-nil) and Results[k] carries
// the flags; the copy is then reset at once with the next episode's seed and
// Obs holds the first observation of the new episode. A learner bootstraps a
// truncated step from V(TerminalObs[k]) and a terminated one from zero.
//
// A Vec must not be used from more than one goroutine at a time. Close stops
// the workers; an unreachable Vec also stops them (runtime cleanup).
type Vec struct {
	*vecCore
}

type vecCore struct {
	spec     Spec
	envs     []Env
	seed     uint64
	nAgents  int
	stride   int
	episodes []uint64
	views    [][][]float32 // per copy, per agent: view into the current Obs
	epRet    []float64
	epLen    []int
	last     []EpisodeStats
	hasLast  []bool

	workers   int          // goroutines stepping copies (the caller included)
	next      atomic.Int64 // next copy to step in the call in progress
	jobs      chan int
	wg        sync.WaitGroup
	closed    bool
	closeOnce sync.Once

	// Arguments of the call in progress (set before workers are signalled).
	buf   *VecBuffers
	reset bool
	final bool // StepFinal: finished copies are not reset
}

// NewVec makes k clones of proto (proto itself is not used afterwards) and
// starts the workers. It does not reset the copies: call Reset first.
func NewVec(proto Env, k int, cfg VecConfig) *Vec {
	if k <= 0 {
		panic(fmt.Sprintf("envs.NewVec: k = %d, want > 0", k))
	}
	if cfg.Workers < 0 {
		panic(fmt.Sprintf("envs.NewVec: Workers = %d, want >= 0 (0 = GOMAXPROCS)", cfg.Workers))
	}
	spec := proto.Spec()
	c := &vecCore{
		spec:     spec,
		envs:     make([]Env, k),
		seed:     cfg.Seed,
		nAgents:  len(spec.Agents),
		stride:   spec.MaxObs(),
		episodes: make([]uint64, k),
		views:    make([][][]float32, k),
		epRet:    make([]float64, k),
		epLen:    make([]int, k),
		last:     make([]EpisodeStats, k),
		hasLast:  make([]bool, k),
	}
	for i := range c.envs {
		c.envs[i] = proto.Clone()
		c.views[i] = make([][]float32, c.nAgents)
	}
	w := cfg.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = min(w, k)
	c.workers = w
	v := &Vec{c}
	if w > 1 {
		c.jobs = make(chan int)
		for range w - 1 {
			go c.worker(c.jobs)
		}
		runtime.AddCleanup(v, (*vecCore).stop, c)
	}
	return v
}

// EpisodeSeed is the seed used for episode e of copy k under base seed s.
func EpisodeSeed(s uint64, k int, e uint64) uint64 {
	return DeriveSeed(s, 0x7665, uint64(k), e) // 0x7665 = "ve": the vec purpose tag
}

// Spec returns the spec of the copies.
func (v *Vec) Spec() Spec { return v.spec }

// Len returns K, the number of copies.
func (v *Vec) Len() int { return len(v.envs) }

// Stride returns the per-agent stride of the observation buffers.
func (v *Vec) Stride() int { return v.stride }

// Env returns copy k (for inspection; do not step it directly).
func (v *Vec) Env(k int) Env { return v.envs[k] }

// Episode returns the index of copy k's current episode (0 after Reset).
func (v *Vec) Episode(k int) uint64 { return v.episodes[k] }

// LastEpisode returns the statistics of copy k's most recently finished
// episode; ok is false if none has finished yet.
func (v *Vec) LastEpisode(k int) (s EpisodeStats, ok bool) { return v.last[k], v.hasLast[k] }

// NewBuffers allocates buffers of the right sizes, TerminalObs included.
func (v *Vec) NewBuffers() *VecBuffers {
	k, a := len(v.envs), v.nAgents
	return &VecBuffers{
		Obs:         make([]float32, k*a*v.stride),
		Rewards:     make([]float32, k*a),
		Actions:     make([]int, k*a),
		Results:     make([]StepResult, k),
		TerminalObs: make([]float32, k*a*v.stride),
	}
}

// Reset starts episode 0 of every copy (episode counters restart at zero)
// and writes the first observations into b.Obs.
func (v *Vec) Reset(b *VecBuffers) {
	v.check(b, false)
	for k := range v.envs {
		v.episodes[k] = 0
		v.epRet[k], v.epLen[k] = 0, 0
		v.hasLast[k] = false
	}
	v.run(b, true)
}

// Step applies b.Actions to every copy and fills b.Obs, b.Rewards,
// b.Results and, for finished copies, b.TerminalObs. Finished copies are
// reset automatically (see Vec).
func (v *Vec) Step(b *VecBuffers) {
	v.check(b, true)
	v.run(b, false)
}

// StepFinal is Step for the last step before the Vec is closed: finished
// copies are not reset, so their rows of b.Obs keep the final observation
// (as TerminalObs does) and no episode is started that would never run.
// That matters where a reset costs something that counts, as the search
// form's starts do (see CostlyReset); for other environments the outputs
// a learner reads (rewards, results, the observations of unfinished
// copies) are those of Step.
func (v *Vec) StepFinal(b *VecBuffers) {
	v.check(b, true)
	v.final = true
	v.run(b, false)
	v.final = false
}

// CostlyReset is implemented by environments whose Reset costs something a
// run is charged for (a counted evaluation of the start design): a learner
// should then end a rollout with Vec.StepFinal rather than Step.
type CostlyReset interface {
	CostlyReset() bool
}

// Close stops the worker goroutines. The Vec must not be used afterwards.
func (v *Vec) Close() {
	v.closed = true
	v.stop()
}

func (c *vecCore) stop() {
	if c.jobs != nil {
		c.closeOnce.Do(func() { close(c.jobs) })
	}
}

func (c *vecCore) check(b *VecBuffers, step bool) {
	k, a := len(c.envs), c.nAgents
	if len(b.Obs) != k*a*c.stride {
		panic(fmt.Sprintf("envs.Vec: len(Obs) = %d, want %d", len(b.Obs), k*a*c.stride))
	}
	if b.TerminalObs != nil && len(b.TerminalObs) != k*a*c.stride {
		panic(fmt.Sprintf("envs.Vec: len(TerminalObs) = %d, want %d or nil", len(b.TerminalObs), k*a*c.stride))
	}
	if !step {
		return
	}
	if len(b.Rewards) != k*a || len(b.Actions) != k*a || len(b.Results) != k {
		panic(fmt.Sprintf("envs.Vec: len(Rewards, Actions, Results) = (%d, %d, %d), want (%d, %d, %d)",
			len(b.Rewards), len(b.Actions), len(b.Results), k*a, k*a, k))
	}
	if c.closed {
		panic("envs.Vec: Step after Close")
	}
}

func (c *vecCore) run(b *VecBuffers, reset bool) {
	c.buf, c.reset = b, reset
	c.next.Store(0)
	if c.workers > 1 {
		c.wg.Add(c.workers - 1)
		for i := 1; i < c.workers; i++ {
			c.jobs <- i
		}
	}
	c.drain()
	c.wg.Wait()
	c.buf = nil
}

func (c *vecCore) worker(jobs <-chan int) {
	for range jobs {
		c.drain()
		c.wg.Done()
	}
}

// drain steps copies until none is left in the call in progress. Copies
// are handed out one at a time, so a worker that drew cheap copies (e.g.
// designs already in the evaluation cache) takes over more of the
// expensive ones; each copy writes only its own rows, so the outputs do
// not depend on which worker stepped it.
func (c *vecCore) drain() {
	for {
		k := int(c.next.Add(1)) - 1
		if k >= len(c.envs) {
			return
		}
		c.stepCopy(k)
	}
}

// bind points copy k's per-agent views at its rows of obs and zeroes the
// padding past each agent's observation size.
func (c *vecCore) bind(k int, obs []float32) [][]float32 {
	views := c.views[k]
	base := k * c.nAgents * c.stride
	for i, ag := range c.spec.Agents {
		row := obs[base+i*c.stride : base+(i+1)*c.stride]
		clear(row[ag.ObsSize:])
		views[i] = row[:ag.ObsSize]
	}
	return views
}

// stepCopy resets (c.reset) or steps copy k, writing only its rows.
func (c *vecCore) stepCopy(k int) {
	b := c.buf
	a := c.nAgents
	views := c.bind(k, b.Obs)
	env := c.envs[k]
	if c.reset {
		env.Reset(EpisodeSeed(c.seed, k, 0), views)
		return
	}
	rew := b.Rewards[k*a : (k+1)*a]
	r := env.Step(b.Actions[k*a:(k+1)*a], views, rew)
	var s float64
	for _, x := range rew {
		s += float64(x)
	}
	c.epRet[k] += s / float64(a)
	c.epLen[k]++
	b.Results[k] = r
	if !r.Done() {
		return
	}
	c.last[k] = EpisodeStats{Return: c.epRet[k], Length: c.epLen[k], Terminated: r.Terminated}
	c.hasLast[k] = true
	c.epRet[k], c.epLen[k] = 0, 0
	if b.TerminalObs != nil {
		n := a * c.stride
		copy(b.TerminalObs[k*n:(k+1)*n], b.Obs[k*n:(k+1)*n])
	}
	c.episodes[k]++
	if c.final {
		return
	}
	env.Reset(EpisodeSeed(c.seed, k, c.episodes[k]), views)
}
