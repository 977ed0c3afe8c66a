package comm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestReadAdjacency(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := []float64{1, 1, 0, 0, 1, 0, 1, 0, 1}
	for _, p := range []string{
		write("a.txt", "# receivers x senders\n1 1 0\n\n0,1,0\n1\t0 1\n"),
		write("a.json", "[[1,1,0],[0,1,0],[1,0,1]]"),
	} {
		m, err := ReadAdjacency(p)
		if err != nil {
			t.Fatal(err)
		}
		g := mustGraph(t, tensor.Float64, GraphConfig{N: 3, Variant: File, Adjacency: m})
		assertClose(t, p, g.Exact(), want, 0)
	}
	for body, msg := range map[string]string{
		"1 0\n0 x\n":        "b.txt:2",
		"1 0 0\n0 1\n1 1 1": "row 2",
		"1 0\n0 -1\n":       "[2][2]",
		"[[1,0],[0,1]":      "b.txt",
		"\n# nothing\n":     "empty",
	} {
		_, err := ReadAdjacency(write("b.txt", body))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: err = %v, want mention of %q", body, err, msg)
		}
	}
}
