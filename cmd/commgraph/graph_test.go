package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image"
	"image/gif"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/experiments/experimentstest"
)

// fakeRunDir runs the fake algorithm (snapshots every 2 iterations of 7).
func fakeRunDir(t *testing.T) string {
	t.Helper()
	experimentstest.Register()
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "base.toml")
	writeFile(t, cfg, sweepBaseTOML)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", cfg, "--out", filepath.Join(tmp, "runs"), "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	return filepath.Join(tmp, "runs", "base", "seed-1")
}

func TestGraphExport(t *testing.T) {
	run := fakeRunDir(t)
	want, err := comm.ReadSnapshot(filepath.Join(run, "graphs", "iter-000007.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// DOT of the newest snapshot parses back with gonum's decoder to the same edges.
	if code := dispatch([]string{"graph", "export", run, "--format", "dot"}, &out, &errb); code != 0 {
		t.Fatalf("dot: %d %s", code, errb.String())
	}
	data, err := os.ReadFile(filepath.Join(run, "graph-iter-000007.dot"))
	if err != nil {
		t.Fatal(err)
	}
	g := simple.NewDirectedGraph()
	if err := dot.Unmarshal(data, g); err != nil {
		t.Fatalf("DOT does not parse: %v\n%s", err, data)
	}
	if got, wantN := g.Edges().Len(), len(want.Edges(comm.ExportOptions{})); got != wantN || wantN == 0 {
		t.Errorf("DOT has %d edges, snapshot %d", got, wantN)
	}
	// GraphML is well-formed XML.
	out.Reset()
	if code := dispatch([]string{"graph", "export", run, "--format", "graphml", "--out", "-"}, &out, &errb); code != 0 {
		t.Fatalf("graphml: %d %s", code, errb.String())
	}
	dec := xml.NewDecoder(bytes.NewReader(out.Bytes()))
	edges := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("GraphML not well-formed: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "edge" {
			edges++
		}
	}
	if edges != len(want.Edges(comm.ExportOptions{})) {
		t.Errorf("GraphML has %d edges", edges)
	}
	// PNG heatmap of an earlier iteration, by --iter.
	png := filepath.Join(t.TempDir(), "g.png")
	if code := dispatch([]string{"graph", "export", run, "--iter", "4", "--format", "png", "--out", png}, &out, &errb); code != 0 {
		t.Fatalf("png: %d %s", code, errb.String())
	}
	f, _ := os.Open(png)
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 640 || img.Bounds().Dy() != 480 {
		t.Errorf("PNG: %v %v", err, img)
	}
	// --all: one file per logged iteration (2, 4, 6 and the last, 7).
	dir := filepath.Join(t.TempDir(), "all")
	out.Reset()
	if code := dispatch([]string{"graph", "export", run, "--all", "--format", "json", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("--all: %d %s", code, errb.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 4 {
		t.Errorf("--all wrote %v", files)
	}
	// A checkpoint of an iteration: the snapshot of that iteration.
	out.Reset()
	if code := dispatch([]string{"graph", "export", filepath.Join(run, "checkpoints", "iter-000007.ckpt"), "--format", "json", "--out", "-"}, &out, &errb); code != 0 {
		t.Fatalf("checkpoint: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"iteration": 7`) {
		t.Errorf("checkpoint export: %s", out.String())
	}
	// A checkpoint whose snapshot was not logged: the algorithm is rebuilt
	// from config.toml and loaded to take it.
	logged, _ := os.ReadFile(filepath.Join(run, "graphs", "iter-000006.json"))
	os.Remove(filepath.Join(run, "graphs", "iter-000006.json"))
	rebuilt := filepath.Join(t.TempDir(), "g6.json")
	if code := dispatch([]string{"graph", "export", filepath.Join(run, "checkpoints", "iter-000006.ckpt"), "--format", "json", "--out", rebuilt}, &out, &errb); code != 0 {
		t.Fatalf("checkpoint rebuild: %d %s", code, errb.String())
	}
	a, _ := comm.ReadSnapshot(rebuilt)
	var b comm.Snapshot
	if err := json.Unmarshal(logged, &b); err != nil || a == nil || a.Iteration != 6 || a.Probabilities[0][1] != b.Probabilities[0][1] {
		t.Errorf("rebuilt snapshot %+v differs from the logged one %+v (%v)", a, b, err)
	}
	// Bad input.
	errb.Reset()
	if code := dispatch([]string{"graph", "export", run, "--format", "bmp"}, &out, &errb); code != 2 {
		t.Errorf("--format bmp: %d", code)
	}
	if code := dispatch([]string{"graph", "export", run, "--iter", "5", "--format", "dot"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "iteration 5") {
		t.Errorf("--iter 5 (not logged): %d %s", code, errb.String())
	}
}

func TestGraphExportSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz not installed (.ci/run installs it)")
	}
	run := fakeRunDir(t)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"graph", "export", run, "--format", "svg", "--out", "-"}, &out, &errb); code != 0 {
		t.Fatalf("svg: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "<svg") {
		t.Errorf("not SVG: %.200s", out.String())
	}
}

// TestGraphExportGIF: --format gif animates every logged snapshot (2, 4,
// 6, 7), each frame the PNG heatmap of that iteration; --iter is refused.
func TestGraphExportGIF(t *testing.T) {
	run := fakeRunDir(t)
	p := filepath.Join(t.TempDir(), "g.gif")
	var out, errb bytes.Buffer
	if code := dispatch([]string{"graph", "export", run, "--format", "gif", "--out", p}, &out, &errb); code != 0 {
		t.Fatalf("gif: %d %s", code, errb.String())
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	anim, err := gif.DecodeAll(f)
	f.Close()
	if err != nil || len(anim.Image) != 4 || anim.Image[0].Bounds().Dx() != 640 || !strings.Contains(out.String(), "4 frames: iterations 2 to 7") {
		t.Fatalf("gif: %v, %d frames; %s", err, len(anim.Image), out.String())
	}
	// The frames differ where the graph changed: the first and the last
	// frame are not the same picture, and the last equals the PNG of
	// iteration 7 up to the palette.
	png7 := filepath.Join(t.TempDir(), "g7.png")
	if code := dispatch([]string{"graph", "export", run, "--format", "png", "--out", png7}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	pf, _ := os.Open(png7)
	img, _, err := image.Decode(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	last, first := anim.Image[3], anim.Image[0]
	same, diff := true, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if int(last.ColorIndexAt(x, y)) != last.Palette.Index(img.At(x, y)) {
				same = false
			}
			if last.ColorIndexAt(x, y) != first.ColorIndexAt(x, y) {
				diff++
			}
		}
	}
	if !same || diff == 0 {
		t.Errorf("last frame equals the iteration-7 PNG: %v; pixels differing between the first and last frame: %d", same, diff)
	}
	if code := dispatch([]string{"graph", "export", run, "--format", "gif", "--iter", "4"}, &out, &errb); code != 2 {
		t.Errorf("gif with --iter: exit %d", code)
	}
}
