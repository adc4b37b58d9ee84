package receipt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"gorgonia.org/gorgonia"

	"github.com/usefulwork/minedmatmul/op"
)

// Describe returns the structure of g for a receipt: the digest of every
// node (ID, op, type, shape, children, in ID order), the learnables' shapes
// and the mined product nodes with their operands. input is the node the
// dataset's features are bound to. Node names must be unique among the
// learnables, the input and the products' operands, since the receipt
// refers to nodes by name.
func Describe(name string, g *gorgonia.ExprGraph, input *gorgonia.Node, learnables gorgonia.Nodes) (Model, error) {
	if g == nil || input == nil {
		return Model{}, fmt.Errorf("receipt: Describe: nil graph or input")
	}
	nodes := slices.Clone(g.AllNodes())
	slices.SortFunc(nodes, func(a, b *gorgonia.Node) int { return int(a.ID() - b.ID()) })
	h := sha256.New()
	m := Model{Name: name, Input: Tensor{Name: input.Name(), Dtype: input.Dtype().String(), Shape: slices.Clone([]int(input.Shape()))}}
	names := map[string]int64{}
	for _, n := range nodes {
		children := childrenOf(g, n)
		ids := make([]int64, len(children))
		for i, c := range children {
			ids[i] = c.ID()
		}
		fmt.Fprintf(h, "%d\t%v\t%v\t%v\t%v\t%q\n", n.ID(), n.Op(), n.Type(), n.Shape(), ids, n.Name())
		names[n.Name()]++
		mm, ok := n.Op().(op.MinedMatMul)
		if !ok {
			continue
		}
		if len(children) != 2 {
			return Model{}, fmt.Errorf("receipt: Describe: product %q has %d operands", n.Name(), len(children))
		}
		ta, tb := mm.Trans()
		m.Products = append(m.Products, ProductNode{Name: n.Name(), Kind: mm.Kind().String(), TransA: ta, TransB: tb,
			Role: mm.Role().String(), Inputs: [2]string{children[0].Name(), children[1].Name()}})
	}
	for _, l := range learnables {
		m.Learnables = append(m.Learnables, Tensor{Name: l.Name(), Dtype: l.Dtype().String(), Shape: slices.Clone([]int(l.Shape()))})
	}
	check := []string{m.Input.Name}
	for _, l := range m.Learnables {
		check = append(check, l.Name)
	}
	for _, p := range m.Products {
		check = append(check, p.Name, p.Inputs[0], p.Inputs[1])
	}
	for _, c := range check {
		if names[c] > 1 {
			return Model{}, fmt.Errorf("receipt: Describe: %d nodes are named %q: name them apart (gorgonia.WithName)", names[c], c)
		}
	}
	m.Digest = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

// childrenOf returns n's operands in order (gonum's From of an ExprGraph).
func childrenOf(g *gorgonia.ExprGraph, n *gorgonia.Node) gorgonia.Nodes {
	var out gorgonia.Nodes
	it := g.From(n.ID())
	if it == nil {
		return nil
	}
	for it.Next() {
		out = append(out, it.Node().(*gorgonia.Node))
	}
	return out
}
