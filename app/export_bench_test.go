package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/forkwatch/forkwatch/settings/managed"
)

// BenchmarkWatchExportLatency (make bench, with the Watch benchmarks): the
// detection latency (rename of a report into the folder to its JSON line)
// of `forkwatch watch` without an export endpoint and with one, in the
// same run, interleaved: export must add nothing measurable, since the
// send runs off the detection path. The endpoint is an OTLP/HTTP sink on
// 127.0.0.1 that accepts everything; the figure counts the requests it
// got, so the sends did overlap the drops.
func BenchmarkWatchExportLatency(b *testing.B) {
	data, _ := os.ReadFile(sample("python313-duckdb-segv-chunkhound.ips"))
	var requests atomic.Int64
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(l)
	defer srv.Close()
	endpoint := "http://" + l.Addr().String()

	const drops = 60
	run := func(withEndpoint bool) []time.Duration {
		env := testEnv(b)
		home := envValue(env, "HOME")
		env = append(env, managed.EnvDir+"="+filepath.Join(home, "no-profiles"))
		if withEndpoint {
			p := filepath.Join(home, "Library", "Preferences", managed.Domain+".plist")
			os.MkdirAll(filepath.Dir(p), 0o755)
			bs, _ := plist.Marshal(map[string]any{managed.KeyExportEndpoint: endpoint}, plist.BinaryFormat)
			os.WriteFile(p, bs, 0o644)
		}
		reports := filepath.Join(home, "reports", "DiagnosticReports")
		os.MkdirAll(reports, 0o755)
		cmd := exec.Command(forkwatchBin(b), "watch", "--json", "--reports-dir", reports, "--cores-dir", "")
		cmd.Env = env
		out, _ := cmd.StdoutPipe()
		cmd.Start()
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		time.Sleep(300 * time.Millisecond)
		lines := bufio.NewScanner(out)
		lines.Buffer(make([]byte, 1<<20), 1<<24)
		var lat []time.Duration
		for i := 0; i < drops; i++ {
			d := strings.ReplaceAll(string(data), "A357AD50-B0BC-47E5-98C2-CEFFD4342928", fmt.Sprintf("EXP-%d-%d", time.Now().UnixNano(), i))
			tmp := filepath.Join(filepath.Dir(reports), "stage")
			os.WriteFile(tmp, []byte(d), 0o644)
			start := time.Now()
			os.Rename(tmp, filepath.Join(reports, fmt.Sprintf("Python-%d.ips", i)))
			if !lines.Scan() {
				b.Fatal("no output")
			}
			lat = append(lat, time.Since(start))
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		return lat
	}
	for i := 0; i < b.N; i++ {
		var without, with []time.Duration
		for round := 0; round < 2; round++ {
			without = append(without, run(false)...)
			with = append(with, run(true)...)
		}
		if requests.Load() == 0 {
			b.Fatal("the exporter sent nothing: the figure would not measure export")
		}
		mo, mw := median(without), median(with)
		b.ReportMetric(float64(mo.Microseconds()), "no-endpoint-µs")
		b.ReportMetric(float64(mw.Microseconds()), "endpoint-µs")
		b.ReportMetric(float64(mw)/float64(mo), "ratio")
		fmt.Printf("detection latency, median of %d drops each, interleaved: no export endpoint %v, exporting to %s %v (%d requests during the drops); ratio %.2f\n",
			2*drops, mo.Round(time.Microsecond), endpoint, mw.Round(time.Microsecond), requests.Load(), float64(mw)/float64(mo))
	}
}
