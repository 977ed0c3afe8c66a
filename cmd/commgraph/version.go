package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register("version", "module version, VCS commit and Go version of this binary", runVersion)
}

// buildFacts is what `commgraph version` reports, from the build
// information the Go toolchain embeds (runtime/debug.ReadBuildInfo).
type buildFacts struct {
	Module    string `json:"module"`
	Version   string `json:"version"`               // module version: a tag, a pseudo-version or "(devel)"
	Commit    string `json:"commit,omitempty"`      // vcs.revision
	Time      string `json:"commit_time,omitempty"` // vcs.time
	Modified  bool   `json:"modified,omitempty"`    // vcs.modified: built from a tree with uncommitted changes
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// readBuildFacts extracts the facts from build information (ok = false:
// none embedded).
func readBuildFacts(bi *debug.BuildInfo, ok bool) buildFacts {
	f := buildFacts{Module: "github.com/commgraph/commgraph", Version: "(unknown)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return f
	}
	if bi.Main.Path != "" {
		f.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		f.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		f.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			f.Commit = s.Value
		case "vcs.time":
			f.Time = s.Value
		case "vcs.modified":
			f.Modified = s.Value == "true"
		}
	}
	return f
}

func (f buildFacts) write(w io.Writer) {
	fmt.Fprintf(w, "commgraph %s (module %s)\n", f.Version, f.Module)
	if f.Commit == "" {
		fmt.Fprintln(w, "commit: unknown (no VCS stamp: built by go run or go test, or outside the repository; go build or go install from a checkout records it)")
	} else {
		fmt.Fprintf(w, "commit: %s", f.Commit)
		if f.Time != "" {
			fmt.Fprintf(w, " (%s)", f.Time)
		}
		if f.Modified {
			fmt.Fprint(w, ", with uncommitted changes")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "go: %s %s\n", f.GoVersion, f.Platform)
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the facts as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: commgraph version [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("version takes no arguments, got %q", fs.Args())
	}
	f := readBuildFacts(debug.ReadBuildInfo())
	if *asJSON {
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	f.write(stdout)
	return nil
}
