// Package export sends what Forkwatch records (crashes, core files, toggle
// changes, probe results) to an OpenTelemetry Collector as OTLP/HTTP log
// records, from the history database's outbox (monitor/history/outbox.go):
// an event is marked sent only when the collector accepted it, so nothing is
// lost offline, while the collector is down, across a restart or a sleep.
//
// It uses the official OpenTelemetry Go SDK: go.opentelemetry.io/otel/sdk/log
// builds the records (resource, scope) and
// go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp sends them.
// The exporter is still pre-1.0 (v0.x: its API may change in a minor
// release), so go.mod pins it to an exact version.
//
// Nothing here runs unless an endpoint is set: Start is the only entry and
// the caller calls it only then.
//
// Its configuration is Forkwatch's settings and nothing else. The SDK's
// exporter reads OTEL_EXPORTER_OTLP_* (endpoint, headers, compression,
// timeout, certificates) for every option not passed in code
// (otlploghttp's config.go: getenv, loadEnvTLS), so a user's personal
// OTEL_EXPORTER_OTLP_HEADERS API key would go to the organisation's
// collector; Start passes every one of those options (headers even when
// empty) and its own HTTP client, so none of the variables applies. The
// client follows a redirect only to the same origin (scheme, host, port):
// Go's client forwards every header but Authorization, Cookie and
// WWW-Authenticate to another host, and a 307/308 re-sends the payload
// (net/http Client.Do, "Redirects"). An endpoint with a user or password
// in it is refused: credentials go in ExportHeaders. The send runs on its own goroutine, off the
// detection path: the watcher only writes the outbox row, in the
// transaction that records the crash.
package export

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// Defaults of the send loop.
const (
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait after a failed
	// send: it doubles from the first to the second (with up to 20% jitter).
	// A Mac that slept resumes its timers when it wakes, so the next try
	// is at most DefaultMaxBackoff after waking.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// DefaultPoll is how often the outbox is looked at when nothing is
	// pending and no Kick came (toggle changes and probes recorded by
	// other code paths).
	DefaultPoll = 10 * time.Second
	// BatchSize is how many events go in one request.
	BatchSize = 200
	// kickSettle is the wait after a Kick: the history commits within
	// about a second of an event.
	kickSettle = 1500 * time.Millisecond
	// sendTimeout bounds one request.
	sendTimeout = 30 * time.Second
)

// Outbox is what the exporter needs of the history database.
type Outbox interface {
	PendingOutbox(ctx context.Context, limit int) ([]history.OutboxEvent, error)
	MarkOutboxSent(seqs []int64, t time.Time) error
	MarkOutboxFailed(seqs []int64) error
	PruneOutbox(now time.Time) (int, error)
}

// Config says where and what to send.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL (http://127.0.0.1:4318); records
	// go to its /v1/logs, as OTEL_EXPORTER_OTLP_ENDPOINT does
	// (https://opentelemetry.io/docs/specs/otel/protocol/exporter/).
	Endpoint string
	// Headers go with every request (Authorization, tenant ids).
	Headers map[string]string
	Redact  redact.Redaction
	// Home is the user's home folder, for the home rule of Redact.
	Home    string
	Version string // service.version
	Outbox  Outbox
	Log     *slog.Logger
	// MinBackoff, MaxBackoff, Poll: zero gives the defaults.
	MinBackoff, MaxBackoff, Poll time.Duration
}

// Exporter sends the outbox until its context ends.
type Exporter struct {
	cfg  Config
	exp  *otlploghttp.Exporter
	lp   *sdklog.LoggerProvider
	coll *collect
	log  otellog.Logger
	kick chan struct{}
	done chan struct{}

	mu   sync.Mutex
	last Status
}

// Status is the exporter's last outcome, for `status` and the menu.
type Status struct {
	LastSent  time.Time
	LastError string
	Failures  int // consecutive failed sends
}

// ErrUserinfo is the one line an endpoint with a user or password gets; the
// URL is not repeated (it holds the password).
var ErrUserinfo = errors.New("export endpoint has a user or password in it: not used; put credentials in ExportHeaders (e.g. Authorization)")

// LogsURL is the URL records are posted to for a base endpoint.
func LogsURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("export endpoint %q: not a URL", redact.StripUserinfo(endpoint))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("export endpoint %q: want an http:// or https:// URL with a host", redact.StripUserinfo(endpoint))
	}
	if u.User != nil {
		return "", ErrUserinfo
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/logs"
	return u.String(), nil
}

// Start builds the exporter and starts its goroutine. Call it only when an
// endpoint is set; it returns when the goroutine runs. Done is closed
// when ctx ends and the last request has returned.
func Start(ctx context.Context, cfg Config) (*Exporter, error) {
	if cfg.Outbox == nil {
		return nil, errors.New("export: no outbox")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	target, err := LogsURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	// TLS is Go's default (system roots, TLS 1.2+); the exporter's own
	// retries are off: the outbox retries, and survives restarts.
	// Every option the SDK would otherwise take from OTEL_EXPORTER_OTLP_*
	// is set here: endpoint and path (WithEndpointURL), headers (an empty
	// map still counts as set), compression, timeout; certificates and
	// the rest of TLS come with our own client.
	headers := map[string]string{}
	for k, v := range cfg.Headers {
		headers[k] = v
	}
	opts := []otlploghttp.Option{
		otlploghttp.WithEndpointURL(target),
		otlploghttp.WithHeaders(headers),
		otlploghttp.WithCompression(otlploghttp.NoCompression),
		otlploghttp.WithTimeout(sendTimeout),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
		otlploghttp.WithHTTPClient(newHTTPClient()),
	}
	if strings.HasPrefix(target, "https:") {
		// Set, so that OTEL_EXPORTER_OTLP_CERTIFICATE is not even read
		// (our client's transport is what connects).
		opts = append(opts, otlploghttp.WithTLSClientConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	exp, err := otlploghttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	res, err := newResource(ctx, cfg.Version, cfg.Log)
	if err != nil {
		return nil, err
	}
	coll := &collect{}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(coll))
	e := &Exporter{
		cfg: cfg, exp: exp, lp: lp, coll: coll,
		log:  lp.Logger("github.com/forkwatch/forkwatch", otellog.WithInstrumentationVersion(cfg.Version)),
		kick: make(chan struct{}, 1), done: make(chan struct{}),
	}
	go e.run(ctx)
	return e, nil
}

// newHTTPClient is the exporter's client: Go's default transport (system
// roots, TLS 1.2+, HTTPS_PROXY as for any program), the send timeout, and
// redirects followed only within the endpoint's origin.
func newHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		Timeout:   sendTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("export: more than 5 redirects")
			}
			if from := via[0].URL; !sameOrigin(req.URL, from) {
				return fmt.Errorf("export: refused a redirect from %s to another origin (%s)", origin(from), origin(req.URL))
			}
			return nil
		},
	}
}

// sameOrigin compares scheme, host and port (RFC 6454), default ports
// filled in.
func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// Kick asks for a send now (an event was just recorded). It never blocks;
// while backing off after a failure it is ignored.
func (e *Exporter) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Done is closed when the exporter has stopped.
func (e *Exporter) Done() <-chan struct{} { return e.done }

// Status returns the last outcome.
func (e *Exporter) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

func (e *Exporter) run(ctx context.Context) {
	defer close(e.done)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = e.exp.Shutdown(sctx)
		_ = e.lp.Shutdown(sctx)
	}()
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	due := time.Now() // when timer fires
	defer timer.Stop()
	wait := func(d time.Duration) {
		timer.Reset(d)
		due = time.Now().Add(d)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.kick:
			// The watcher commits a crash about a second after it saw
			// it (history.DB batches): look after that, unless a look is
			// due sooner. A stream of crashes (a crash loop) thus
			// sends every kickSettle, never postponed. While waiting out
			// a failure, kicks change nothing.
			if backoff > 0 || time.Until(due) <= kickSettle {
				continue
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			wait(kickSettle)
			continue
		}
		if n, err := e.cfg.Outbox.PruneOutbox(time.Now()); err != nil {
			e.cfg.Log.Warn("export: prune the outbox", "err", err)
		} else if n > 0 {
			e.cfg.Log.Warn("export: dropped events past the outbox's bounds", "dropped", n)
		}
		err := e.drain(ctx)
		if ctx.Err() != nil {
			return
		}
		e.mu.Lock()
		if err != nil {
			e.last.LastError = redact.StripUserinfo(err.Error())
			e.last.Failures++
		} else {
			e.last.LastError, e.last.Failures = "", 0
		}
		e.mu.Unlock()
		if err != nil {
			backoff = next(backoff, e.cfg.MinBackoff, e.cfg.MaxBackoff)
			e.cfg.Log.Warn("export: send failed; retrying", "in", backoff.Round(time.Millisecond), "err", err)
			wait(backoff)
			continue
		}
		backoff = 0
		wait(e.cfg.Poll)
	}
}

// next is the wait after one more failure: doubled, capped, with jitter.
func next(cur, lo, hi time.Duration) time.Duration {
	d := lo
	if cur > 0 {
		d = min(cur*2, hi)
	}
	return d - time.Duration(rand.Float64()*0.2*float64(d))
}

// drain sends pending events in batches until none is left or a send
// fails.
func (e *Exporter) drain(ctx context.Context) error {
	for {
		events, err := e.cfg.Outbox.PendingOutbox(ctx, BatchSize)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		if err := e.send(ctx, events); err != nil {
			return err
		}
		if len(events) < BatchSize {
			return nil
		}
	}
}

// send exports one batch and marks it sent.
func (e *Exporter) send(ctx context.Context, events []history.OutboxEvent) error {
	recs := make([]sdklog.Record, 0, len(events))
	seqs := make([]int64, 0, len(events))
	var bad []int64
	for _, ev := range events {
		r, err := toRecord(ev, e.cfg.Redact, e.cfg.Home)
		if err != nil {
			// A payload that cannot be read never will be: drop it
			// rather than block the queue.
			e.cfg.Log.Error("export: dropping an unreadable event", "id", ev.ID, "err", err)
			bad = append(bad, ev.Seq)
			continue
		}
		e.log.Emit(ctx, r)
		rec, ok := e.coll.take()
		if !ok {
			return errors.New("export: the SDK built no record")
		}
		recs = append(recs, rec)
		seqs = append(seqs, ev.Seq)
	}
	now := time.Now()
	if len(bad) > 0 {
		if err := e.cfg.Outbox.MarkOutboxSent(bad, now); err != nil {
			return err
		}
	}
	if len(recs) == 0 {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := e.exp.Export(sctx, recs); err != nil {
		if merr := e.cfg.Outbox.MarkOutboxFailed(seqs); merr != nil {
			e.cfg.Log.Warn("export: count the attempt", "err", merr)
		}
		return fmt.Errorf("export %d events to %s: %w", len(recs), redact.StripUserinfo(e.cfg.Endpoint), err)
	}
	if err := e.cfg.Outbox.MarkOutboxSent(seqs, now); err != nil {
		return err
	}
	e.mu.Lock()
	e.last.LastSent = now
	e.mu.Unlock()
	e.cfg.Log.Debug("export: sent", "events", len(recs))
	return nil
}

// collect is an SDK processor that keeps the record the logger built, so
// that send can export it with the exporter directly and learn whether the
// collector accepted it (a Logger's Emit returns nothing).
type collect struct {
	mu  sync.Mutex
	rec []sdklog.Record
}

func (c *collect) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec = append(c.rec, r.Clone())
	return nil
}

func (c *collect) take() (sdklog.Record, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rec) == 0 {
		return sdklog.Record{}, false
	}
	r := c.rec[0]
	c.rec = c.rec[1:]
	return r, true
}

func (c *collect) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collect) Shutdown(context.Context) error                         { return nil }
func (c *collect) ForceFlush(context.Context) error                       { return nil }

var _ sdklog.Processor = (*collect)(nil)
