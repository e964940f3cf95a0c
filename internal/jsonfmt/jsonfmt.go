// Package jsonfmt holds what every JSON line Forkwatch writes shares: the
// version of the format (the "schema" field), in one place for every
// command and room (`watch --json`, `status --json`, `doctor --json`,
// `history --json`, `inspect --json`), below both monitor and app so that
// either may stamp it.
//
// The promise (README, "JSON output"): within one Schema, fields are only
// added, never renamed, retyped or given a new meaning; a field whose value
// is unknown is left out rather than written as zero or ""; times are
// RFC 3339. A change that breaks a reader raises Schema.
package jsonfmt

// Schema is the version of Forkwatch's JSON output format.
const Schema = 1
