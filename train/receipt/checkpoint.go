package receipt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// A checkpoint file holds named float tensors, little-endian:
//
//	"MMCKPT1\n"
//	u32 count
//	count × { u16 name length, name, u8 dtype (1 float32, 2 float64),
//	          u8 dims, dims × u32, the values }
//
// Their order is the order given; names are unique.
const checkpointMagic = "MMCKPT1\n"

// maxCheckpointValues bounds what a checkpoint may declare before its
// values are read: 2³⁰ values (4 GiB of float32).
const maxCheckpointValues = 1 << 30

// Param is one named tensor of a checkpoint.
type Param struct {
	Name  string
	Value *tensor.Dense
}

// encodeCheckpoint serialises params.
func encodeCheckpoint(params []Param) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(checkpointMagic)
	binary.Write(&b, binary.LittleEndian, uint32(len(params)))
	seen := map[string]bool{}
	for _, p := range params {
		if p.Value == nil || p.Name == "" || len(p.Name) > math.MaxUint16 || seen[p.Name] {
			return nil, fmt.Errorf("receipt: checkpoint: parameter %q is unnamed, duplicated or has no value", p.Name)
		}
		seen[p.Name] = true
		binary.Write(&b, binary.LittleEndian, uint16(len(p.Name)))
		b.WriteString(p.Name)
		shape := p.Value.Shape()
		var dt byte
		switch p.Value.Dtype() {
		case tensor.Float32:
			dt = 1
		case tensor.Float64:
			dt = 2
		default:
			return nil, fmt.Errorf("receipt: checkpoint: %s is %v, not float32 or float64", p.Name, p.Value.Dtype())
		}
		b.WriteByte(dt)
		b.WriteByte(byte(len(shape)))
		for _, d := range shape {
			binary.Write(&b, binary.LittleEndian, uint32(d))
		}
		// The logical values, row-major, whatever the tensor's layout.
		v := p.Value
		if v.IsMaterializable() || v.IsView() || !v.DataOrder().IsRowMajor() {
			m, ok := v.Materialize().(*tensor.Dense)
			if !ok {
				return nil, fmt.Errorf("receipt: checkpoint: %s cannot be materialised", p.Name)
			}
			v = m
		}
		if err := binary.Write(&b, binary.LittleEndian, v.Data()); err != nil {
			return nil, fmt.Errorf("receipt: checkpoint: %s: %w", p.Name, err)
		}
	}
	return b.Bytes(), nil
}

// decodeCheckpoint parses a checkpoint file.
func decodeCheckpoint(data []byte) ([]Param, error) {
	r := bytes.NewReader(data)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint at byte %d: %s", len(data)-r.Len(), fmt.Sprintf(format, args...))
	}
	magic := make([]byte, len(checkpointMagic))
	if _, err := r.Read(magic); err != nil || string(magic) != checkpointMagic {
		return nil, errors.New("checkpoint: not a checkpoint file (bad magic)")
	}
	var count uint32
	if binary.Read(r, binary.LittleEndian, &count) != nil || int64(count) > int64(r.Len()) {
		return nil, fail("bad parameter count")
	}
	params := make([]Param, 0, count)
	seen := map[string]bool{}
	for range count {
		var nameLen uint16
		if binary.Read(r, binary.LittleEndian, &nameLen) != nil || int(nameLen) > r.Len() {
			return nil, fail("bad name length")
		}
		name := make([]byte, nameLen)
		r.Read(name)
		var head [2]byte
		if _, err := r.Read(head[:]); err != nil || head[0] < 1 || head[0] > 2 || head[1] > 8 {
			return nil, fail("%q: bad dtype or rank", name)
		}
		shape := make([]int, head[1])
		values := int64(1)
		for i := range shape {
			var d uint32
			if binary.Read(r, binary.LittleEndian, &d) != nil {
				return nil, fail("%q: truncated shape", name)
			}
			shape[i] = int(d)
			values *= int64(d)
			if values > maxCheckpointValues {
				return nil, fail("%q: too many values", name)
			}
		}
		size := int64(4)
		if head[0] == 2 {
			size = 8
		}
		if values*size > int64(r.Len()) {
			return nil, fail("%q: truncated values", name)
		}
		var backing any
		if head[0] == 1 {
			backing = make([]float32, values)
		} else {
			backing = make([]float64, values)
		}
		binary.Read(r, binary.LittleEndian, backing)
		if seen[string(name)] {
			return nil, fail("%q appears twice", name)
		}
		seen[string(name)] = true
		opts := []tensor.ConsOpt{tensor.WithBacking(backing)}
		if len(shape) > 0 {
			opts = append(opts, tensor.WithShape(shape...))
		}
		params = append(params, Param{Name: string(name), Value: tensor.New(opts...)})
	}
	if r.Len() != 0 {
		return nil, fail("%d trailing bytes", r.Len())
	}
	return params, nil
}
