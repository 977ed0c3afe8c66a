package comm

import (
	"bytes"
	"encoding/xml"
	"image"
	_ "image/png"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/simple"
)

// decidedCopy returns s with every row marked decided (the same picture
// without the undecided marks).
func decidedCopy(s *Snapshot) *Snapshot {
	c := *s
	c.ComputeMargins()
	for i := range c.Decided {
		c.Decided[i] = true
	}
	c.UndecidedRows = 0
	return &c
}

// TestExportUndecided: rows 1 and 2 of handSnapshot are undecided (a tie and
// a 0.001-logit gap). DOT says so in the graph's label and comment and draws
// exactly the edges into those receivers dashed and grey with the margin in
// the tooltip; GraphML carries the count, the comment and per-edge flags;
// the PNG differs from the same graph with every row decided; a decided
// graph has none of the marks.
func TestExportUndecided(t *testing.T) {
	s := handSnapshot()
	const note = "undecided: 2 of 4 rows within noise"
	if got := s.UndecidedNote(); got != note {
		t.Fatalf("note %q", got)
	}
	b, err := s.MarshalDOT(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`comment="`+note+`"`)) || !bytes.Contains(b, []byte(`k = 1\n`+note)) {
		t.Errorf("DOT lacks the graph-level note:\n%s", b)
	}
	dst := decGraph{simple.NewWeightedDirectedGraph(0, 0)}
	if err := dot.Unmarshal(b, dst); err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, e := range graph.EdgesOf(dst.Edges()) {
		de := e.(*decEdge)
		to := dst.Node(de.To().ID()).(*decNode).label
		undecided := to == "b" || to == "c"
		if de.dashed != undecided || de.grey != undecided || strings.Contains(de.tooltip, "margin") != undecided {
			t.Errorf("edge into %s: dashed %v grey %v tooltip %q", to, de.dashed, de.grey, de.tooltip)
		}
		if undecided {
			marked++
		}
	}
	if marked != 2 {
		t.Errorf("%d marked edges, want 2 (one into b, one into c)", marked)
	}
	if !strings.Contains(string(b), "margin 2.12, gap 0.001 logits") {
		t.Errorf("row c's tooltip lacks its margin and gap:\n%s", b)
	}

	g, err := s.MarshalGraphML(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Graph struct {
			Data []struct {
				Key string `xml:"key,attr"`
				V   string `xml:",chardata"`
			} `xml:"data"`
			Edges []struct {
				T    string `xml:"target,attr"`
				Data []struct {
					Key string `xml:"key,attr"`
					V   string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(g, &doc); err != nil {
		t.Fatal(err)
	}
	gd := map[string]string{}
	for _, d := range doc.Graph.Data {
		gd[d.Key] = d.V
	}
	if gd["undecided_rows"] != "2" || gd["comment"] != note {
		t.Errorf("GraphML graph data %v", gd)
	}
	for _, e := range doc.Graph.Edges {
		ed := map[string]string{}
		for _, d := range e.Data {
			ed[d.Key] = d.V
		}
		want := "false"
		if e.T == "n1" || e.T == "n2" {
			want = "true"
		}
		if ed["undecided"] != want || ed["margin"] == "" {
			t.Errorf("GraphML edge into %s: %v", e.T, ed)
		}
	}

	var und, dec bytes.Buffer
	if err := s.RenderPNG(&und, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	d := decidedCopy(s)
	if err := d.RenderPNG(&dec, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(und.Bytes(), dec.Bytes()) {
		t.Error("the PNG of an undecided graph is not marked")
	}

	// Every row decided: no note, no grey edge, comment empty.
	if d.UndecidedNote() != "" {
		t.Errorf("decided note %q", d.UndecidedNote())
	}
	b, _ = d.MarshalDOT(ExportOptions{})
	if bytes.Contains(b, []byte("grey")) || bytes.Contains(b, []byte("comment")) || bytes.Contains(b, []byte("dashed")) {
		t.Errorf("decided DOT carries undecided marks:\n%s", b)
	}
}

// TestComparePNG: the side-by-side heatmap has the requested size, depends
// on the truth (right panel) and on the learned graph (left panel), and
// rejects a truth of the wrong shape or with negative weights.
func TestComparePNG(t *testing.T) {
	s := handSnapshot()
	pairs := [][]float64{{0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0.5}, {0, 0, 0.5, 0}}
	other := [][]float64{{0, 0, 1, 0}, {0, 0, 0, 1}, {1, 0, 0, 0}, {0, 1, 0, 0}}
	render := func(s *Snapshot, v CompareView, opt ExportOptions) ([]byte, error) {
		var b bytes.Buffer
		err := s.RenderComparePNG(&b, v, opt)
		return b.Bytes(), err
	}
	a, err := render(s, CompareView{Truth: pairs, Title: "truth", Summary: "figures"}, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(a))
	if err != nil || format != "png" || img.Bounds().Dx() != 1280 || img.Bounds().Dy() != 520 {
		t.Fatalf("PNG %v %s %v", err, format, img.Bounds())
	}
	b, _ := render(s, CompareView{Truth: other, Title: "truth", Summary: "figures"}, ExportOptions{})
	c, _ := render(decidedCopy(s), CompareView{Truth: pairs, Title: "truth", Summary: "figures"}, ExportOptions{})
	sh, _ := render(s, CompareView{Truth: pairs, Shade: other, Title: "truth", Summary: "figures"}, ExportOptions{})
	if bytes.Equal(a, b) || bytes.Equal(a, c) || bytes.Equal(a, sh) {
		t.Error("the image does not depend on the truth, the undecided marks or the shade")
	}
	for _, v := range []CompareView{
		{Truth: pairs[:3]},
		{Truth: [][]float64{{0, -1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}}},
		{Truth: pairs, Shade: other[:2]},
	} {
		if _, err := render(s, v, ExportOptions{}); err == nil {
			t.Errorf("bad view %v accepted", v)
		}
	}
	if _, err := render(s, CompareView{Truth: pairs}, ExportOptions{Width: 100, Height: 100}); err == nil {
		t.Error("tiny PNG accepted")
	}
	dir := t.TempDir()
	if err := WriteComparePNG(filepath.Join(dir, "x.png"), s, CompareView{Truth: pairs[:3]}, ExportOptions{}); err == nil {
		t.Error("bad truth written")
	}
	assertOnlyFiles(t, dir)
}
