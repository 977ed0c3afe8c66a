package multichan

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/envs/fsutil"
)

var sweeps = flag.String("sweeps", "", "directory of dram-<trace>.sweep tables: regenerate summaries/<trace>.json from them")

// TestGenerateSummaries regenerates the shipped channel summaries from
// complete sweeps (a command, not a test; it is skipped without -sweeps):
//
//	for t in stream random cloud-1 cloud-2; do commgraph dram sweep --trace $t --out runs/sweep/dram-$t.sweep; done
//	go test ./envs/multichan -run TestGenerateSummaries -sweeps runs/sweep
func TestGenerateSummaries(t *testing.T) {
	if *sweeps == "" {
		t.Skip("needs -sweeps DIR")
	}
	for _, tr := range DefaultTraces() {
		tb, err := exhaustive.Read(filepath.Join(*sweeps, "dram-"+tr+".sweep"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Summarize(tb, tr, "commgraph dram sweep --trace "+tr+" --out runs/sweep/dram-"+tr+".sweep && go test ./envs/multichan -run TestGenerateSummaries -sweeps runs/sweep")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteFile(filepath.Join("summaries", tr+".json"), b); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d distinct (time, energy) pairs", tr, len(s.Points))
	}
	_ = os.Remove(filepath.Join("summaries", "placeholder.json"))
}
