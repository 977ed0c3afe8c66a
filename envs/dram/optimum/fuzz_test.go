package optimum

import (
	"reflect"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
)

// FuzzParse: the optimum-file reader (env.dram.optimum_file takes any
// user file) never panics; every error names the file; whatever it accepts
// has the DRAM space's knob count in every entry, survives a JSON round
// trip unchanged, finds each of its objectives by name, and turns into a
// simulator configuration and a regret without panicking.
func FuzzParse(f *testing.F) {
	for _, tr := range Traces() {
		data, err := files.ReadFile(tr + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{}`,
		`{"trace":"t","objectives":[{"objective":"latency","values":[0,0,0,0,0,0,0,0,0,0],"value":1}]}`,
		`{"trace":"t","objectives":[{"objective":"edp","values":[9,9,9,9,9,9,9,9,9,9],"value":-1}]}`,
		`{"trace":"t","objectives":[{"objective":"power","values":[0]}]}`,
		`{"objectives":[{"objective":"nosuch","values":[0,0,0,0,0,0,0,0,0,0],"config":{"a":"b"}}]}`,
		`{"unknown":1}`,
		`{"configs":1e400}`,
		`[1,2]`,
		`{"trace":"t"} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, e := range file.Objectives {
			if len(e.Values) != dram.NumKnobs {
				t.Fatalf("accepted %d knob values", len(e.Values))
			}
			got, err := file.Entry(e.Objective)
			if err != nil || got.Objective != e.Objective {
				t.Fatalf("Entry(%q): %v", e.Objective, err)
			}
			_, _ = e.DramConfig()
			_, _ = e.Regret([]float64{1, 2, 3})
		}
		js, err := file.JSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(js, "fuzz.json")
		if err != nil || !reflect.DeepEqual(back, file) {
			t.Fatalf("JSON round trip: %v\n%s", err, js)
		}
	})
}
