// Package exhaustive owns the exhaustive evaluation of a finite design space
// (envs.DesignSpace): every configuration in mixed-radix order on N
// workers, written chunk by chunk to a compact binary table that survives
// interruption (a rerun resumes and produces the same bytes as an
// uninterrupted run), the reader of that table, the best configuration per
// objective, and the measured knob-interaction graph: a two-way functional
// ANOVA of log(metric) over the full factorial, exported as JSON and DOT.
//
// # Configuration order
//
// Configuration index i and the value indices cfg are related by
//
//	i = sum_k cfg[k] * stride[k],  stride[K-1] = 1,  stride[k] = stride[k+1] * len(knob[k+1].Values)
//
// so the last knob varies fastest (nested loops with knob 0 outermost).
//
// # File layout (format version 2)
//
//	offset 0     8 bytes   magic "CGSWEEP2"
//	offset 8     uint32 LE H, the length of the JSON header
//	offset 12    H bytes   JSON header (Header): format, space name, knobs
//	                       with their values, metric names, configuration
//	                       count, dtype
//	offset 12+H  uint32 LE CRC-32C of bytes 0 .. 12+H
//	offset 16+H            N records in index order; record i holds the
//	                       len(metrics) metrics of configuration i as
//	                       IEEE-754 float64, little-endian, then uint32 LE
//	                       CRC-32C of i (uint64 LE) followed by those values
//
// Every reader checks every checksum and the exact size, so a truncated
// file, a changed value (even one made NaN), a moved record or a damaged
// header is an error naming the file and what to do, never a wrong table.
// Format 1 ("CGSWEEP1", no checksums) is recognised and refused by name.
//
// The file holds no time stamps, so the same space always gives the same
// bytes. While a sweep runs it writes PATH.partial (header plus the records
// finished so far, in order, fsynced after every chunk) and renames it to
// PATH when the last record is written. A rerun finds PATH.partial, checks
// that its header matches, checks every record's checksum, drops a torn
// tail (a partial record, or trailing records that all fail their
// checksums; they are evaluated again), refuses a failing record followed
// by intact ones (damage, not a tear), re-evaluates the last stored record
// to make sure the space still gives the same numbers, and continues from
// there. Rerunning over a complete table checks its checksums too. The partial file is locked (flock) while a sweep
// writes it, so a second sweep of the same output is refused.
//
// Spaces may speed the sweep up in two optional ways: EvaluatorMaker gives
// every worker its own evaluator (e.g. a simulator reused between runs),
// and Canonicalizer names configurations that provably evaluate alike, so
// each class is evaluated once (a sample of the copies is re-evaluated as
// a check). Neither changes a byte of the table.
//
// Restrict sweeps a sub-space with some knobs fixed. Best finds the
// optimum of a loss over a table.
//
// The package was called sweep; it was renamed because experiments uses
// "sweep" for a grid of training trials, a different thing. The CLI keeps
// "commgraph dram sweep" for the command that runs this enumeration.
package exhaustive
