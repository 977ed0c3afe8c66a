package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the command to, for
// `go tool pprof`: COMMGRAPH_CPUPROFILE=cpu.out commgraph run ... (with the
// supervisor, the child process that runs the command writes it).
const profileEnv = "COMMGRAPH_CPUPROFILE"

// startProfile starts the CPU profile asked for by profileEnv and returns
// the function that stops it and closes the file. A file that cannot be
// created is a usage error, reported before the command starts.
func startProfile() (stop func() error, err error) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, usageErrorf("%s: %v", profileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s=%s: %w", profileEnv, path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %w", profileEnv, err)
		}
		return nil
	}, nil
}
