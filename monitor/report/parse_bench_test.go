package report

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParseCorpus parses every real report of the corpus in memory:
// the CPU a sweep spends per report, without the file reads.
func BenchmarkParseCorpus(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	var data [][]byte
	var total int64
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
		total += int64(len(d))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range data {
			Parse(d)
		}
	}
}

// BenchmarkParseEach parses each real report on its own, to show which
// reports the sweep's CPU goes to.
func BenchmarkParseEach(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "reports", "*"))
	for _, p := range paths {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(p), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Parse(d)
			}
		})
	}
}
