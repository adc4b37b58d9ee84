package peak

import (
	"testing"
	"time"
)

func TestRatesRun(t *testing.T) {
	for _, k := range []Kind{Int8, Int16, Xor32} {
		g := Rate(k, 10*time.Millisecond)
		if Instr(k) != "none" && g <= 0 {
			t.Fatalf("kind %d (%s): rate %v", k, Instr(k), g)
		}
		t.Logf("%s: %.1f G/s", Instr(k), g)
	}
}
