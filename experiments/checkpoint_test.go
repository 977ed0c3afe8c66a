package experiments_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl"
)

// TestDamagedCheckpointStopsResume: a truncated, bit-flipped or
// unknown-version newest checkpoint stops the resume with an error that
// names the file and says what to do, and touches nothing (no silent
// fallback, no restart from iteration 0). Doing what the message says
// (deleting the file) resumes from the previous checkpoint and finishes
// with the same files as the uninterrupted run.
func TestDamagedCheckpointStopsResume(t *testing.T) {
	cfg := fakeConfig(t, "damaged")
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := experiments.RunDir(&cfg, 1)
	want := map[string]string{}
	for _, f := range []string{"metrics.csv", "metrics.jsonl", "summary.json"} {
		want[f] = read(t, filepath.Join(dir, f))
	}
	for _, f := range []string{"DONE", "summary.json"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	ck := filepath.Join(dir, "checkpoints", "iter-000023.ckpt")
	good, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x01
	v9 := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(v9[8:], 9)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-100], "truncated"},
		{"bit flip", flipped, "checksum mismatch"},
		{"unknown version", v9, "format version 9"},
	} {
		if err := os.WriteFile(ck, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})
		if err == nil {
			t.Fatalf("%s: the run resumed from a damaged checkpoint", tc.name)
		}
		msg := err.Error()
		if !errors.Is(err, marl.ErrBadCheckpoint) || !strings.Contains(msg, ck) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "delete this file") {
			t.Errorf("%s: error %q: want the file, %q and what to do", tc.name, msg, tc.want)
		}
		if got := read(t, filepath.Join(dir, "metrics.jsonl")); got != want["metrics.jsonl"] {
			t.Errorf("%s: metrics.jsonl changed by the refused resume", tc.name)
		}
		if _, err := os.Stat(filepath.Join(dir, "checkpoints", "iter-000021.ckpt")); err != nil {
			t.Errorf("%s: the previous checkpoint is gone: %v", tc.name, err)
		}
	}
	if err := os.Remove(ck); err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for f, w := range want {
		if got := read(t, filepath.Join(dir, f)); got != w {
			t.Errorf("%s differs after resuming from the previous checkpoint", f)
		}
	}
}
