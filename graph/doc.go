// Package graph converts existing Gorgonia models so that their matrix
// products are mined.
//
// Swap rewrites an already-built *gorgonia.ExprGraph in place: every stock
// matrix product node — those gorgonia.Mul builds (matrix × matrix, matrix ×
// vector, vector × matrix, vector · vector), the one hidden inside
// gorgonia.Conv2d, and the gradient products gorgonia.Grad adds — becomes an
// op.MinedMatMul with the same transposes, so the VM compiled afterwards
// mines the forward and the backward pass. Nodes keep their identity,
// values and Read bindings (an unnamed node's derived name now reads
// "mined A × B"), so a training loop written for the stock model runs
// unchanged. Swap returns a Census: the converted nodes by role, and the
// products it left to Gorgonia with why.
//
// Converting is not mining: a converted matrix × vector product, or one
// whose k is below the noise rank, still runs in float as before (package op
// says which products are mined).
//
// Order matters. gorgonia.Compile, CompileFunction and NewTapeMachine copy
// the ops into the program they build, so Swap belongs after the graph is
// complete and before it is compiled. SwapProgram converts a program that is
// already compiled; Swap on a graph a VM has already run is an error, and
// Bypassed, after a run, names the mined nodes a stale program computed. A
// graph that grows after the swap (layers added in steps) is swapped again,
// and StockProducts lists what is left.
//
// Gorgonia has no public way to replace a node's op, so Swap writes the
// node's unexported op field through reflection (and SwapProgram the op of
// the program's instructions). It does so only after checking, at run time,
// the Gorgonia version and the layout it relies on, and fails with an error
// otherwise, before it has touched the graph.
//
// Products Swap leaves to Gorgonia: outer products (they have no inner
// dimension to mine), BatchedMatMul (op.BatchedMul builds a mined one) and
// Tensordot.
package graph
