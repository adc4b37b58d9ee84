// Package plot draws a training run: its loss, test accuracy and proofs
// over time, as one PNG. It is a package of its own so that a program that
// only trains and mines does not link the plotting library and its fonts.
package plot

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/usefulwork/minedmatmul/internal/atomicfile"
	"github.com/usefulwork/minedmatmul/train"
)

// Write draws three panels side by side — training loss over time with
// the per-epoch mean, test accuracy per epoch, and proofs found over time —
// and writes them as a PNG, atomically, to path.
func Write(path string, s *train.Summary, tl *train.Timeline) error {
	loss := plot.New()
	loss.Title.Text = "training loss"
	loss.X.Label.Text = "seconds"
	loss.Y.Label.Text = "cross-entropy"
	if len(tl.Loss) > 0 {
		line, err := plotter.NewLine(smooth(tl.Loss, 20))
		if err != nil {
			return err
		}
		line.Color = color.RGBA{B: 200, A: 255}
		loss.Add(line)
	}

	acc := plot.New()
	acc.Title.Text = "test accuracy"
	acc.X.Label.Text = "epoch"
	acc.Y.Label.Text = "%"
	accPts := make(plotter.XYs, len(s.TestAccuracy))
	for i, a := range s.TestAccuracy {
		accPts[i] = plotter.XY{X: float64(i + 1), Y: 100 * a}
	}
	if len(accPts) > 0 {
		line, points, err := plotter.NewLinePoints(accPts)
		if err != nil {
			return err
		}
		line.Color, points.Color = color.RGBA{G: 140, A: 255}, color.RGBA{G: 140, A: 255}
		acc.Add(line, points)
	}

	proofs := plot.New()
	proofs.Title.Text = "proofs found"
	proofs.X.Label.Text = "seconds"
	proofs.Y.Label.Text = "proofs"
	if len(tl.Proofs) > 0 {
		steps, err := plotter.NewLine(stairs(tl.Proofs))
		if err != nil {
			return err
		}
		steps.Color = color.RGBA{R: 200, A: 255}
		proofs.Add(steps)
		if s.Stats.ExpectedProofs > 0 {
			proofs.Title.Text = fmt.Sprintf("proofs found (%.1f expected at nbits %#08x)", s.Stats.ExpectedProofs, s.Nbits)
		}
	}

	const w, h = 15 * vg.Inch, 4 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Inch / 4, PadY: vg.Inch / 8, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{{loss, acc, proofs}}, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	proofs.Draw(canvases[0][2])

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// smooth averages each run of n points, so thousands of noisy steps draw as
// a readable curve.
func smooth(pts []train.TimePoint, n int) plotter.XYs {
	var out plotter.XYs
	for lo := 0; lo < len(pts); lo += n {
		hi := min(lo+n, len(pts))
		var x, y float64
		for _, p := range pts[lo:hi] {
			x += p.Seconds
			y += p.Value
		}
		k := float64(hi - lo)
		out = append(out, plotter.XY{X: x / k, Y: y / k})
	}
	return out
}

// stairs draws a counter as a step function starting at zero.
func stairs(pts []train.TimePoint) plotter.XYs {
	out := plotter.XYs{{X: 0, Y: 0}}
	prev := 0.0
	for _, p := range pts {
		out = append(out, plotter.XY{X: p.Seconds, Y: prev}, plotter.XY{X: p.Seconds, Y: p.Value})
		prev = p.Value
	}
	return out
}
