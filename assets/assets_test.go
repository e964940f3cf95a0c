package assets

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"
)

// TestIcons checks sizes and that tray icons are template images: every
// pixel black, only alpha varies (macOS tints template images itself).
func TestIcons(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		size     int
		template bool
	}{
		{"tray.png", TrayPNG, 18, true},
		{"tray@2x.png", Tray2xPNG, 36, true},
		{"tray-alert.png", TrayAlertPNG, 18, true},
		{"tray-alert@2x.png", TrayAlert2xPNG, 36, true},
		{"icon.png", IconPNG, 512, false},
	} {
		img, _, err := image.Decode(bytes.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if b := img.Bounds(); b.Dx() != tc.size || b.Dy() != tc.size {
			t.Errorf("%s is %v, want %dx%d", tc.name, b, tc.size, tc.size)
		}
		if !tc.template {
			continue
		}
		opaque := 0
		for y := 0; y < tc.size; y++ {
			for x := 0; x < tc.size; x++ {
				r, g, b, a := img.At(x, y).RGBA()
				if a > 0 && (r|g|b) != 0 {
					t.Fatalf("%s: pixel %d,%d is not black", tc.name, x, y)
				}
				if a > 0xff00 {
					opaque++
				}
			}
		}
		if opaque < tc.size*tc.size/10 {
			t.Errorf("%s: only %d opaque pixels; the glyph is missing", tc.name, opaque)
		}
	}
	if bytes.Equal(TrayPNG, TrayAlertPNG) {
		t.Error("alert icon is the same as the normal one")
	}
}
