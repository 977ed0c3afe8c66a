package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
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
	q := quantizer{index: map[color.RGBA]uint8{}}
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
		anim.Image = append(anim.Image, q.paletted(img))
		anim.Delay = append(anim.Delay, gifFrameDelay)
	}
	if len(anim.Image) == 0 {
		return fmt.Errorf("no snapshots to animate")
	}
	anim.Delay[len(anim.Delay)-1] = gifLastDelay
	return fsutil.WriteFileWith(path, func(w io.Writer) error { return gif.EncodeAll(w, anim) })
}

// quantizer maps colours to the nearest of the 216-colour web-safe cube
// (palette.WebSafe), without dithering, so a cell stays one flat colour.
// A heatmap has few distinct colours, so each is looked up once (the
// nearest-colour search per pixel made 20 frames of 1800 x 850 take over a
// minute).
type quantizer struct {
	index map[color.RGBA]uint8
}

func (q quantizer) paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	p := image.NewPaletted(b, palette.WebSafe)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := q.index[c]
			if !ok {
				i = uint8(p.Palette.Index(c))
				q.index[c] = i
			}
			p.SetColorIndex(x, y, i)
		}
	}
	return p
}
