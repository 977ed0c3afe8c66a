package experiments_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// TestShippedConfigsDecode checks that every file in configs/ decodes
// strictly, names registered kinds, and that every sweep expands.
func TestShippedConfigsDecode(t *testing.T) {
	runs, _ := filepath.Glob(filepath.Join("..", "configs", "*.toml"))
	if len(runs) < 7 {
		t.Fatalf("only %d run configs in configs/", len(runs))
	}
	for _, p := range runs {
		cfg, err := experiments.LoadConfig(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		// and builds: the environment and the algorithm it names accept
		// their tables (nothing is run)
		task, alg, err := experiments.Build(&cfg, 1)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if c, ok := alg.(experiments.Closer); ok {
			c.Close()
		}
		if task.Close != nil {
			task.Close()
		}
		if want := filepath.Base(p); cfg.Name+".toml" != want {
			t.Errorf("%s: name %q does not match the file name", p, cfg.Name)
		}
	}
	sweeps, _ := filepath.Glob(filepath.Join("..", "configs", "sweeps", "*.toml"))
	if len(sweeps) < 2 {
		t.Fatalf("only %d sweeps in configs/sweeps", len(sweeps))
	}
	for _, p := range sweeps {
		sw, err := experiments.LoadSweep(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		trials, err := sw.Trials()
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if strings.HasSuffix(p, "_ablation.toml") && len(trials) != 40 {
			t.Errorf("%s: %d trials, want 4 graphs x 2 gating x 5 seeds = 40", p, len(trials))
		}
	}
}
