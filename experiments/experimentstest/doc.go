// Package experimentstest provides a fast, deterministic fake algorithm and
// task for testing the experiment layer (runs, resume, sweeps, reports)
// without training anything. Tests call Register to make the kinds
// algorithm.kind = "fake" and env.kind = "fake" available; nothing registers
// them in the shipped binary.
package experimentstest
