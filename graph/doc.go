// Package graph converts existing Gorgonia models so that their matrix
// products are mined.
//
// Swap rewrites an already-built *gorgonia.ExprGraph in place: every stock
// matrix product node — those gorgonia.Mul builds (matrix × matrix, matrix ×
// vector, vector × matrix, vector · vector), the one hidden inside
// gorgonia.Conv2d, and the gradient products gorgonia.Grad adds — becomes an
// op.MinedMatMul with the same transposes, so the VM compiled afterwards
// mines the forward and the backward pass. Nodes keep their identity, names,
// values and Read bindings, so a training loop written for the stock model
// runs unchanged.
//
// Gorgonia has no public way to replace a node's op, so Swap writes the
// node's unexported op field through reflection. It does so only after checking, at run time, the Gorgonia version
// and the layout it relies on, and fails with an error otherwise, before it
// has touched the graph.
//
// Products Swap leaves to Gorgonia: outer products (they have no inner
// dimension to mine), BatchedMatMul and Tensordot.
package graph
