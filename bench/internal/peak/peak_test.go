package peak

import (
	"testing"
	"time"
)

func TestInt8GMACsRuns(t *testing.T) {
	g := Int8GMACs(20 * time.Millisecond)
	if available() && g <= 0 {
		t.Fatalf("peak %v with VNNI available", g)
	}
	t.Logf("int8 peak: %.0f GMAC/s", g)
}
