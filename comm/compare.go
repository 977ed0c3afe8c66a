package comm

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Comparison measures how well a learned communication graph recovers a
// ground truth of interacting agents (see Compare).
type Comparison struct {
	N int `json:"n"`
	// K is the number of other agents each receiver hears (the snapshot's
	// k); 0 when unknown (Compare on plain matrices).
	K int `json:"k"`
	// UndecidedRows counts the receiver rows decided by noise or ties
	// (Snapshot.UndecidedRows); 0 when unknown.
	UndecidedRows int `json:"undecided_rows"`
	// Directed: one item per ordered pair (receiver i hears sender j), i != j.
	Directed Recovery `json:"directed"`
	// Symmetrised: one item per unordered pair {i, j}.
	Symmetrised Recovery `json:"symmetrised"`
	// Receivers lists the directed per-receiver counts behind
	// Directed.HitRate, for every receiver with at least one true partner.
	Receivers []ReceiverHits `json:"receivers"`
}

// Recovery holds the figures of one view (directed or symmetrised).
type Recovery struct {
	Items       int `json:"items"`        // candidate items: N(N-1) ordered or N(N-1)/2 unordered pairs
	TrueItems   int `json:"true_items"`   // |E|: the items the truth marks as interacting
	ChosenItems int `json:"chosen_items"` // the items present in the exported (exact) graph
	// PrecisionAtE: the fraction of true items among the |E| highest-scoring
	// items. Items tied with the |E|-th score share the remaining places
	// evenly (the expectation over a uniformly random tie-break), so a flat
	// graph scores the base rate |E|/Items, not what an index order gives.
	PrecisionAtE float64 `json:"precision_at_e"`
	// Recall: the fraction of true items present in the exported graph.
	Recall float64 `json:"recall"`
	// Precision: the fraction of the exported graph's items that are true
	// (0 for an empty graph).
	Precision float64 `json:"precision"`
	// AUROC: the probability that a true item scores above a false one,
	// ties counting half (the Mann-Whitney U statistic / (|E| * (Items-|E|)),
	// computed exactly from mid-ranks). 1 = perfect ranking, 0.5 = chance or
	// all tied, 0 = reversed.
	AUROC float64 `json:"auroc"`
	// HitRate: the mean, over receivers with at least one true partner, of
	// hits / min(chosen, partners), where chosen is the number of senders
	// the receiver hears in the exported graph, partners its number of true
	// partners and hits the chosen senders that are true partners (0 for a
	// receiver that hears nobody). 1 = every receiver fills its slots with
	// true partners as far as it has any.
	HitRate float64 `json:"hit_rate"`
	// HitReceivers: the number of receivers HitRate averages over.
	HitReceivers int `json:"hit_receivers"`
}

// ReceiverHits is one receiver's directed hit count.
type ReceiverHits struct {
	Receiver     int `json:"receiver"`
	TruePartners int `json:"true_partners"` // senders j with truth[i][j] > 0
	Chosen       int `json:"chosen"`        // senders heard in the exported graph
	Hits         int `json:"hits"`          // chosen senders that are true partners
}

// Compare scores a learned graph against a ground truth. All three matrices
// are N x N with rows = receivers and columns = senders; diagonals are
// ignored.
//
//   - scores ranks the candidate edges (higher = more likely an edge): e.g.
//     Snapshot.Scores, the row-centred logits.
//   - adjacency is the exported graph (nonzero = receiver i hears sender j).
//   - truth holds nonnegative interaction weights; > 0 means that receiver i
//     should hear sender j. A pair interaction {i, j} is given by setting
//     both truth[i][j] and truth[j][i].
//
// The directed view treats every ordered pair (i hears j) as one item. The
// symmetrised view treats every unordered pair {i, j} as one item: it is true
// when either direction is, present in the exported graph when either
// direction is, and scored by the mean of the two directions' scores (the
// mean of row-centred logits: each direction counts equally, and one very
// confident direction cannot hide a very unconfident one as a max would).
// The symmetrised hit rate uses the symmetrised truth with each receiver's
// own chosen senders.
//
// It fails when the shapes disagree, a value is not finite (or a truth
// weight negative), or a view has no true item or only true items (then
// nothing can be ranked).
func Compare(scores [][]float64, adjacency [][]int, truth [][]float64) (*Comparison, error) {
	n := len(truth)
	if n < 2 {
		return nil, fmt.Errorf("comm: compare: truth has %d agents, want at least 2", n)
	}
	if len(scores) != n || len(adjacency) != n {
		return nil, fmt.Errorf("comm: compare: %d agents in the truth, %d in the scores, %d in the adjacency", n, len(scores), len(adjacency))
	}
	for i := 0; i < n; i++ {
		if len(truth[i]) != n || len(scores[i]) != n || len(adjacency[i]) != n {
			return nil, fmt.Errorf("comm: compare: row %d: want %d columns in truth, scores and adjacency (have %d, %d, %d)",
				i, n, len(truth[i]), len(scores[i]), len(adjacency[i]))
		}
		for j := 0; j < n; j++ {
			if v := truth[i][j]; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("comm: compare: truth[%d][%d] = %v, want finite and >= 0", i, j, v)
			}
			if v := scores[i][j]; i != j && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return nil, fmt.Errorf("comm: compare: score[%d][%d] = %v, not finite", i, j, v)
			}
		}
	}
	c := &Comparison{N: n}

	// Directed view.
	var dScore []float64
	var dTrue, dChosen []bool
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			dScore = append(dScore, scores[i][j])
			dTrue = append(dTrue, truth[i][j] > 0)
			dChosen = append(dChosen, adjacency[i][j] != 0)
		}
	}
	var err error
	if c.Directed, err = recovery(dScore, dTrue, dChosen); err != nil {
		return nil, fmt.Errorf("comm: compare: directed: %w", err)
	}
	// Symmetrised view.
	var sScore []float64
	var sTrue, sChosen []bool
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			sScore = append(sScore, (scores[i][j]+scores[j][i])/2)
			sTrue = append(sTrue, truth[i][j] > 0 || truth[j][i] > 0)
			sChosen = append(sChosen, adjacency[i][j] != 0 || adjacency[j][i] != 0)
		}
	}
	if c.Symmetrised, err = recovery(sScore, sTrue, sChosen); err != nil {
		return nil, fmt.Errorf("comm: compare: symmetrised: %w", err)
	}
	// Hit rates.
	var dSum, sSum float64
	for i := 0; i < n; i++ {
		var r ReceiverHits
		r.Receiver = i
		sPartners, sHits := 0, 0
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			chosen := adjacency[i][j] != 0
			dT := truth[i][j] > 0
			sT := dT || truth[j][i] > 0
			if chosen {
				r.Chosen++
			}
			if dT {
				r.TruePartners++
				if chosen {
					r.Hits++
				}
			}
			if sT {
				sPartners++
				if chosen {
					sHits++
				}
			}
		}
		if r.TruePartners > 0 {
			c.Receivers = append(c.Receivers, r)
			c.Directed.HitReceivers++
			dSum += hitRate(r.Hits, r.Chosen, r.TruePartners)
		}
		if sPartners > 0 {
			c.Symmetrised.HitReceivers++
			sSum += hitRate(sHits, r.Chosen, sPartners)
		}
	}
	c.Directed.HitRate = dSum / float64(c.Directed.HitReceivers)
	c.Symmetrised.HitRate = sSum / float64(c.Symmetrised.HitReceivers)
	return c, nil
}

func hitRate(hits, chosen, partners int) float64 {
	d := min(chosen, partners)
	if d == 0 {
		return 0
	}
	return float64(hits) / float64(d)
}

// recovery computes one view's figures except the hit rate.
func recovery(score []float64, truth, chosen []bool) (Recovery, error) {
	r := Recovery{Items: len(score)}
	nChosenTrue := 0
	for t, tr := range truth {
		if tr {
			r.TrueItems++
		}
		if chosen[t] {
			r.ChosenItems++
			if tr {
				nChosenTrue++
			}
		}
	}
	switch {
	case r.TrueItems == 0:
		return r, errors.New("the truth has no interacting pair: nothing to recover")
	case r.TrueItems == r.Items:
		return r, errors.New("the truth marks every pair as interacting: nothing to rank")
	}
	r.Recall = float64(nChosenTrue) / float64(r.TrueItems)
	if r.ChosenItems > 0 {
		r.Precision = float64(nChosenTrue) / float64(r.ChosenItems)
	}
	r.PrecisionAtE = precisionAt(score, truth, r.TrueItems)
	r.AUROC = auroc(score, truth)
	return r, nil
}

// precisionAt returns the fraction of true items among the m highest-scoring
// items (0 < m <= len(score)). Items tied with the m-th highest score share
// the places left above the tie evenly: each counts as (places left) /
// (tied items), the expected precision under a uniformly random tie-break.
func precisionAt(score []float64, truth []bool, m int) float64 {
	if m <= 0 || m > len(score) || len(truth) != len(score) {
		return math.NaN()
	}
	idx := sortedDesc(score)
	cut := score[idx[m-1]]
	above, aboveTrue, tied, tiedTrue := 0, 0, 0, 0
	for t, s := range score {
		switch {
		case s > cut:
			above++
			if truth[t] {
				aboveTrue++
			}
		case s == cut:
			tied++
			if truth[t] {
				tiedTrue++
			}
		}
	}
	hits := float64(aboveTrue) + float64(m-above)*float64(tiedTrue)/float64(tied)
	return hits / float64(m)
}

// auroc returns the area under the ROC curve of score for the binary labels
// truth: the Mann-Whitney U statistic of the true items' scores against the
// false items' scores divided by (positives * negatives), with tied scores
// given their mid-rank (a tied true/false pair counts half). Exact, no
// sampling; NaN when either class is empty. Mann & Whitney 1947; Hanley &
// McNeil 1982 for the AUC identity.
func auroc(score []float64, truth []bool) float64 {
	if len(truth) != len(score) {
		return math.NaN()
	}
	idx := sortedDesc(score)
	// Ascending ranks 1..n; a run of ties gets the mean of its ranks.
	n := len(score)
	rankSumPos, pos := 0.0, 0
	for a := 0; a < n; {
		b := a
		for b+1 < n && score[idx[b+1]] == score[idx[a]] {
			b++
		}
		// positions a..b in descending order are ascending ranks n-b..n-a
		mid := float64((n-b)+(n-a)) / 2
		for t := a; t <= b; t++ {
			if truth[idx[t]] {
				rankSumPos += mid
				pos++
			}
		}
		a = b + 1
	}
	neg := n - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	u := rankSumPos - float64(pos)*float64(pos+1)/2
	return u / (float64(pos) * float64(neg))
}

// sortedDesc returns the indices of score by decreasing score (stable).
func sortedDesc(score []float64) []int {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
	return idx
}

// Scores returns the N x N matrix that ranks the snapshot's candidate edges
// for Compare. For a learned graph: the logits minus the mean of the row's
// off-diagonal logits. A receiver's choice depends only on differences within
// its row (softmax and top-k ignore a constant added to a row), so centring
// removes an offset that carries no meaning and would otherwise decide the
// ranking across rows. For fixed variants (no logits): the 0/1 adjacency.
// Diagonals are 0 (ignored by Compare).
func (s *Snapshot) Scores() [][]float64 {
	n := s.N()
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		if s.Logits == nil {
			for j := range out[i] {
				if j != i {
					out[i][j] = float64(s.Adjacency[i][j])
				}
			}
			continue
		}
		mean := 0.0
		for j, v := range s.Logits[i] {
			if j != i {
				mean += v
			}
		}
		if n > 1 {
			mean /= float64(n - 1)
		}
		for j, v := range s.Logits[i] {
			if j != i {
				out[i][j] = v - mean
			}
		}
	}
	return out
}

// Compare compares the snapshot's graph with truth (N x N, rows = receivers,
// see the package function Compare): scores are s.Scores(), the exported
// graph is s.Adjacency, and the result carries s.K and the undecided rows.
func (s *Snapshot) Compare(truth [][]float64) (*Comparison, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(truth) != s.N() {
		return nil, fmt.Errorf("comm: compare: the truth has %d agents, the graph %d", len(truth), s.N())
	}
	c, err := Compare(s.Scores(), s.Adjacency, truth)
	if err != nil {
		return nil, err
	}
	c.K = s.K
	c.UndecidedRows = s.withMargins().UndecidedRows
	return c, nil
}

// GroupSenders measures how much a group of receivers listens within the
// group: of the senders chosen (adjacency, off-diagonal) by the receivers in
// group, inGroup are themselves in the group, out of chosen. Chance is the
// fraction a receiver choosing uniformly among the other N-1 agents would
// reach: (|group|-1)/(N-1). Used for the DRAM question "do the interacting
// knobs listen to each other?". Indices must be distinct and in [0, N).
func GroupSenders(adjacency [][]int, group []int) (inGroup, chosen int, chance float64, err error) {
	n := len(adjacency)
	in := make([]bool, n)
	for _, g := range group {
		if g < 0 || g >= n || in[g] {
			return 0, 0, 0, fmt.Errorf("comm: group: index %d out of range [0, %d) or repeated", g, n)
		}
		in[g] = true
	}
	if len(group) < 2 || n < 2 {
		return 0, 0, 0, fmt.Errorf("comm: group: want at least 2 of at least 2 agents, have %d of %d", len(group), n)
	}
	for _, i := range group {
		if len(adjacency[i]) != n {
			return 0, 0, 0, fmt.Errorf("comm: group: adjacency row %d has %d entries, want %d", i, len(adjacency[i]), n)
		}
		for j, v := range adjacency[i] {
			if j == i || v == 0 {
				continue
			}
			chosen++
			if in[j] {
				inGroup++
			}
		}
	}
	return inGroup, chosen, float64(len(group)-1) / float64(n-1), nil
}
