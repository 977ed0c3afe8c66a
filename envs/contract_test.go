package envs_test

import (
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
)

func TestContracts(t *testing.T) {
	space := envs.NewPolySpace()
	envtest.DesignSpace(t, space)
	envtest.DesignSpace(t, envs.NewCounted(envs.NewPolySpace()))
	oc := envs.ObjectiveConfig{Kind: envs.KindMinimize, Metrics: []string{"time_ns"}}
	obj, err := oc.Bind(space.MetricNames())
	if err != nil {
		t.Fatal(err)
	}
	counted := envs.NewCounted(space)
	for _, cfg := range []envs.SpaceEnvConfig{
		{Objective: obj, EpisodeLength: 1},
		{Objective: obj, EpisodeLength: 4, TruncateAtEnd: true},
	} {
		envtest.EnvWith(t, func() envs.Env {
			e, err := envs.NewSpaceEnv(counted, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, envtest.EnvOptions{SeedInsensitive: true, Steps: 100})
	}
	rnd := envs.SpaceEnvConfig{Objective: obj, EpisodeLength: 2, RandomStart: true}
	envtest.EnvWith(t, func() envs.Env {
		e, err := envs.NewSpaceEnv(counted, rnd)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}, envtest.EnvOptions{Steps: 100})
}
