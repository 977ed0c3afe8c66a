//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

// The Go runtime exits with status 2 when it crashes (an unrecovered panic
// in any goroutine, "fatal error: out of memory"), which is also the status
// of a usage error. So that a crash never looks like a usage error, the
// commgraph process that a user starts runs the real work in a child (the
// same executable, with supervisedEnv set): the child reports usage errors
// with childUsageStatus, and the parent maps the child's statuses back to
// the documented ones (childUsageStatus -> 2, a crash's 2 -> 1, a death by
// signal -> 1, or 130 for SIGINT/SIGTERM). Signals reach the child only
// through the parent (it runs in its own process group), so Ctrl-C is
// delivered once; the child dies with the parent (Pdeathsig on Linux).
// COMMGRAPH_NO_SUPERVISOR=1 runs the command in the process itself, as
// commgraph always does outside Linux.
// parentStatus maps how a supervised child ended to the documented exit
// status, with a line for stderr when the child crashed ("" otherwise).
func parentStatus(st *os.ProcessState) (int, string) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		switch ws.Signal() {
		case syscall.SIGINT, syscall.SIGTERM:
			return exitInterrupted, "commgraph: interrupted"
		case syscall.SIGKILL:
			return exitFailure, "commgraph: killed (SIGKILL; out of memory?); run the same command again to resume from the last checkpoint"
		}
		return exitFailure, fmt.Sprintf("commgraph: died of signal %v", ws.Signal())
	}
	switch c := st.ExitCode(); c {
	case childUsageStatus:
		return exitUsage, ""
	case exitUsage:
		return exitFailure, "commgraph: crashed (the Go runtime stopped the program: a panic or out of memory, see above); this is a runtime failure, not a usage error"
	default:
		return c, ""
	}
}

// supervise runs the command line in a supervised child and returns the
// documented exit status; it runs it in this process when it cannot start
// a child (or when COMMGRAPH_NO_SUPERVISOR is set).
func supervise(args []string, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil || os.Getenv("COMMGRAPH_NO_SUPERVISOR") != "" {
		return dispatch(args, os.Stdout, stderr)
	}
	code, err := superviseExec(exe, args, nil, os.Stdout, stderr)
	if err != nil {
		return dispatch(args, os.Stdout, stderr)
	}
	return code
}

// superviseExec runs exe with args (and extra environment variables) as a
// supervised child (its stdout and stderr: the writers, passed through
// when they are files), forwarding SIGINT, SIGTERM and SIGHUP; err is set
// only when the child could not be started.
func superviseExec(exe string, args, env []string, stdout, stderr io.Writer) (int, error) {
	// Pdeathsig fires when the thread that started the child ends: keep
	// this goroutine on its thread for the child's lifetime.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), supervisedEnv+"=1"), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	// Its own process group: a terminal's Ctrl-C reaches it once, through
	// the parent; it is killed when the parent dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sig:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "commgraph: %v\n", err)
		return exitFailure, nil
	}
	code, msg := parentStatus(cmd.ProcessState)
	if msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return code, nil
}
