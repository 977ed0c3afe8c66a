// Package predprey owns the predator-prey and predator-capture-prey grid
// worlds used to test communication learning (IC3Net: Singh, Jain and
// Sukhbaatar, "Learning when to communicate at scale in multiagent
// cooperative and competitive tasks", ICLR 2019; the capture variant and the
// settings follow the CommFormer paper, Hu et al., ICLR 2024, and its public
// code, which was read to settle details).
//
// Rules. A D x D grid holds n predators and one static prey at distinct
// uniformly random cells. Actions: 0 up, 1 right, 2 down, 3 left, 4 stay (the
// capture variant adds 5 capture); a move off the grid leaves the agent in
// place and agents never collide. A predator that reached the prey is frozen
// there. Every agent gets -0.05 per step and 0 while it stands on the prey
// (a capture agent keeps getting -0.05 until it has captured). The episode
// terminates when every agent has reached the prey (and, in the capture
// variant, every capture agent has captured); the step cap truncates it.
//
// Observation of an agent: the (2v+1)^2 window centred on it, row-major,
// each cell a vector of D^2+4 numbers laid out as
//
//	[0, D^2)  one-hot of the cell's index row*D+col (all zero outside the grid)
//	D^2       number of capture agents in the cell (always 0 without the variant)
//	D^2+1     1 if the cell is outside the grid
//	D^2+2     number of prey in the cell
//	D^2+3     number of (perception) predators in the cell, the observer included
//
// so easy (5x5, vision 1) has 9 x 29 = 261 inputs, as in the reference. A
// capture agent is blind: its window keeps the position one-hot but all four
// class channels are -1.
//
// An Env is a plain value (fixed-size arrays, no pointers besides the
// immutable agent list): Clone is a copy, Step allocates nothing, and an
// episode is a pure function of the reset seed and the actions.
package predprey
