package export

import (
	"context"
	"log/slog"
	"os"
	"runtime"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// newResource describes this Mac and this Forkwatch: service.name,
// service.version, host.name, host.id, os.type, os.version. host.id comes
// from the SDK's detector (IOPlatformUUID from ioreg on macOS,
// /etc/machine-id on Linux); a value that cannot be read is left out.
func newResource(ctx context.Context, version string, log *slog.Logger) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{
		semconv.ServiceName("forkwatch"),
		semconv.ServiceVersion(version),
		semconv.OSTypeKey.String(runtime.GOOS),
	}
	if h, err := os.Hostname(); err == nil {
		attrs = append(attrs, semconv.HostName(h))
	}
	if v := osVersion(); v != "" {
		attrs = append(attrs, semconv.OSVersion(v))
	}
	if r, err := resource.New(ctx, resource.WithHostID()); err == nil {
		if v, ok := r.Set().Value(semconv.HostIDKey); ok && v.AsString() != "" {
			attrs = append(attrs, semconv.HostID(v.AsString()))
		}
	} else {
		log.Debug("export: host.id", "err", err)
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...), nil
}
