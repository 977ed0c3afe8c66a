//go:build !linux

package main

import (
	"io"
	"os"
)

// supervise runs the command in this process: outside Linux there is no
// parent-death signal to tie a child to it (see supervise.go).
func supervise(args []string, stderr io.Writer) int {
	return dispatch(args, os.Stdout, stderr)
}
