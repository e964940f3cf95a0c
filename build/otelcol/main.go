// Command otelcol-forkwatch is a minimal OpenTelemetry Collector, built from
// the collector's own Go modules, for Forkwatch's end-to-end export test:
// the OTLP receiver (HTTP on the address of its config) and the contrib file
// exporter (one JSON line per batch). It is its own Go module so that the
// app's module graph never gains the collector's dependencies.
//
// The layout follows what the collector builder (ocb) generates: a
// components func naming the factories, and otelcol.NewCommand with the
// file config provider
// (https://github.com/open-telemetry/opentelemetry-collector/tree/main/cmd/builder).
//
//	go build -o otelcol-forkwatch . && ./otelcol-forkwatch --config config.yaml
package main

import (
	"fmt"
	"os"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

func components() (otelcol.Factories, error) {
	var f otelcol.Factories
	var err error
	if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
		return f, fmt.Errorf("receivers: %w", err)
	}
	if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](fileexporter.NewFactory()); err != nil {
		return f, fmt.Errorf("exporters: %w", err)
	}
	// The collector's own telemetry (its logs; metrics are off in the
	// test's config).
	f.Telemetry = otelconftelemetry.NewFactory()
	return f, nil
}

func main() {
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "otelcol-forkwatch",
			Description: "OTLP receiver and file exporter, for Forkwatch's export test",
			Version:     "test",
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory()},
				DefaultScheme:     "env",
			},
		},
	}
	if err := otelcol.NewCommand(set).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "otelcol-forkwatch:", err)
		os.Exit(1)
	}
}
