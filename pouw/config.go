package pouw

import (
	"encoding/binary"
	"fmt"
)

// ConfigSize is the serialised length of a mining configuration (§2).
const ConfigSize = 52

// mmaInt7 is the only matrix-multiply type: int7 × int7 → int32 ("Int7xInt7ToInt32").
const mmaInt7 = 0

// Config is the mining configuration a job key binds: the inner dimension,
// the noise rank and the shape of a tile.
type Config struct {
	K    uint32  // inner dimension of the product
	Rank uint16  // noise rank r: a power of two, a multiple of 32
	Rows Pattern // rows of A in one tile, relative to the tile's offset
	Cols Pattern // columns of B in one tile, relative to the tile's offset
}

// String describes the configuration for humans, e.g. "k=1024 r=64 tile=16x16".
func (c Config) String() string {
	return fmt.Sprintf("k=%d r=%d tile=%dx%d", c.K, c.Rank, c.Rows.Len(), c.Cols.Len())
}

// TileH is the number of rows in a tile.
func (c Config) TileH() int { return c.Rows.Len() }

// TileW is the number of columns in a tile.
func (c Config) TileW() int { return c.Cols.Len() }

// DotLen is the length of the hashed part of every dot product: k rounded
// down to a multiple of the rank (§5).
func (c Config) DotLen() int { return int(c.K) - int(c.K)%int(c.Rank) }

// bytes returns the 52-byte serialisation:
// k u32 ‖ rank u16 ‖ mma_type u16 ‖ rows_pattern [6] ‖ cols_pattern [6] ‖ 32 zero bytes.
func (c Config) bytes() [ConfigSize]byte {
	var b [ConfigSize]byte
	binary.LittleEndian.PutUint32(b[0:], c.K)
	binary.LittleEndian.PutUint16(b[4:], c.Rank)
	binary.LittleEndian.PutUint16(b[6:], mmaInt7)
	rows, cols := c.Rows.bytes(), c.Cols.bytes()
	copy(b[8:14], rows[:])
	copy(b[14:20], cols[:])
	return b
}

// MarshalBinary returns the 52-byte serialisation of c.
func (c Config) MarshalBinary() ([]byte, error) {
	if err := c.Rows.canonical(); err != nil {
		return nil, fmt.Errorf("config rows: %w", err)
	}
	if err := c.Cols.canonical(); err != nil {
		return nil, fmt.Errorf("config cols: %w", err)
	}
	b := c.bytes()
	return b[:], nil
}

// UnmarshalBinary parses exactly 52 bytes strictly: any other mma_type, a
// non-canonical pattern or a non-zero reserved byte is rejected, and c is
// then left unchanged.
func (c *Config) UnmarshalBinary(b []byte) error {
	d, err := decodeConfig(b)
	if err == nil {
		*c = d
	}
	return err
}

func decodeConfig(b []byte) (Config, error) {
	if len(b) != ConfigSize {
		return Config{}, ruleErr(ErrBadEncoding, "config: %d bytes, want %d", len(b), ConfigSize)
	}
	if mma := binary.LittleEndian.Uint16(b[6:]); mma != mmaInt7 {
		return Config{}, ruleErr(ErrBadEncoding, "config: mma_type %d, want %d", mma, mmaInt7)
	}
	for i, x := range b[20:] {
		if x != 0 {
			return Config{}, ruleErr(ErrBadEncoding, "config: reserved byte %d is %#x, want 0", 20+i, x)
		}
	}
	rows, err := decodePattern(b[8:14])
	if err != nil {
		return Config{}, fmt.Errorf("config rows: %w", err)
	}
	cols, err := decodePattern(b[14:20])
	if err != nil {
		return Config{}, fmt.Errorf("config cols: %w", err)
	}
	return Config{
		K:    binary.LittleEndian.Uint32(b[0:]),
		Rank: binary.LittleEndian.Uint16(b[4:]),
		Rows: rows,
		Cols: cols,
	}, nil
}
