// Package contract holds what an algorithm and the driver that runs it
// (experiments) agree on: the Algorithm interface, the Metrics row, and the
// complete resumable state with its one file format (Checkpoint, with the
// value normaliser whose statistics it carries). It imports no numerical
// library, so algorithms without neural networks (marl/blackbox) link none;
// package marl re-exports every name.
package contract
