//go:build !purego

#include "textflag.h"

// func pause()
// Sixteen PAUSE instructions: a spinning helper's hint to the core, which
// leaves an SMT sibling its execution units.
TEXT ·pause(SB), NOSPLIT, $0-0
	MOVL $16, CX

pauseloop:
	PAUSE
	DECL CX
	JNZ  pauseloop
	RET
