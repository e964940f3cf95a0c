package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// The Forkwatch glyph: a process line that forks in two, each branch ending
// in a small ring. Drawn here from geometry (signed distances, 4x4
// supersampling) so the icons are ours and can be redrawn at any size.

type capsule struct{ ax, ay, bx, by, r float64 }

func (c capsule) dist(x, y float64) float64 {
	px, py := x-c.ax, y-c.ay
	dx, dy := c.bx-c.ax, c.by-c.ay
	h := math.Max(0, math.Min(1, (px*dx+py*dy)/(dx*dx+dy*dy)))
	return math.Hypot(px-dx*h, py-dy*h) - c.r
}

type ring struct{ cx, cy, r, w float64 }

func (c ring) dist(x, y float64) float64 {
	return math.Abs(math.Hypot(x-c.cx, y-c.cy)-c.r) - c.w/2
}

type disc struct{ cx, cy, r float64 }

func (c disc) dist(x, y float64) float64 { return math.Hypot(x-c.cx, y-c.cy) - c.r }

type shape interface{ dist(x, y float64) float64 }

// glyph returns coverage (0..1) of the fork at unit coordinates.
func glyph(alert bool) func(x, y float64) float64 {
	const w = 0.055
	parts := []shape{
		capsule{0.5, 0.94, 0.5, 0.56, w},
		capsule{0.5, 0.56, 0.26, 0.30, w},
		capsule{0.5, 0.56, 0.74, 0.30, w},
		ring{0.22, 0.20, 0.10, 2 * w},
		ring{0.78, 0.20, 0.10, 2 * w},
	}
	badge := disc{0.80, 0.20, 0.17}
	gap := disc{0.80, 0.20, 0.25}
	return func(x, y float64) float64 {
		d := math.Inf(1)
		for _, p := range parts {
			d = math.Min(d, p.dist(x, y))
		}
		in := 0.0
		if d <= 0 {
			in = 1
		}
		if alert {
			if gap.dist(x, y) <= 0 {
				in = 0
			}
			if badge.dist(x, y) <= 0 {
				in = 1
			}
		}
		return in
	}
}

// render draws size x size pixels; fg over bg (bg may be transparent).
func render(size int, cover func(x, y float64) float64, fg color.NRGBA, bg func(x, y float64) (color.NRGBA, bool)) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var fgA, bgA float64
			var bgc color.NRGBA
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					fgA += cover(x, y)
					if bg != nil {
						if c, ok := bg(x, y); ok {
							bgA++
							bgc = c
						}
					}
				}
			}
			fgA /= ss * ss
			bgA /= ss * ss
			// Composite fg over bg.
			a := fgA*float64(fg.A)/255 + bgA*float64(bgc.A)/255*(1-fgA*float64(fg.A)/255)
			if a == 0 {
				continue
			}
			mix := func(f, b uint8) uint8 {
				fa := fgA * float64(fg.A) / 255
				ba := bgA * float64(bgc.A) / 255 * (1 - fa)
				return uint8(math.Round((float64(f)*fa + float64(b)*ba) / a))
			}
			img.SetNRGBA(px, py, color.NRGBA{mix(fg.R, bgc.R), mix(fg.G, bgc.G), mix(fg.B, bgc.B), uint8(math.Round(a * 255))})
		}
	}
	return img
}

// roundedSquare is the app icon's background, macOS-style inset.
func roundedSquare(x, y float64) (color.NRGBA, bool) {
	const inset, r = 0.1, 0.18
	qx := math.Abs(x-0.5) - (0.5 - inset - r)
	qy := math.Abs(y-0.5) - (0.5 - inset - r)
	d := math.Hypot(math.Max(qx, 0), math.Max(qy, 0)) + math.Min(math.Max(qx, qy), 0) - r
	if d > 0 {
		return color.NRGBA{}, false
	}
	// A vertical gradient, deep blue to teal.
	t := (y - inset) / (1 - 2*inset)
	return color.NRGBA{uint8(20 + 10*t), uint8(60 + 70*t), uint8(140 - 10*t), 255}, true
}

// writeIcons draws every PNG in assets/.
func writeIcons(dir string) error {
	black := color.NRGBA{0, 0, 0, 255}
	white := color.NRGBA{255, 255, 255, 255}
	files := map[string]*image.NRGBA{
		"tray.png":          render(18, glyph(false), black, nil),
		"tray@2x.png":       render(36, glyph(false), black, nil),
		"tray-alert.png":    render(18, glyph(true), black, nil),
		"tray-alert@2x.png": render(36, glyph(true), black, nil),
	}
	inner := func(x, y float64) float64 {
		// The glyph at 60% inside the rounded square.
		return glyph(false)(0.5+(x-0.5)/0.6, 0.5+(y-0.5)/0.6)
	}
	files["icon.png"] = render(512, inner, white, roundedSquare)
	for name, img := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := png.Encode(f, img); err != nil {
			f.Close()
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
