package export

// This file is the one place that reads report.Report (and the other
// outbox payloads) into OpenTelemetry log records: when Report moves to
// monitor/report, only this file changes.
//
// Names follow the OpenTelemetry semantic conventions where one exists
// (go.opentelemetry.io/otel/semconv/v1.43.0; registry:
// https://opentelemetry.io/docs/specs/semconv/registry/attributes/), and
// forkwatch.* for what only Forkwatch knows. A crash is the event `app.crash`:
// the conventions define it for "a termination of a user-facing application
// due to unrecoverable programming errors such as exceptions or signals",
// reported also by an instance that is not the crashed one, which then MUST
// carry the crashed process's identifying attributes on the event
// (https://opentelemetry.io/docs/specs/semconv/app/app-events/,
// EVENT_APP_CRASH in https://open-telemetry.github.io/opentelemetry-js/variables/_opentelemetry_semantic-conventions.incubating.EVENT_APP_CRASH.html).
// Core files, toggle changes and probe results have no convention:
// forkwatch.core_file, forkwatch.toggle, forkwatch.probe.

import (
	"encoding/json"
	"fmt"
	"github.com/forkwatch/forkwatch/monitor/report"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/forkwatch/forkwatch/internal/redact"
	"github.com/forkwatch/forkwatch/monitor/history"
)

// Event names.
const (
	EventCrash  = "app.crash"
	EventCore   = "forkwatch.core_file"
	EventToggle = "forkwatch.toggle"
	EventProbe  = "forkwatch.probe"
)

// Forkwatch's own attribute names (documented in the README's export
// section).
const (
	AttrIncidentID    = "forkwatch.incident_id" // the outbox id: the crash's incident id; dedupe on it
	AttrKind          = "forkwatch.kind"        // crash, core, toggle, probe
	AttrCause         = "forkwatch.cause"
	AttrFramework     = "forkwatch.framework"
	AttrFix           = "forkwatch.fix"
	AttrFixSource     = "forkwatch.fix_source"
	AttrProject       = "forkwatch.project"
	AttrVenv          = "forkwatch.venv"
	AttrForkSite      = "forkwatch.fork_site"
	AttrForkVia       = "forkwatch.fork_via"
	AttrGroup         = "forkwatch.group"
	AttrPython        = "forkwatch.python"
	AttrForkChild     = "forkwatch.fork_child"
	AttrObjCFork      = "forkwatch.objc_fork_safety"
	AttrInterpreter   = "forkwatch.interpreter"
	AttrModule        = "forkwatch.module"
	AttrProbe         = "forkwatch.probe"
	AttrParentProcess = "forkwatch.parent.process"
	AttrParentCommand = "forkwatch.parent.command_line"
	AttrParentCwd     = "forkwatch.parent.working_directory"
	AttrReportPath    = "forkwatch.report.path"
	AttrSignal        = "forkwatch.signal"
	AttrCorePath      = "forkwatch.core.path"
	AttrCoreSize      = "forkwatch.core.size"
	AttrToggleName    = "forkwatch.toggle.name"
	AttrToggleOn      = "forkwatch.toggle.on"
	AttrToggleDetail  = "forkwatch.toggle.detail"
	AttrToggleManaged = "forkwatch.toggle.managed"
	AttrProbeTarget   = "forkwatch.probe.interpreter"
	AttrProbeOK       = "forkwatch.probe.survived"
	AttrProbeDetail   = "forkwatch.probe.detail"
	AttrProbeCrashID  = "forkwatch.probe.crash_id"
)

// toRecord turns one outbox event into a log record, with the redaction
// applied. home is the user's home folder (for the home rule).
func toRecord(e history.OutboxEvent, red redact.Redaction, home string) (otellog.Record, error) {
	var rec otellog.Record
	rec.SetTimestamp(e.Time)
	rec.SetObservedTimestamp(e.Created)
	rec.AddAttributes(attribute.String(AttrIncidentID, e.ID), attribute.String(AttrKind, e.Kind))
	switch e.Kind {
	case history.OutboxKindCrash:
		var r report.Report
		if err := json.Unmarshal(e.Payload, &r); err != nil {
			return rec, fmt.Errorf("outbox %s: %w", e.ID, err)
		}
		crashRecord(&rec, &r, red, home)
	case history.OutboxKindCore:
		var c report.CoreFile
		if err := json.Unmarshal(e.Payload, &c); err != nil {
			return rec, fmt.Errorf("outbox %s: %w", e.ID, err)
		}
		rec.SetEventName(EventCore)
		rec.SetSeverity(otellog.SeverityWarn)
		rec.SetSeverityText("WARN")
		rec.SetBody(attribute.StringValue(fmt.Sprintf("core file of %s (pid %d): %d bytes", orUnknown(c.Process), c.PID, c.Size)))
		add(&rec, semconv.ProcessPIDKey.Int(c.PID), c.PID != 0)
		add(&rec, semconv.ProcessExecutableNameKey.String(c.Process), c.Process != "")
		add(&rec, semconv.ProcessParentPIDKey.Int(c.ParentPID), c.ParentPID != 0)
		rec.AddAttributes(attribute.String(AttrCorePath, red.Path(c.Path, home)), attribute.Int64(AttrCoreSize, c.Size))
		add(&rec, attribute.String(AttrParentProcess, c.ParentProcess), c.ParentProcess != "")
		add(&rec, attribute.String(AttrParentCommand, red.CommandLine(c.ParentCommand, home)), c.ParentCommand != "")
		add(&rec, attribute.String(AttrParentCwd, red.Folder(c.ParentCwd, home)), c.ParentCwd != "")
		add(&rec, attribute.String(AttrGroup, c.Group), c.Group != "")
	case history.OutboxKindToggle:
		var tg history.OutboxToggle
		if err := json.Unmarshal(e.Payload, &tg); err != nil {
			return rec, fmt.Errorf("outbox %s: %w", e.ID, err)
		}
		rec.SetEventName(EventToggle)
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetSeverityText("INFO")
		rec.SetBody(attribute.StringValue(fmt.Sprintf("%s turned %s", tg.Name, onOff(tg.On))))
		rec.AddAttributes(attribute.String(AttrToggleName, tg.Name), attribute.Bool(AttrToggleOn, tg.On))
		add(&rec, attribute.String(AttrToggleDetail, red.Path(tg.Detail, home)), tg.Detail != "")
		add(&rec, attribute.Bool(AttrToggleManaged, true), tg.Managed)
	case history.OutboxKindProbe:
		var p history.OutboxProbe
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return rec, fmt.Errorf("outbox %s: %w", e.ID, err)
		}
		rec.SetEventName(EventProbe)
		sev, text := otellog.SeverityInfo, "INFO"
		if !p.OK {
			sev, text = otellog.SeverityWarn, "WARN"
		}
		rec.SetSeverity(sev)
		rec.SetSeverityText(text)
		rec.SetBody(attribute.StringValue(p.Detail))
		rec.AddAttributes(attribute.String(AttrProbeTarget, red.Path(p.Name, home)), attribute.Bool(AttrProbeOK, p.OK))
		add(&rec, attribute.String(AttrProbeDetail, red.Path(p.Detail, home)), p.Detail != "")
		add(&rec, attribute.String(AttrProbeCrashID, p.CrashID), p.CrashID != "")
	default:
		return rec, fmt.Errorf("outbox %s: unknown kind %q", e.ID, e.Kind)
	}
	return rec, nil
}

// crashRecord fills an app.crash event from a Report.
func crashRecord(rec *otellog.Record, r *report.Report, red redact.Redaction, home string) {
	// With the project rule, the project and venv folders are hashed
	// wherever a path or command line names them, then the home rule runs.
	hide := func(s string) string {
		if red.Project {
			for _, dir := range []string{r.Venv, r.Project} { // the venv is often inside the project
				if dir != "" && len(dir) > 1 {
					s = strings.ReplaceAll(s, dir, red.Folder(dir, home))
				}
			}
		}
		return s
	}
	rec.SetEventName(EventCrash)
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	if r.Probe {
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetSeverityText("INFO")
	}
	rec.AddAttributes(semconv.AppCrashID(r.ID))
	add(rec, semconv.ProcessPIDKey.Int(r.PID), r.PID != 0)
	add(rec, semconv.ProcessParentPIDKey.Int(r.ParentPID), r.ParentPID != 0)
	add(rec, semconv.ProcessExecutableNameKey.String(r.Process), r.Process != "")
	add(rec, semconv.ProcessExecutablePathKey.String(red.Path(hide(r.ExePath), home)), r.ExePath != "")
	// A child forked without exec runs its parent's program with the
	// parent's argv: for a fork child the live parent's command line is
	// the crashed process's own. For other crashes it is only the parent's.
	if r.ParentCommand != "" {
		cmd := red.CommandLine(hide(r.ParentCommand), home)
		if r.ForkChild {
			rec.AddAttributes(semconv.ProcessCommandLineKey.String(cmd))
		}
		rec.AddAttributes(attribute.String(AttrParentCommand, cmd))
	}
	add(rec, attribute.String(AttrParentProcess, r.ParentProcess), r.ParentProcess != "")
	add(rec, attribute.String(AttrParentCwd, red.Path(hide(r.ParentCwd), home)), r.ParentCwd != "")
	add(rec, semconv.ProcessRuntimeVersionKey.String(r.PythonVersion), r.PythonVersion != "")
	add(rec, semconv.ExceptionTypeKey.String(r.Exception), r.Exception != "")
	msg := r.Termination
	if msg == "" {
		msg = r.Trigger
	}
	add(rec, semconv.ExceptionMessageKey.String(msg), msg != "")
	add(rec, attribute.String(AttrSignal, r.Signal), r.Signal != "")
	rec.AddAttributes(
		attribute.String(AttrCause, r.Cause),
		attribute.Bool(AttrPython, r.Python),
		attribute.Bool(AttrForkChild, r.ForkChild),
		attribute.Bool(AttrObjCFork, r.ObjCForkSafety),
	)
	add(rec, attribute.String(AttrFramework, r.Framework), r.Framework != "")
	add(rec, attribute.String(AttrFix, r.Fix), r.Fix != "")
	add(rec, attribute.String(AttrFixSource, r.FixSource), r.FixSource != "")
	add(rec, attribute.String(AttrProject, red.Folder(r.Project, home)), r.Project != "")
	add(rec, attribute.String(AttrVenv, red.Folder(r.Venv, home)), r.Venv != "")
	add(rec, attribute.String(AttrInterpreter, r.Interpreter), r.Interpreter != "")
	add(rec, attribute.String(AttrModule, r.Module), r.Module != "")
	add(rec, attribute.String(AttrGroup, r.Group), r.Group != "")
	add(rec, attribute.String(AttrForkVia, r.ForkVia), r.ForkVia != "")
	add(rec, attribute.Bool(AttrProbe, true), r.Probe)
	add(rec, attribute.String(AttrReportPath, red.Path(hide(r.Path), home)), r.Path != "")
	if s := r.ForkSite; s != nil {
		file := red.Path(hide(s.File), home)
		rec.AddAttributes(
			attribute.String(AttrForkSite, fmt.Sprintf("%s:%d in %s", file, s.Line, s.Function)),
			semconv.CodeFilePathKey.String(file),
			semconv.CodeLineNumberKey.Int(s.Line),
			semconv.CodeFunctionNameKey.String(s.Function),
		)
	}
	body := r.Advice
	if body == "" {
		body = r.Cause
	}
	rec.SetBody(attribute.StringValue(red.Path(body, home)))
}

func add(rec *otellog.Record, kv attribute.KeyValue, ok bool) {
	if ok {
		rec.AddAttributes(kv)
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown process"
	}
	return s
}
