//go:build !race

package dram

const spaceRaceEnabled = false
