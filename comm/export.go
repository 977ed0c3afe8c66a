package comm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"

	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/encoding"
	"gonum.org/v1/gonum/graph/encoding/dot"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// GatedOffBelow is the receive-rate threshold under which a receiver counts
// as gated off in the exports: it listens in fewer than 5% of steps.
const GatedOffBelow = 0.05

// ExportOptions tunes the graph exports. The zero value is usable.
type ExportOptions struct {
	// Width and Height of the PNG heatmap in pixels; both 0 = the default
	// size (640 x 480; 1280 x 520 for a comparison figure). No valid size
	// has a zero side, so 0 hides no value.
	Width, Height int
}

// Edge is one directed edge of an exported graph, from sender to receiver.
type Edge struct {
	From, To int     // sender and receiver agent index
	Weight   float64 // the receiver's row-softmax probability of the sender
	GatedOff bool    // gating on and the receiver's receive rate is 0 or below the threshold
	// Undecided: the receiver's row is not decided by learning (its k-th
	// and (k+1)-th senders are within noise, see Decided); Margin and Gap
	// are that row's margin and gap (0 when the row has none: fixed
	// variants, full rows).
	Undecided   bool
	Margin, Gap float64
}

// Edges lists the exported edges: every off-diagonal 1 of the binary
// adjacency (self-loops are implicit: every agent always hears itself), in
// stable order of sender, then receiver. The weight of edge j -> i is
// Probabilities[i][j].
func (s *Snapshot) Edges(opt ExportOptions) []Edge {
	n := s.N()
	th := GatedOffBelow
	d := s.withMargins()
	var out []Edge
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if i == j || s.Adjacency[i][j] == 0 {
				continue
			}
			r := s.ReceiveRates[i]
			e := Edge{From: j, To: i, Weight: s.Probabilities[i][j],
				GatedOff: s.Gating && (r <= 0 || r < th), Undecided: !d.Decided[i]}
			if d.Margins != nil {
				e.Margin, e.Gap = d.Margins[i], d.Gaps[i]
			}
			out = append(out, e)
		}
	}
	return out
}

// UndecidedNote returns "undecided: R of N rows within noise" when some
// receiver rows are not decided by learning (see Decided), else "".
func (s *Snapshot) UndecidedNote() string {
	d := s.withMargins()
	if d.UndecidedRows == 0 {
		return ""
	}
	return fmt.Sprintf("undecided: %d of %d rows within noise", d.UndecidedRows, s.N())
}

// nodeIDs returns the DOT/GraphML node identifiers: the agent names when
// they are distinct and non-empty, else "agent<i>".
func (s *Snapshot) nodeIDs() []string {
	ids := make([]string, s.N())
	seen := map[string]bool{}
	ok := true
	for i, a := range s.Agents {
		if a == "" || seen[a] {
			ok = false
		}
		seen[a] = true
		ids[i] = a
	}
	if !ok {
		for i := range ids {
			ids[i] = "agent" + strconv.Itoa(i)
		}
	}
	return ids
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ---- DOT (gonum graph/encoding/dot) ----

type dotNode struct {
	id    int64
	dotID string
	attrs []encoding.Attribute
}

func (n dotNode) ID() int64                        { return n.id }
func (n dotNode) DOTID() string                    { return n.dotID }
func (n dotNode) Attributes() []encoding.Attribute { return n.attrs }

type dotEdge struct {
	f, t  dotNode
	w     float64
	attrs []encoding.Attribute
}

func (e dotEdge) From() graph.Node                 { return e.f }
func (e dotEdge) To() graph.Node                   { return e.t }
func (e dotEdge) ReversedEdge() graph.Edge         { return dotEdge{f: e.t, t: e.f, w: e.w, attrs: e.attrs} }
func (e dotEdge) Weight() float64                  { return e.w }
func (e dotEdge) Attributes() []encoding.Attribute { return e.attrs }

type dotGraph struct {
	*simple.WeightedDirectedGraph
	title, note string
}

type attrs []encoding.Attribute

func (a attrs) Attributes() []encoding.Attribute { return a }

func (g dotGraph) DOTAttributers() (gr, node, edge encoding.Attributer) {
	ga := attrs{{Key: "label", Value: g.title}, {Key: "labelloc", Value: "t"}}
	if g.note != "" {
		// A second title line (the encoder writes the newline as DOT's \n).
		ga[0].Value += "\n" + g.note + " (dashed grey edges)"
		ga = append(ga, encoding.Attribute{Key: "comment", Value: g.note})
	}
	return ga, attrs{{Key: "shape", Value: "ellipse"}}, attrs{}
}

func (s *Snapshot) title() string {
	t := fmt.Sprintf("iteration %d, %s graph, k = %d", s.Iteration, s.Variant, s.K)
	if s.Gating {
		t += ", gating on"
	}
	return t
}

// MarshalDOT encodes the snapshot as a DOT digraph with gonum's encoder:
// nodes in agent order, labelled with the agent names; one edge per sender ->
// receiver pair of Edges, with label = weight (3 significant digits),
// penwidth = PenScale*weight (full precision), and style=dashed when gated
// off. When rows are undecided the graph's label gets a second line and a
// comment "undecided: R of N rows within noise" (UndecidedNote), and the
// edges into undecided receivers are dashed and grey with the row's margin
// in their tooltip.
func (s *Snapshot) MarshalDOT(opt ExportOptions) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	g := dotGraph{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(0, 0), title: s.title(), note: s.UndecidedNote()}
	ids := s.nodeIDs()
	nodes := make([]dotNode, s.N())
	for i := range nodes {
		a := []encoding.Attribute{{Key: "label", Value: s.Agents[i]}}
		if s.Gating {
			a = append(a, encoding.Attribute{Key: "tooltip", Value: fmt.Sprintf("receive rate %.3f", s.ReceiveRates[i])})
		}
		nodes[i] = dotNode{id: int64(i), dotID: ids[i], attrs: a}
		g.AddNode(nodes[i])
	}
	for _, e := range s.Edges(opt) {
		a := []encoding.Attribute{
			{Key: "label", Value: strconv.FormatFloat(e.Weight, 'g', 3, 64)},
			{Key: "penwidth", Value: formatFloat(e.Weight)},
		}
		if e.GatedOff || e.Undecided {
			a = append(a, encoding.Attribute{Key: "style", Value: "dashed"})
		}
		if e.Undecided {
			a = append(a, encoding.Attribute{Key: "color", Value: "grey"},
				encoding.Attribute{Key: "tooltip", Value: fmt.Sprintf("undecided row: margin %.3g, gap %.3g logits (decided needs a margin >= %g and a gap >= %g)", e.Margin, e.Gap, DecidedMargin, DecidedGap)})
		}
		g.SetWeightedEdge(dotEdge{f: nodes[e.From], t: nodes[e.To], w: e.Weight, attrs: a})
	}
	b, err := dot.Marshal(g, "commgraph", "", "  ")
	if err != nil {
		return nil, fmt.Errorf("comm: DOT: %w", err)
	}
	return append(b, '\n'), nil
}

// writeDOT writes the DOT export to path atomically.
func writeDOT(path string, s *Snapshot, opt ExportOptions) error {
	b, err := s.MarshalDOT(opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileWith(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// ---- GraphML (encoding/xml) ----

type gmlKey struct {
	ID   string `xml:"id,attr"`
	For  string `xml:"for,attr"`
	Name string `xml:"attr.name,attr"`
	Type string `xml:"attr.type,attr"`
}

type gmlData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type gmlNode struct {
	ID   string    `xml:"id,attr"`
	Data []gmlData `xml:"data"`
}

type gmlEdge struct {
	ID     string    `xml:"id,attr"`
	Source string    `xml:"source,attr"`
	Target string    `xml:"target,attr"`
	Data   []gmlData `xml:"data"`
}

type gmlGraph struct {
	ID          string    `xml:"id,attr"`
	EdgeDefault string    `xml:"edgedefault,attr"`
	Data        []gmlData `xml:"data"`
	Nodes       []gmlNode `xml:"node"`
	Edges       []gmlEdge `xml:"edge"`
}

type gmlDoc struct {
	XMLName xml.Name `xml:"graphml"`
	XMLNS   string   `xml:"xmlns,attr"`
	Keys    []gmlKey `xml:"key"`
	Graph   gmlGraph `xml:"graph"`
}

// MarshalGraphML encodes the snapshot as GraphML: keys for the node label
// and receive rate, the edge weight, gated_off and undecided flags and the
// receiver row's margin, and the graph's iteration, variant, k, gating,
// undecided_rows and comment (UndecidedNote, empty when every row is
// decided); nodes n0..n(N-1) in agent order, edges as in Edges (source =
// sender, target = receiver).
func (s *Snapshot) MarshalGraphML(opt ExportOptions) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	doc := gmlDoc{
		XMLNS: "http://graphml.graphdrawing.org/xmlns",
		Keys: []gmlKey{
			{"label", "node", "label", "string"},
			{"receive_rate", "node", "receive_rate", "double"},
			{"weight", "edge", "weight", "double"},
			{"gated_off", "edge", "gated_off", "boolean"},
			{"undecided", "edge", "undecided", "boolean"},
			{"margin", "edge", "margin", "double"},
			{"iteration", "graph", "iteration", "int"},
			{"variant", "graph", "variant", "string"},
			{"k", "graph", "k", "int"},
			{"gating", "graph", "gating", "boolean"},
			{"undecided_rows", "graph", "undecided_rows", "int"},
			{"comment", "graph", "comment", "string"},
		},
		Graph: gmlGraph{ID: "commgraph", EdgeDefault: "directed", Data: []gmlData{
			{"iteration", strconv.Itoa(s.Iteration)},
			{"variant", string(s.Variant)},
			{"k", strconv.Itoa(s.K)},
			{"gating", strconv.FormatBool(s.Gating)},
			{"undecided_rows", strconv.Itoa(s.withMargins().UndecidedRows)},
			{"comment", s.UndecidedNote()},
		}},
	}
	for i, a := range s.Agents {
		doc.Graph.Nodes = append(doc.Graph.Nodes, gmlNode{ID: "n" + strconv.Itoa(i), Data: []gmlData{
			{"label", a}, {"receive_rate", formatFloat(s.ReceiveRates[i])}}})
	}
	for t, e := range s.Edges(opt) {
		doc.Graph.Edges = append(doc.Graph.Edges, gmlEdge{ID: "e" + strconv.Itoa(t),
			Source: "n" + strconv.Itoa(e.From), Target: "n" + strconv.Itoa(e.To),
			Data: []gmlData{{"weight", formatFloat(e.Weight)}, {"gated_off", strconv.FormatBool(e.GatedOff)},
				{"undecided", strconv.FormatBool(e.Undecided)}, {"margin", formatFloat(e.Margin)}}})
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("comm: GraphML: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// writeGraphML writes the GraphML export to path atomically.
func writeGraphML(path string, s *Snapshot, opt ExportOptions) error {
	b, err := s.MarshalGraphML(opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileWith(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// ---- SVG through Graphviz ----

// ErrNoGraphviz is returned by the SVG export when Graphviz's `dot` program
// is not on PATH.
var ErrNoGraphviz = errors.New("Graphviz is not installed: the `dot` program was not found on PATH (install it, e.g. `apt-get install graphviz`, or export DOT and render it elsewhere)")

// GraphvizAvailable reports whether `dot` is on PATH.
func GraphvizAvailable() bool {
	_, err := exec.LookPath("dot")
	return err == nil
}

// RenderSVG renders the DOT export with `dot -Tsvg`.
func (s *Snapshot) RenderSVG(ctx context.Context, opt ExportOptions) ([]byte, error) {
	bin, err := exec.LookPath("dot")
	if err != nil {
		return nil, fmt.Errorf("comm: SVG export: %w", ErrNoGraphviz)
	}
	src, err := s.MarshalDOT(opt)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-Tsvg")
	cmd.Stdin = bytes.NewReader(src)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("comm: SVG export: dot -Tsvg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out.Bytes(), nil
}

// writeSVG renders with Graphviz and writes path atomically; without
// Graphviz it returns an error wrapping ErrNoGraphviz and writes nothing.
func writeSVG(ctx context.Context, path string, s *Snapshot, opt ExportOptions) error {
	b, err := s.RenderSVG(ctx, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fsutil.WriteFileWith(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// Formats lists the export formats accepted by WriteFormat.
func Formats() []string { return []string{"json", "dot", "graphml", "png", "svg"} }

// WriteFormat writes s to path in the named format (see Formats); the
// SVG export needs Graphviz (ErrNoGraphviz otherwise).
func WriteFormat(ctx context.Context, path, format string, s *Snapshot, opt ExportOptions) error {
	switch format {
	case "json":
		return WriteJSON(path, s)
	case "dot":
		return writeDOT(path, s, opt)
	case "graphml":
		return writeGraphML(path, s, opt)
	case "png":
		return writePNG(path, s, opt)
	case "svg":
		return writeSVG(ctx, path, s, opt)
	}
	return fmt.Errorf("comm: unknown export format %q (allowed: json, dot, graphml, png, svg)", format)
}
