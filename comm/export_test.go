package comm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/attention"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/encoding"
	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// testSnapshot: a learned 5-agent graph with random logits, gating on, and
// agent 3 never receiving (so its incoming edges are gated off).
func testSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	const n = 5
	g, err := NewGraph(attention.NewParams(tensor.Float64), "graph/alpha", GraphConfig{N: n, Sparsity: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	copy(g.Alpha.Value.Data().([]float64), randVec(rand.New(rand.NewPCG(9, 9)), n*n))
	s, err := g.Snapshot(42, []string{"row buffer", "refresh", "page policy", "scheduler", "arbiter"},
		[]float64{1, 0.5, 0.9, 0, 0.02}, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshotJSONRoundTrip(t *testing.T) {
	s := testSnapshot(t)
	path := filepath.Join(t.TempDir(), "snap.json")
	if err := WriteJSON(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json2(s)
	b, _ := json2(got)
	if a != b {
		t.Fatalf("round trip differs:\n%s\n%s", a, b)
	}
	if got.K != 2 || got.Iteration != 42 || got.Variant != Learned || !got.Gating {
		t.Fatalf("fields lost: %+v", got)
	}
	for i, r := range got.Adjacency {
		c := 0
		for _, v := range r {
			c += v
		}
		if c != 3 {
			t.Fatalf("adjacency row %d has %d ones", i, c)
		}
	}
	// bad input: unknown field with its line, and a bad value
	bad := strings.Replace(a, `"k": 2,`, `"k": 2,`+"\n"+`  "bogus": 1,`, 1)
	if _, err := decodeSnapshot([]byte(bad)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field: err = %v", err)
	}
	bad = strings.Replace(a, `"iteration": 42`, `"iteration": "x"`, 1)
	if _, err := decodeSnapshot([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("type error should name line 2: %v", err)
	}
	s2 := *s
	s2.ReceiveRates = []float64{1, 2, 0, 0, 0}
	if err := WriteJSON(filepath.Join(t.TempDir(), "x.json"), &s2); err == nil {
		t.Fatal("receive rate 2 accepted")
	}
}

func json2(s *Snapshot) (string, error) {
	var b bytes.Buffer
	err := s.EncodeJSON(&b)
	return b.String(), err
}

// DOT decoding shim: a simple weighted directed graph whose nodes and edges
// take DOT attributes.
type decGraph struct{ *simple.WeightedDirectedGraph }

type decNode struct {
	graph.Node
	dotID, label string
}

func (n *decNode) SetDOTID(id string) { n.dotID = id }
func (n *decNode) SetAttribute(a encoding.Attribute) error {
	if a.Key == "label" {
		n.label = a.Value
	}
	return nil
}

type decEdge struct {
	simple.WeightedEdge
	label   float64
	dashed  bool
	grey    bool
	tooltip string
}

func (e *decEdge) SetAttribute(a encoding.Attribute) error {
	var err error
	switch a.Key {
	case "penwidth":
		e.W, err = strconv.ParseFloat(a.Value, 64)
	case "label":
		e.label, err = strconv.ParseFloat(a.Value, 64)
	case "style":
		e.dashed = a.Value == "dashed"
	case "color":
		e.grey = a.Value == "grey"
	case "tooltip":
		e.tooltip = a.Value
	default:
		return fmt.Errorf("unexpected edge attribute %q", a.Key)
	}
	return err
}

func (g decGraph) NewNode() graph.Node { return &decNode{Node: g.WeightedDirectedGraph.NewNode()} }
func (g decGraph) NewEdge(from, to graph.Node) graph.Edge {
	return &decEdge{WeightedEdge: g.WeightedDirectedGraph.NewWeightedEdge(from, to, math.NaN()).(simple.WeightedEdge)}
}
func (g decGraph) SetEdge(e graph.Edge) { g.WeightedDirectedGraph.SetWeightedEdge(e.(*decEdge)) }

// TestDOTRoundTrip: the DOT export parses back with gonum's decoder to the
// same nodes, edges (sender -> receiver), weights and dashed flags.
func TestDOTRoundTrip(t *testing.T) {
	s := testSnapshot(t)
	path := filepath.Join(t.TempDir(), "g.dot")
	if err := writeDOT(path, s, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := decGraph{simple.NewWeightedDirectedGraph(0, 0)}
	if err := dot.Unmarshal(data, dst); err != nil {
		t.Fatalf("dot.Unmarshal: %v\n%s", err, data)
	}
	byName := map[string]int{}
	for i, a := range s.Agents {
		byName[a] = i
	}
	if dst.Nodes().Len() != s.N() {
		t.Fatalf("%d nodes, want %d", dst.Nodes().Len(), s.N())
	}
	for _, nd := range graph.NodesOf(dst.Nodes()) {
		dn := nd.(*decNode)
		if _, ok := byName[dn.dotID]; !ok || dn.label != dn.dotID {
			t.Fatalf("node %q label %q not an agent name", dn.dotID, dn.label)
		}
	}
	want := s.Edges(ExportOptions{})
	if len(want) != s.N()*s.K {
		t.Fatalf("test setup: %d edges", len(want))
	}
	got := graph.EdgesOf(dst.Edges())
	if len(got) != len(want) {
		t.Fatalf("%d edges decoded, want %d", len(got), len(want))
	}
	dashed := 0
	for _, w := range want {
		u := dst.Node(nodeIDByName(dst, s.Agents[w.From]))
		v := dst.Node(nodeIDByName(dst, s.Agents[w.To]))
		e, ok := dst.WeightedEdge(u.ID(), v.ID()).(*decEdge)
		if !ok {
			t.Fatalf("edge %s -> %s missing", s.Agents[w.From], s.Agents[w.To])
		}
		if e.W != w.Weight {
			t.Fatalf("edge %d->%d penwidth weight %v, want %v", w.From, w.To, e.W, w.Weight)
		}
		if math.Abs(e.label-w.Weight) > 5e-3*w.Weight {
			t.Fatalf("edge %d->%d label %v, want ~%v", w.From, w.To, e.label, w.Weight)
		}
		if e.dashed != (w.GatedOff || w.Undecided) || e.grey != w.Undecided {
			t.Fatalf("edge %d->%d dashed %v grey %v, want gated off %v undecided %v", w.From, w.To, e.dashed, e.grey, w.GatedOff, w.Undecided)
		}
		// receivers 3 (rate 0) and 4 (rate 0.02 < 0.05) are gated off
		if w.GatedOff != (w.To == 3 || w.To == 4) {
			t.Fatalf("edge %d->%d gated-off flag %v", w.From, w.To, w.GatedOff)
		}
		if w.GatedOff {
			dashed++
		}
	}
	if dashed == 0 {
		t.Fatal("test setup: no gated-off edge")
	}
	// stable output
	b2, _ := s.MarshalDOT(ExportOptions{})
	if !bytes.Equal(b2, data) {
		t.Fatal("DOT export not stable")
	}
}

func countDiag(s *Snapshot) int {
	c := 0
	for i := range s.Adjacency {
		c += s.Adjacency[i][i]
	}
	return c
}

func nodeIDByName(g decGraph, name string) int64 {
	for _, n := range graph.NodesOf(g.Nodes()) {
		if n.(*decNode).dotID == name {
			return n.ID()
		}
	}
	return -1
}

// TestGraphML: well-formed XML (parsed token by token) with the same edges
// and weights.
func TestGraphML(t *testing.T) {
	s := testSnapshot(t)
	path := filepath.Join(t.TempDir(), "g.graphml")
	if err := writeGraphML(path, s, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("GraphML not well-formed: %v", err)
		}
	}
	var doc struct {
		Keys []struct {
			ID   string `xml:"id,attr"`
			For  string `xml:"for,attr"`
			Name string `xml:"attr.name,attr"`
		} `xml:"key"`
		Graph struct {
			Directed string `xml:"edgedefault,attr"`
			Nodes    []struct {
				ID   string `xml:"id,attr"`
				Data []struct {
					Key string `xml:"key,attr"`
					V   string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				S    string `xml:"source,attr"`
				T    string `xml:"target,attr"`
				Data []struct {
					Key string `xml:"key,attr"`
					V   string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	hasWeightKey := false
	for _, k := range doc.Keys {
		if k.ID == "weight" && k.For == "edge" {
			hasWeightKey = true
		}
	}
	if !hasWeightKey || doc.Graph.Directed != "directed" || len(doc.Graph.Nodes) != s.N() {
		t.Fatalf("GraphML structure: %+v", doc)
	}
	if doc.Graph.Nodes[2].Data[0].V != "page policy" {
		t.Fatalf("node 2 label %q", doc.Graph.Nodes[2].Data[0].V)
	}
	want := s.Edges(ExportOptions{})
	if len(doc.Graph.Edges) != len(want) {
		t.Fatalf("%d edges, want %d", len(doc.Graph.Edges), len(want))
	}
	for i, e := range doc.Graph.Edges {
		if e.S != fmt.Sprintf("n%d", want[i].From) || e.T != fmt.Sprintf("n%d", want[i].To) {
			t.Fatalf("edge %d: %s->%s, want %d->%d", i, e.S, e.T, want[i].From, want[i].To)
		}
		w, err := strconv.ParseFloat(e.Data[0].V, 64)
		if err != nil || e.Data[0].Key != "weight" || w != want[i].Weight {
			t.Fatalf("edge %d weight %q (key %s), want %v", i, e.Data[0].V, e.Data[0].Key, want[i].Weight)
		}
	}
}

func TestPNG(t *testing.T) {
	s := testSnapshot(t)
	dir := t.TempDir()
	for _, sz := range [][2]int{{0, 0}, {800, 600}} {
		path := filepath.Join(dir, fmt.Sprintf("h%d.png", sz[0]))
		if err := writePNG(path, s, ExportOptions{Width: sz[0], Height: sz[1]}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img, format, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, h := sz[0], sz[1]
		if w == 0 {
			w, h = 640, 480
		}
		if format != "png" || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Fatalf("%s: %s %v, want png %dx%d", path, format, img.Bounds(), w, h)
		}
	}
	if err := writePNG(filepath.Join(dir, "tiny.png"), s, ExportOptions{Width: 10, Height: 10}); err == nil {
		t.Fatal("tiny PNG accepted")
	}
	assertOnlyFiles(t, dir, "h0.png", "h800.png")
}

// assertOnlyFiles checks that no temp or partial file was left behind.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

func TestSVG(t *testing.T) {
	s := testSnapshot(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "g.svg")
	if !GraphvizAvailable() {
		t.Skip("Graphviz `dot` is not installed (apt-get update && apt-get install -y graphviz); SVG rendering not tested")
	}
	if err := writeSVG(context.Background(), path, s, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var root string
	for root == "" {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("SVG not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se.Name.Local
		}
	}
	if root != "svg" || !bytes.Contains(data, []byte("page policy")) || !bytes.Contains(data, []byte("stroke-dasharray")) {
		t.Fatalf("SVG lacks root/agent label/dashed edge (root %q)", root)
	}
}

func TestWriteErrorsLeaveNothing(t *testing.T) {
	s := testSnapshot(t)
	s.Probabilities[0][0] = math.NaN()
	dir := t.TempDir()
	for _, f := range []func(string) error{
		func(p string) error { return WriteJSON(p, s) },
		func(p string) error { return writeDOT(p, s, ExportOptions{}) },
		func(p string) error { return writeGraphML(p, s, ExportOptions{}) },
		func(p string) error { return writePNG(p, s, ExportOptions{}) },
	} {
		if err := f(filepath.Join(dir, "out")); err == nil {
			t.Fatal("invalid snapshot written")
		}
	}
	if err := writeDOT(filepath.Join(dir, "missing", "g.dot"), testSnapshot(t), ExportOptions{}); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	assertOnlyFiles(t, dir)
}

// TestExportFixedVariants: a one-agent graph and the none variant (no
// edges) still export valid DOT, GraphML, JSON and PNG.
func TestExportFixedVariants(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []GraphConfig{{N: 1, Sparsity: 0.4}, {N: 4, Variant: None}, {N: 3, Variant: File, Adjacency: [][]float64{{1, 1, 1}, {0, 1, 0}, {0, 0, 1}}}} {
		g := mustGraph(t, tensor.Float32, c)
		s, err := g.Snapshot(1, nil, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dir, string(g.Variant())+strconv.Itoa(g.N()))
		for _, err := range []error{WriteJSON(base+".json", s), writeDOT(base+".dot", s, ExportOptions{}),
			writeGraphML(base+".graphml", s, ExportOptions{}), writePNG(base+".png", s, ExportOptions{})} {
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
		}
		data, _ := os.ReadFile(base + ".dot")
		dst := decGraph{simple.NewWeightedDirectedGraph(0, 0)}
		if err := dot.Unmarshal(data, dst); err != nil {
			t.Fatal(err)
		}
		if dst.Nodes().Len() != g.N() || dst.Edges().Len() != len(s.Edges(ExportOptions{})) {
			t.Fatalf("%s: %d nodes %d edges", base, dst.Nodes().Len(), dst.Edges().Len())
		}
	}
	s, _ := ReadSnapshot(filepath.Join(dir, "file3.json"))
	if s.Logits != nil || s.K != 2 || math.Abs(s.Sparsity-2.0/6) > 1e-15 || len(s.Edges(ExportOptions{})) != 2 {
		t.Fatalf("file snapshot: %+v", s)
	}
}

// TestSVGWithoutGraphviz: with no `dot` on PATH the SVG export fails with
// ErrNoGraphviz and a message saying so, and writes nothing.
func TestSVGWithoutGraphviz(t *testing.T) {
	s := testSnapshot(t)
	dir := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	if GraphvizAvailable() {
		t.Fatal("dot found on an empty PATH")
	}
	err := writeSVG(context.Background(), filepath.Join(dir, "g.svg"), s, ExportOptions{})
	if !errors.Is(err, ErrNoGraphviz) || !strings.Contains(err.Error(), "Graphviz is not installed") {
		t.Fatalf("err = %v", err)
	}
	assertOnlyFiles(t, dir)
}

// TestDuplicateAgentNames: DOT node IDs fall back to agent<i> while the
// labels keep the names.
func TestDuplicateAgentNames(t *testing.T) {
	g := mustGraph(t, tensor.Float64, GraphConfig{N: 3, Variant: Full})
	s, err := g.Snapshot(0, []string{"x", "x", "y"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalDOT(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dst := decGraph{simple.NewWeightedDirectedGraph(0, 0)}
	if err := dot.Unmarshal(b, dst); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, n := range graph.NodesOf(dst.Nodes()) {
		labels[n.(*decNode).dotID] = n.(*decNode).label
	}
	if len(labels) != 3 || labels["agent0"] != "x" || labels["agent1"] != "x" || labels["agent2"] != "y" || dst.Edges().Len() != 6 {
		t.Fatalf("labels %v, %d edges", labels, dst.Edges().Len())
	}
}

func TestWriteFormat(t *testing.T) {
	s := testSnapshot(t)
	dir := t.TempDir()
	var want []string
	for _, f := range Formats() {
		if f == "svg" && !GraphvizAvailable() {
			continue
		}
		name := "g." + f
		if err := WriteFormat(context.Background(), filepath.Join(dir, name), f, s, ExportOptions{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want = append(want, name)
	}
	if err := WriteFormat(context.Background(), filepath.Join(dir, "g.pdf"), "pdf", s, ExportOptions{}); err == nil || !strings.Contains(err.Error(), "pdf") {
		t.Fatalf("pdf: %v", err)
	}
	slices.Sort(want)
	assertOnlyFiles(t, dir, want...)
}
