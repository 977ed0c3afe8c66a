// Command commgraph is the one CLI of the project: it parses flags, shows
// progress and maps errors to exit codes; the work happens in packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/commgraph/commgraph/experiments"
)

// command is one subcommand (possibly with its own subcommands).
type command struct {
	name  string
	short string
	run   func(args []string, stdout, stderr io.Writer) error
	sub   map[string]*command
}

// commands is filled by init functions in the files of this package.
var commands = map[string]*command{}

func register(path string, short string, run func(args []string, stdout, stderr io.Writer) error) {
	parts := strings.Fields(path)
	m := commands
	var c *command
	for _, p := range parts {
		c = m[p]
		if c == nil {
			c = &command{name: p, sub: map[string]*command{}}
			m[p] = c
		}
		m = c.sub
	}
	c.short = short
	c.run = run
}

// Exit statuses of commgraph (docs/configuration.md, "Exit status"):
// 0 success, 1 a runtime failure (including a crash), 2 a usage or
// configuration error (bad flag, bad TOML, unknown key, value out of
// range), 130 interrupted (resume by running the same command again).
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// errUsage marks an error caused by bad flags or arguments (exit status 2).
var errUsage = errors.New("usage error")

// usageErrorf builds an error that maps to exit status 2.
func usageErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// configError marks err (a bad config file, sweep file or override, whose
// message already names the file, line and key) as a configuration error:
// exit status 2, message unchanged.
func configError(err error) error {
	if err == nil {
		return nil
	}
	return &confError{err}
}

// checkDir refuses (status 2) a directory flag whose path is not a
// directory: a search path that does not exist would otherwise be skipped
// without a word.
func checkDir(flagName, path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return usageErrorf("--%s %q: no such directory", flagName, path)
		}
		return usageErrorf("--%s: %v", flagName, err)
	}
	if !st.IsDir() {
		return usageErrorf("--%s %q: not a directory", flagName, path)
	}
	return nil
}

// prepareOutFile creates the directory of an output file named by a flag
// (as every command does for its outputs) before any work is done, and
// refuses (status 2) a path whose directory cannot be made: otherwise a long
// computation would fail only when it writes its result.
func prepareOutFile(flagName, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("--%s %q: cannot create its directory %s: %v", flagName, path, dir, err)
	}
	return nil
}

type confError struct{ err error }

func (e *confError) Error() string        { return e.err.Error() }
func (e *confError) Unwrap() error        { return e.err }
func (e *confError) Is(target error) bool { return target == errUsage }

// exitError carries an explicit exit status with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// See supervise.go.
const (
	supervisedEnv    = "COMMGRAPH_SUPERVISED"
	childUsageStatus = 64
)

// childStatus is the exit status a supervised child uses for code.
func childStatus(code int) int {
	if code == exitUsage {
		return childUsageStatus
	}
	return code
}

func main() {
	if os.Getenv(supervisedEnv) != "" {
		os.Exit(childStatus(dispatch(os.Args[1:], os.Stdout, os.Stderr)))
	}
	os.Exit(supervise(os.Args[1:], os.Stderr))
}

// dispatch runs the command line and returns the exit status. A panic in
// the command is a runtime failure (status 1), never a usage error.
func dispatch(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "commgraph: internal error: %v\n%s\nplease report this (with the command line) as a bug\n", p, debug.Stack())
			code = exitFailure
		}
	}()
	m := commands
	var c *command
	path := []string{}
	for len(args) > 0 {
		next := m[args[0]]
		if next == nil {
			break
		}
		c = next
		path = append(path, args[0])
		args = args[1:]
		m = c.sub
		if len(m) == 0 {
			break
		}
	}
	if c == nil || c.run == nil {
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
			fmt.Fprintf(stderr, "commgraph: unknown command %q\n", strings.Join(append(path, args[0]), " "))
			usage(stderr, path, m)
			return exitUsage
		}
		usage(stdout, path, m)
		if len(args) == 0 && c == nil {
			return exitUsage
		}
		return exitOK
	}
	stop, err := startProfile()
	if err == nil {
		err = c.run(args, stdout, stderr)
		if serr := stop(); err == nil {
			err = serr
		}
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		printExamples(stderr, path)
		return exitOK
	}
	fmt.Fprintf(stderr, "commgraph %s: %v\n", strings.Join(path, " "), err)
	return exitCode(err)
}

// exitCode maps a command's error to the exit status.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, experiments.ErrInterrupted):
		return exitInterrupted
	case errors.Is(err, errUsage):
		return exitUsage
	}
	return exitFailure
}

func usage(w io.Writer, path []string, m map[string]*command) {
	fmt.Fprintf(w, "usage: commgraph %s<command> [flags]\n\ncommands:\n", strings.Join(append(path, ""), " "))
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, m[n].short)
	}
}

func init() {
	group("dram", "the embedded DRAM controller simulator: sim, validate, sweep, interactions")
	group("graph", "learned communication graphs: export, compare")
}

// group describes a command that only holds subcommands.
func group(name, short string) {
	c := commands[name]
	if c == nil {
		c = &command{name: name, sub: map[string]*command{}}
		commands[name] = c
	}
	c.short = short
}
