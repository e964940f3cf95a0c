package report

import (
	"os"
	"testing"
)

func BenchmarkZZOne(b *testing.B) {
	d, _ := os.ReadFile(os.Getenv("ZZF"))
	for i := 0; i < b.N; i++ {
		Parse(d)
	}
}
