package experiments

import "testing"

// TestSummaryUnit: the summary names a unit only when the metric suffix is
// one (the synthetic space's exp_y is not in "y").
func TestSummaryUnit(t *testing.T) {
	for in, want := range map[string]string{
		"ns": "ns", "pJ*ns": "pJ*ns", "mW": "mW", "1": "1", "": "",
		"y": "", "y*ns": "", "Gbps": "Gbps",
	} {
		if got := summaryUnit(in); got != want {
			t.Errorf("summaryUnit(%q) = %q, want %q", in, got, want)
		}
	}
}
