package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/png"
	"io"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/envs/fsutil"
)

// The animation of the graph over training: `graph export --format gif`
// renders every logged snapshot as the PNG heatmap (with its legend,
// colour bar and undecided marks, comm.Snapshot.RenderPNG) and plays them
// in order as one animated GIF, one frame per snapshot.

const (
	gifFrameDelay = 60  // hundredths of a second per frame
	gifLastDelay  = 300 // the final graph stays longer
)

// writeGraphGIF writes snaps (oldest first) as an animated GIF to path.
func writeGraphGIF(path string, snaps []*comm.Snapshot, opt comm.ExportOptions) error {
	anim := &gif.GIF{}
	var buf bytes.Buffer
	var bounds image.Rectangle
	for i, s := range snaps {
		buf.Reset()
		if err := s.RenderPNG(&buf, opt); err != nil {
			return fmt.Errorf("iteration %d: %w", s.Iteration, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			return fmt.Errorf("iteration %d: %w", s.Iteration, err)
		}
		if i == 0 {
			bounds = img.Bounds()
		} else if img.Bounds() != bounds {
			return fmt.Errorf("iteration %d: frame of %v, the first was %v", s.Iteration, img.Bounds().Size(), bounds.Size())
		}
		// The heatmap's colours in the 216-colour web-safe cube plus greys
		// (palette.WebSafe); no dithering, so a cell stays one flat colour.
		p := image.NewPaletted(bounds, palette.WebSafe)
		draw.Draw(p, bounds, img, bounds.Min, draw.Src)
		anim.Image = append(anim.Image, p)
		anim.Delay = append(anim.Delay, gifFrameDelay)
	}
	if len(anim.Image) == 0 {
		return fmt.Errorf("no snapshots to animate")
	}
	anim.Delay[len(anim.Delay)-1] = gifLastDelay
	return fsutil.WriteFileWith(path, func(w io.Writer) error { return gif.EncodeAll(w, anim) })
}
