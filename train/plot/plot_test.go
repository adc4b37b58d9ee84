package plot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train"
)

func TestWriteDrawsAPNG(t *testing.T) {
	s := &train.Summary{Model: "m", Mined: true, Epochs: 2, TestAccuracy: []float64{0.8, 0.9},
		EpochTimes: []time.Duration{time.Second, time.Second}, Nbits: 0x207fffff,
		Stats: pouw.Stats{Proofs: 2, ExpectedProofs: 2.5}}
	tl := &train.Timeline{}
	for i := range 100 {
		tl.Loss = append(tl.Loss, train.TimePoint{Seconds: float64(i) / 50, Value: 2 - float64(i)/100})
	}
	tl.Proofs = []train.TimePoint{{Seconds: 0.5, Value: 1}, {Seconds: 1.5, Value: 2}}
	path := filepath.Join(t.TempDir(), "run.png")
	require.NoError(t, Write(path, s, tl))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG")))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")
}
