// Package appinfo is the lowest room of the forkwatch command: where
// Forkwatch keeps its files (the support, log and crash report folders, the
// history database), which version it is, and the lock that makes one
// Forkwatch per user the one that records. Every other room of app/ may use
// it; it imports none of them, which is what keeps the rooms above from
// forming a circle (commands → menu → notifications → paths → commands).
package appinfo
