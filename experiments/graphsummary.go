package experiments

import (
	"slices"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs"
)

// GraphSummary says in words what a run's learned graph says: whom each
// agent listens to, how decided each row is, and, when the task has a known
// interaction truth (a planted synthetic space), how well the graph
// recovers it.
type GraphSummary struct {
	Variant   string `json:"variant"`
	K         int    `json:"k"` // other agents each receiver hears
	Iteration int    `json:"iteration"`
	// Rows: one per receiver, in agent order.
	Rows []GraphRow `json:"rows"`
	// UndecidedRows counts the rows decided by noise or ties (comm.Decided).
	UndecidedRows int `json:"undecided_rows"`
	// Truth compares the graph with the task's planted interactions or, on
	// a design space with an exhaustive sweep (log.truth_sweep), with the
	// interactions measured on it (nil when there are neither).
	Truth *comm.Comparison `json:"truth,omitempty"`
	// TruthSource says what Truth compares with: "planted", or the measured
	// pairs and the sweep table they come from.
	TruthSource string `json:"truth_source,omitempty"`
	// OneStep marks a design-space task in the one-step (bandit) form,
	// where every agent observes the same constant and messages carry
	// nothing.
	OneStep bool `json:"one_step,omitempty"`
}

// GraphRow is one receiver's senders (strongest first) and its deciding
// margin (gap between the k-th and (k+1)-th logit in units of the row's
// spread; omitted for fixed graphs and full rows).
type GraphRow struct {
	Agent   string   `json:"agent"`
	Senders []string `json:"senders"`
	Margin  *float64 `json:"margin,omitempty"`
	Decided bool     `json:"decided"`
}

// plantedPairs is a design space with a known interaction graph
// (synthetic.Space).
type plantedPairs interface {
	PairVariance(a, b int) float64
}

// summariseGraph builds the GraphSummary of a snapshot; space and measured
// may be nil. A planted truth (synthetic spaces) goes before a measured one.
func summariseGraph(s *comm.Snapshot, space envs.DesignSpace, measured *measuredTruth) *GraphSummary {
	n := s.N()
	gs := &GraphSummary{Variant: string(s.Variant), K: s.K, Iteration: s.Iteration}
	scores := s.Scores()
	margins := s.Margins
	for i := 0; i < n; i++ {
		row := GraphRow{Agent: s.Agents[i], Decided: true}
		var js []int
		for j := 0; j < n; j++ {
			if j != i && s.Adjacency[i][j] != 0 {
				js = append(js, j)
			}
		}
		slices.SortStableFunc(js, func(a, b int) int {
			switch {
			case scores[i][a] > scores[i][b]:
				return -1
			case scores[i][a] < scores[i][b]:
				return 1
			}
			return 0
		})
		for _, j := range js {
			row.Senders = append(row.Senders, s.Agents[j])
		}
		if i < len(margins) {
			m := margins[i]
			row.Margin = &m
		}
		if i < len(s.Decided) {
			row.Decided = s.Decided[i]
		}
		if !row.Decided {
			gs.UndecidedRows++
		}
		gs.Rows = append(gs.Rows, row)
	}
	for space != nil {
		if u, ok := space.(interface{ Unwrap() envs.DesignSpace }); ok {
			space = u.Unwrap()
			continue
		}
		break
	}
	if pp, ok := space.(plantedPairs); ok && len(space.Knobs()) == n {
		truth := make([][]float64, n)
		for i := range truth {
			truth[i] = make([]float64, n)
			for j := range truth[i] {
				if i != j {
					truth[i][j] = pp.PairVariance(i, j)
				}
			}
		}
		if c, err := s.Compare(truth); err == nil {
			gs.Truth, gs.TruthSource = c, "planted"
		}
	}
	if gs.Truth == nil && measured != nil {
		if truth := measured.aligned(s.Agents); truth != nil {
			if c, err := s.Compare(truth); err == nil {
				gs.Truth, gs.TruthSource = c, measured.describe()
			}
		}
	}
	return gs
}
