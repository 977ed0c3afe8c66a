package experiments_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/experiments"
)

// wrongDRAM is a design space with the DRAM stream space's name, knobs and
// metrics but made-up numbers: a table of it has the right header and the
// wrong contents, like a table swept before a simulator change.
// It does not embed the space, so that the sweep cannot reach the space's
// own evaluators.
type wrongDRAM struct{ s *dram.Space }

func (w wrongDRAM) Name() string          { return w.s.Name() }
func (w wrongDRAM) Knobs() []envs.Knob    { return w.s.Knobs() }
func (w wrongDRAM) MetricNames() []string { return w.s.MetricNames() }
func (wrongDRAM) Evaluate(cfg []int, out []float64) error {
	out[0], out[1], out[2] = float64(1+cfg[0]), 2, 3
	return nil
}

// TestDRAMTableKey: env.dram.table finds a directory's table by the space's
// name and refuses a table of another trace or with other numbers, naming
// the key, before any run starts.
func TestDRAMTableKey(t *testing.T) {
	space, err := dram.NewTraceSpace("stream")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "dram-stream.sweep")
	if _, err := exhaustive.Run(context.Background(), envs.DesignSpace(wrongDRAM{space}), file, exhaustive.Options{Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	build := func(sets ...string) error {
		cfg, err := experiments.LoadConfig(filepath.Join("..", "configs", "recover_dram_latency.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sets {
			if err := experiments.ApplyOverride(&cfg, s); err != nil {
				t.Fatal(err)
			}
		}
		task, alg, err := experiments.Build(&cfg, 1)
		if err == nil {
			if cl, ok := alg.(experiments.Closer); ok {
				cl.Close()
			}
			if task.Close != nil {
				task.Close()
			}
		}
		return err
	}
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"env.dram.trace=stream", "env.dram.table=" + dir}, "stale"},
		{[]string{"env.dram.trace=stream", "env.dram.table=" + file}, "stale"},
		{[]string{"env.dram.trace=random", "env.dram.table=" + file}, `of space "dram/stream", not "dram/random"`},
		{[]string{"env.dram.trace=random", "env.dram.table=" + dir}, "dram-random.sweep"},
	} {
		err := build(c.sets...)
		if err == nil || !strings.Contains(err.Error(), "env.dram.table") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error on env.dram.table saying %q", c.sets, err, c.want)
		}
	}
}

// TestDRAMTraceTooLarge: a trace file whose loading would exceed the
// run's memory limit is refused from its size, naming the key, before it
// is read (a sparse 3 GiB file of zeros would otherwise fail to parse).
func TestDRAMTraceTooLarge(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.stl")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 3<<30); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, key string }{
		{"dram_latency.toml", "env.dram.trace=" + huge},
		{"dram_channels4_latency.toml", `env.multichan.traces=["stream", "` + huge + `"]`},
	} {
		cfg, err := experiments.LoadConfig(filepath.Join("..", "configs", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := experiments.ApplyOverride(&cfg, c.key); err != nil {
			t.Fatal(err)
		}
		_, _, err = experiments.Build(&cfg, 1)
		key, _, _ := strings.Cut(c.key, "=")
		if err == nil || !strings.Contains(err.Error(), "key "+key) || !strings.Contains(err.Error(), "--max-memory") {
			t.Errorf("%s with a 3 GiB trace: %v", c.file, err)
		}
	}
}
