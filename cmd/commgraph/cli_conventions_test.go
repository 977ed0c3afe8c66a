package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// leafCommands lists the path of every command that runs (not groups).
func leafCommands() [][]string {
	var out [][]string
	var walk func(prefix []string, m map[string]*command)
	walk = func(prefix []string, m map[string]*command) {
		for name, c := range m {
			p := append(slices.Clone(prefix), name)
			if c.run != nil {
				out = append(out, p)
			}
			walk(p, c.sub)
		}
	}
	walk(nil, commands)
	return out
}

// TestEveryCommandHelpHasExample: --help on every command exits 0 and
// shows its usage, flags and an example of that very command; no example
// is kept for a command that does not exist.
func TestEveryCommandHelpHasExample(t *testing.T) {
	leaves := leafCommands()
	if len(leaves) < 10 {
		t.Fatalf("only %d commands found", len(leaves))
	}
	known := map[string]bool{}
	for _, p := range leaves {
		name := strings.Join(p, " ")
		known[name] = true
		var out, errb bytes.Buffer
		code := dispatch(append(slices.Clone(p), "--help"), &out, &errb)
		help := out.String() + errb.String()
		if code != 0 || !strings.Contains(help, "usage: commgraph "+name) {
			t.Errorf("%s --help: exit %d\n%s", name, code, help)
			continue
		}
		i := strings.Index(help, "\nexamples:\n")
		if i < 0 || !strings.Contains(help[i:], "commgraph "+name) {
			t.Errorf("%s --help shows no example of itself:\n%s", name, help)
		}
	}
	for name := range examples {
		if !known[name] {
			t.Errorf("examples for %q, which is not a command", name)
		}
	}
}

// TestVersion: the facts come from the embedded build information; the
// command prints them as text or JSON.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/commgraph/commgraph", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-30T18:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	f := readBuildFacts(bi, true)
	if f.Version != "v0.3.0" || f.Commit != "0123abcd" || f.Time != "2026-11-30T18:00:00Z" || !f.Modified || f.GoVersion != "go1.26.0" {
		t.Fatalf("facts %+v", f)
	}
	var b bytes.Buffer
	f.write(&b)
	for _, want := range []string{"commgraph v0.3.0 (module github.com/commgraph/commgraph)", "commit: 0123abcd (2026-11-30T18:00:00Z), with uncommitted changes", "go: go1.26.0 " + runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("version text lacks %q:\n%s", want, b.String())
		}
	}
	if f := readBuildFacts(nil, false); f.Commit != "" || f.GoVersion != runtime.Version() {
		t.Errorf("without build info: %+v", f)
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"version", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("version --json: %d %s", code, errb.String())
	}
	var got buildFacts
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.GoVersion != runtime.Version() || got.Version == "" {
		t.Errorf("version --json: %v %+v", err, got)
	}
	if code := dispatch([]string{"version", "extra"}, &out, &errb); code != 2 {
		t.Errorf("version with an argument: exit %d", code)
	}
}

// TestCompletion: the candidates for partial command lines, and the bash
// script run by a real bash against this binary (through the helper
// process) completes commands and flags.
func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{""}, "completion dram eval graph report run sweep version"},
		{[]string{"rep"}, "report"},
		{[]string{"dram", "s"}, "sim sweep"},
		{[]string{"report", "--p"}, "--pareto"},
		{[]string{"sweep", "--l"}, "--list"},
		{[]string{"dram", "sweep", "--f"}, "--fix"},
		{[]string{"completion", ""}, "bash fish zsh"},
		{[]string{"run", ""}, ""}, // a file name: the shell completes it
		{[]string{"nope", ""}, ""},
	} {
		if got := strings.Join(completeWords(tc.words), " "); got != tc.want {
			t.Errorf("complete %q = %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var out, errb bytes.Buffer
		if code := dispatch([]string{"completion", sh}, &out, &errb); code != 0 || !strings.Contains(out.String(), "commgraph completion __complete") {
			t.Errorf("completion %s: exit %d\n%s", sh, code, out.String())
		}
		if path, err := exec.LookPath(sh); err == nil {
			f := filepath.Join(t.TempDir(), "c."+sh)
			os.WriteFile(f, out.Bytes(), 0o644)
			if o, err := exec.Command(path, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v %s", sh, err, o)
			}
		} else {
			t.Logf("%s not installed: its script is not syntax-checked", sh)
		}
	}
	if code := dispatch([]string{"completion", "tcsh"}, new(bytes.Buffer), new(bytes.Buffer)); code != 2 {
		t.Errorf("completion tcsh: exit %d", code)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var script bytes.Buffer
	dispatch([]string{"completion", "bash"}, &script, new(bytes.Buffer))
	f := filepath.Join(t.TempDir(), "c.bash")
	os.WriteFile(f, script.Bytes(), 0o644)
	// commgraph is a shell function that runs this test binary as the CLI.
	prog := `commgraph() { local IFS=$'\x1f'; COMMGRAPH_HELPER="$*" "$TESTBIN" -test.run='^TestRunHelperProcess$'; }
source "$SCRIPT"
COMP_WORDS=(commgraph rep); COMP_CWORD=1; _commgraph; echo "1:${COMPREPLY[*]}"
COMP_WORDS=(commgraph report --pa); COMP_CWORD=2; _commgraph; echo "2:${COMPREPLY[*]}"
COMP_WORDS=(commgraph dram s); COMP_CWORD=2; _commgraph; echo "3:${COMPREPLY[*]}"
`
	cmd := exec.Command(bash, "-c", prog)
	cmd.Env = append(os.Environ(), "TESTBIN="+os.Args[0], "SCRIPT="+f)
	o, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, o)
	}
	for _, want := range []string{"1:report\n", "2:--pareto\n", "3:sim sweep\n"} {
		if !strings.Contains(string(o), want) {
			t.Errorf("bash completion lacks %q:\n%s", want, o)
		}
	}
}
