// Package monitor is the watcher: it follows the DiagnosticReports folders
// and the core-file folder (fsnotify, or kqueue on macOS), decides when a
// file is complete, reads it with report.ReadFile, runs the enrichers on the
// detection path (Config.Enrich, Config.EnrichCore: the probe marker, the
// fork tracer, attribution), remembers what was seen (Store) and emits one
// Event per crash.
//
// What a report means lives in monitor/report; who crashed, from the live
// process table, in monitor/attribute. Neither imports this package.
package monitor
