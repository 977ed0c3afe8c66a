package comm

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/commgraph/commgraph/attention"
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

// FuzzParseAdjacency: the adjacency reader never panics; every error names
// the file; whatever it accepts is a non-empty square matrix of finite
// values >= 0 that reads back identically from its text and JSON forms and
// that the File variant accepts or refuses with an error (never a panic).
func FuzzParseAdjacency(f *testing.F) {
	for _, s := range []string{
		"# receivers x senders\n1 1 0\n\n0,1,0\n1\t0 1\n",
		"[[1,1,0],[0,1,0],[1,0,1]]",
		"[[0.5]]",
		"1 0\n0 x\n",
		"1 0 0\n0 1\n1 1 1",
		"1 0\n0 -1\n",
		"[[1,0],[0,1]",
		"\n# nothing\n",
		"1e308 0\n0 NaN\n",
		"[[1],null]",
		"  [ [2, 0], [0, 3] ] trailing",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseAdjacency(data, "fuzz.adj")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.adj") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(m) == 0 {
			t.Fatal("accepted an empty matrix")
		}
		var text strings.Builder
		for _, r := range m {
			if len(r) != len(m) {
				t.Fatalf("accepted a %d x %d row", len(m), len(r))
			}
			for j, v := range r {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("accepted value %v", v)
				}
				if j > 0 {
					text.WriteByte(' ')
				}
				text.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
			text.WriteByte('\n')
		}
		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range [][]byte{[]byte(text.String()), js} {
			back, err := parseAdjacency(form, "fuzz.adj")
			if err != nil || !reflect.DeepEqual(back, m) {
				t.Fatalf("%q read back as %v, %v; want %v", form, back, err, m)
			}
		}
		if len(m) <= 16 {
			_, _ = NewGraph(attention.NewParams(tensor.Float64), "graph/alpha", GraphConfig{N: len(m), Variant: File, Adjacency: m})
		}
	})
}
