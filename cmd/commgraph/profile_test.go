package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileEnv: COMMGRAPH_CPUPROFILE writes a pprof profile (gzip) of
// the command; a path that cannot be created is a usage error (exit 2)
// naming the variable, and the command does not run.
func TestCPUProfileEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cpu.out")
	t.Setenv(profileEnv, path)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"version"}, &out, &errb); code != exitOK {
		t.Fatalf("version with a profile: exit %d, stderr %q", code, errb.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile is not a gzip-compressed pprof file (%d bytes)", len(b))
	}
	t.Setenv(profileEnv, filepath.Join(dir, "no", "such", "dir", "cpu.out"))
	out.Reset()
	errb.Reset()
	if code := dispatch([]string{"version"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), profileEnv) {
		t.Fatalf("unwritable profile: exit %d (want %d), stderr %q", code, exitUsage, errb.String())
	}
	if out.Len() != 0 {
		t.Fatalf("the command ran despite the bad profile path: %q", out.String())
	}
}
