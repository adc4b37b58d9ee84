package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// foreignProbe measures how much of the machine's CPU time other processes
// take while a round runs: the machine's busy time (all CPUs, /proc/stat,
// steal included) less this process's own (getrusage), over the wall time
// of all CPUs. The 2-core machines are shared, and a neighbour's burst slows
// one column of a round and not the next.
type foreignProbe struct {
	busy, self time.Duration
	start      time.Time
	ok         bool
}

func startForeign() foreignProbe {
	busy, ok1 := machineBusy()
	self, ok2 := selfCPU()
	return foreignProbe{busy: busy, self: self, start: time.Now(), ok: ok1 && ok2}
}

// stop returns the foreign share of the machine since start, in [0, 1], or
// -1 where /proc/stat or getrusage cannot tell.
func (p foreignProbe) stop() float64 {
	busy, ok1 := machineBusy()
	self, ok2 := selfCPU()
	wall := time.Since(p.start)
	if !p.ok || !ok1 || !ok2 || wall <= 0 {
		return -1
	}
	f := (busy - p.busy - (self - p.self)).Seconds() / (wall.Seconds() * float64(runtime.NumCPU()))
	return min(1, max(0, f))
}

// machineBusy is the busy time of all CPUs since boot from /proc/stat's
// "cpu" line: user, nice, system, irq, softirq and steal (USER_HZ ticks,
// 100 a second on Linux; guest time is already inside user).
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond, true
}
