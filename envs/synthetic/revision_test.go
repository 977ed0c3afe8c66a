package synthetic_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
	"github.com/commgraph/commgraph/envs/synthetic"
)

func revisionEnv(t *testing.T, s *synthetic.Space, pinned float64, oracle bool) *envs.RevisionEnv {
	t.Helper()
	obj := minExpY(t, s)
	cfg := envs.RevisionConfig{Objective: obj, Length: 3, Pinned: pinned, ObsMetrics: []string{synthetic.MetricExpY}}
	if oracle {
		cfg.Oracle = s.Oracle
	}
	e, err := envs.NewRevisionEnv(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRevisionContract: the revision form passes the environment contract
// (determinism per seed, clones independent, buffers fully written).
func TestRevisionContract(t *testing.T) {
	c, _ := synthetic.Planted(6, 3, 1)
	s := synthetic.MustNew(c)
	for _, oracle := range []bool{false, true} {
		envtest.EnvWith(t, func() envs.Env { return revisionEnv(t, s, 0.5, oracle) }, envtest.EnvOptions{Steps: 60})
	}
}

// TestRevisionEpisode: pinned knobs keep their start value whatever their
// agent does, the observation marks them, and with the oracle the return of
// an episode is minus its final regret (0 after playing the oracle's design).
func TestRevisionEpisode(t *testing.T) {
	c, _ := synthetic.Planted(8, 4, 2)
	s := synthetic.MustNew(c)
	e := revisionEnv(t, s, 0.5, true)
	spec := e.Spec()
	obs := make([][]float32, len(spec.Agents))
	for i, a := range spec.Agents {
		obs[i] = make([]float32, a.ObsSize)
	}
	rew := make([]float32, len(spec.Agents))
	rng := rand.New(rand.NewPCG(1, 1))
	for ep := uint64(0); ep < 20; ep++ {
		e.Reset(ep, obs)
		pinned := e.Pinned()
		start := e.Design()
		n := 0
		for i, p := range pinned {
			if p >= 0 {
				n++
				if p != start[i] || obs[i][1+4] != 1 {
					t.Fatalf("episode %d: pinned knob %d value %d start %d flag %v", ep, i, p, start[i], obs[i][5])
				}
			}
		}
		if n != 4 {
			t.Fatalf("episode %d: %d pinned knobs, want 4", ep, n)
		}
		best, yBest, err := s.BestGiven(pinned)
		if err != nil {
			t.Fatal(err)
		}
		ret := 0.0
		for step := 0; step < 3; step++ {
			acts := make([]int, 8)
			for i := range acts {
				acts[i] = rng.IntN(4)
			}
			if step == 2 {
				copy(acts, best)
			}
			r := e.Step(acts, obs, rew)
			ret += float64(rew[0])
			for i, p := range pinned {
				if p >= 0 && e.Design()[i] != p {
					t.Fatalf("episode %d: pinned knob %d moved", ep, i)
				}
			}
			if r.Terminated != (step == 2) {
				t.Fatalf("episode %d step %d: terminated %v", ep, step, r.Terminated)
			}
		}
		if math.Abs(ret) > 1e-5 || math.Abs(e.Regret()) > 1e-9 {
			t.Fatalf("episode %d: return %v regret %v after the oracle's design", ep, ret, e.Regret())
		}
		if math.Abs(s.F(e.Design())-yBest) > 1e-9 {
			t.Fatalf("episode %d: final f %v, optimum %v", ep, s.F(e.Design()), yBest)
		}
	}
}

// TestRevisionBadInput: the form keys and the environment's options are
// checked, each error naming its key or option.
func TestRevisionBadInput(t *testing.T) {
	errs := envs.CheckFormKeys("bandits", 1, "shard")
	if len(errs) != 3 {
		t.Fatalf("CheckFormKeys: %d errors, want 3: %v", len(errs), errs)
	}
	for i, key := range []string{"form = ", "pinned = ", "credit = "} {
		if !strings.HasPrefix(errs[i].Error(), key) {
			t.Errorf("error %q does not start with %q", errs[i], key)
		}
	}
	if errs := envs.CheckFormKeys("revision", 0.5, "difference"); len(errs) != 0 {
		t.Errorf("valid keys refused: %v", errs)
	}
	c, _ := synthetic.Planted(4, 3, 1)
	s := synthetic.MustNew(c)
	obj := minExpY(t, s)
	for _, tc := range []struct {
		cfg  envs.RevisionConfig
		want string
	}{
		{envs.RevisionConfig{Length: 1}, "no objective"},
		{envs.RevisionConfig{Objective: obj, Length: 0}, "length 0"},
		{envs.RevisionConfig{Objective: obj, Length: 1, Pinned: 1}, "pinned fraction 1"},
		{envs.RevisionConfig{Objective: obj, Length: 1, Credit: "shard"}, `credit "shard"`},
		{envs.RevisionConfig{Objective: obj, Length: 1, ObsMetrics: []string{"nosuch"}}, `observed metric "nosuch"`},
		{envs.RevisionConfig{Objective: obj, Length: 1, Reference: []int{0, 0, 0, 9}}, "reference design"},
	} {
		if _, err := envs.NewRevisionEnv(s, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.cfg, err, tc.want)
		}
	}
}

// TestRevisionAgentID: with AgentID every observation ends with the one-hot
// of the agent's index (N more entries), the rest unchanged, and the form
// still passes the environment contract.
func TestRevisionAgentID(t *testing.T) {
	c, _ := synthetic.Planted(6, 3, 1)
	s := synthetic.MustNew(c)
	obj := minExpY(t, s)
	mk := func(id bool) *envs.RevisionEnv {
		e, err := envs.NewRevisionEnv(s, envs.RevisionConfig{Objective: obj, Length: 2, Pinned: 0.5, ObsMetrics: []string{synthetic.MetricExpY}, AgentID: id})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	plain, withID := mk(false), mk(true)
	ps, is := plain.Spec(), withID.Spec()
	n := len(ps.Agents)
	obsP, obsI := make([][]float32, n), make([][]float32, n)
	for i := range n {
		if is.Agents[i].ObsSize != ps.Agents[i].ObsSize+n {
			t.Fatalf("agent %d: observation size %d with AgentID, want %d+%d", i, is.Agents[i].ObsSize, ps.Agents[i].ObsSize, n)
		}
		obsP[i], obsI[i] = make([]float32, ps.Agents[i].ObsSize), make([]float32, is.Agents[i].ObsSize)
	}
	plain.Reset(7, obsP)
	withID.Reset(7, obsI)
	for i := range n {
		base := len(obsP[i])
		for k, v := range obsP[i] {
			if obsI[i][k] != v {
				t.Fatalf("agent %d entry %d: %v with AgentID, %v without", i, k, obsI[i][k], v)
			}
		}
		for j := range n {
			want := float32(0)
			if j == i {
				want = 1
			}
			if obsI[i][base+j] != want {
				t.Fatalf("agent %d: id entry %d = %v, want %v", i, j, obsI[i][base+j], want)
			}
		}
	}
	envtest.EnvWith(t, func() envs.Env { return mk(true) }, envtest.EnvOptions{Steps: 40})
}
