package experiments_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs/dram/optimum"
	"github.com/commgraph/commgraph/experiments"
)

// TestDeviceConfigsReportRegret: the shipped DDR4 and LPDDR4 configs get
// the exhaustive optimum of their own device (so runs log regret), and a
// memspec file that keeps the embedded memoryId but changes a timing gets
// none (it is another device).
func TestDeviceConfigsReportRegret(t *testing.T) {
	for _, c := range []struct{ file, key, objective string }{
		{"dram_ddr4_latency.toml", "random@MICRON_4Gb_DDR4-2400_8bit_A", "latency"},
		{"dram_ddr4_edp.toml", "random@MICRON_4Gb_DDR4-2400_8bit_A", "edp"},
		{"dram_lpddr4_latency.toml", "random@JEDEC_8Gb_LPDDR4-3200_16bit", "latency"},
		{"dram_latency.toml", "random", "latency"},
	} {
		cfg, err := experiments.LoadConfig(filepath.Join("..", "configs", c.file))
		if err != nil {
			t.Fatal(err)
		}
		task, alg, err := experiments.Build(&cfg, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if cl, ok := alg.(experiments.Closer); ok {
			cl.Close()
		}
		f, err := optimum.Load(c.key)
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.Entry(c.objective)
		if err != nil {
			t.Fatal(err)
		}
		opt := task.Design.Optimum()
		if opt == nil || opt.Value != want.Value || opt.Ties != want.Ties {
			t.Errorf("%s: optimum %+v, want the value %v of %s.json", c.file, opt, want.Value, c.key)
		}
		if task.Close != nil {
			task.Close()
		}
	}

	// The embedded DDR4 memspec with tRCD one clock longer, same memoryId.
	data, err := os.ReadFile(filepath.Join("..", "envs", "dram", "data", "JEDEC_4Gb_DDR4-2400_8bit_A.json"))
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.Replace(string(data), `"RCD": 16,`, `"RCD": 17,`, 1)
	if slow == string(data) {
		t.Fatal(`the embedded DDR4 memspec has no "RCD": 16`)
	}
	spec := filepath.Join(t.TempDir(), "slow.json")
	if err := os.WriteFile(spec, []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := experiments.LoadConfig(filepath.Join("..", "configs", "dram_ddr4_latency.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := experiments.ApplyOverride(&cfg, "env.dram.memspec="+spec); err != nil {
		t.Fatal(err)
	}
	task, alg, err := experiments.Build(&cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cl, ok := alg.(experiments.Closer); ok {
		cl.Close()
	}
	if task.Design.Optimum() != nil {
		t.Errorf("a changed memspec under the embedded memoryId got the shipped optimum %+v", task.Design.Optimum())
	}
	if task.Close != nil {
		task.Close()
	}
}
