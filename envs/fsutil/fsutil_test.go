package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteFileReplacesWholeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new content")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new content" {
		t.Fatalf("content %q, %v", b, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only a.json", len(ents))
	}
}

// A failed write leaves the old file as it was and no temporary file; the
// error names the target.
func TestWriteFileWithFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.bin")
	if err := WriteFile(path, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileWith(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want boom naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "kept" {
		t.Errorf("old content became %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a temporary file was left: %v", ents)
	}
}

// RemoveTemps must match the names WriteFileWith really uses (the comm copy
// of the writer once used a pattern the cleanup glob missed) and nothing else.
func TestRemoveTempsMatchesTheWritersNames(t *testing.T) {
	dir := t.TempDir()
	var used string
	_ = WriteFileWith(filepath.Join(dir, "iter-000004.ckpt"), func(w io.Writer) error {
		used = filepath.Base(w.(*os.File).Name())
		return errors.New("killed")
	})
	if !isTemp(used) {
		t.Fatalf("the writer's temporary name %q is not recognised by isTemp", used)
	}
	// A killed process leaves such a file behind; recreate it, with
	// neighbours that must survive.
	keep := []string{"iter-000004.ckpt", ".bashrc.tmp", "notes.tmp", ".x.12a.tmp", ".x.tmp", "..7.tmp", ".y.123.tmp.bak"}
	for _, n := range append([]string{used, ".metrics.jsonl.9876.tmp"}, keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveTemps(dir); err != nil {
		t.Fatal(err)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Errorf("after RemoveTemps: %v, want %v", left, keep)
	}
	if err := RemoveTemps(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing directory: %v", err)
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".a.1.tmp":               true,
		".summary.json.4711.tmp": true,
		".a.b.c.0.tmp":           true,
		"a.1.tmp":                false,
		".a.tmp":                 false,
		".a..tmp":                false,
		"..1.tmp":                false,
		".a.1x.tmp":              false,
		".a.1.tmp2":              false,
		".tmp":                   false,
	} {
		if got := isTemp(name); got != want {
			t.Errorf("isTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
