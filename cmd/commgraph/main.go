// Command commgraph is the one CLI of the project: it parses flags, shows
// progress and maps errors to exit codes; the work happens in packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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

// errUsage marks an error caused by bad flags or arguments (exit status 2).
var errUsage = errors.New("usage error")

// usageErrorf builds an error that maps to exit status 2.
func usageErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// exitError carries an explicit exit status with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the command line and returns the exit status.
func dispatch(args []string, stdout, stderr io.Writer) int {
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
			return 2
		}
		usage(stdout, path, m)
		if len(args) == 0 && c == nil {
			return 2
		}
		return 0
	}
	err := c.run(args, stdout, stderr)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "commgraph %s: %v\n", strings.Join(path, " "), err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
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
	group("graph", "learned communication graphs: export")
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
