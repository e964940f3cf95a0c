package main

// Root with the user's HOME (issue 28). `sudo -E forkwatch watch`, or a
// sudoers that keeps HOME, runs Forkwatch as root in the user's home
// folder: every link the user made there (a forkwatch.pid leading to a
// root file, a debug folder leading to a root folder, a ~/.profile leading
// to /etc/…) would be followed by root, and every file Forkwatch creates
// there would be root's, which the user's own Forkwatch could then not
// change. So one check, run before any command that touches a home
// folder, refuses: "run as the user, not with sudo"
// (trust.RefuseRootWithUserHome, which looks at the home, support and log
// folders and every folder above them).
//
// The check sits in one place, the root command's PersistentPreRunE,
// which cobra runs before every command of the tree (no command defines
// its own). A command says it touches no home folder with the annotation
// homeAnnotation: homeNone; every other command is refused as root with
// someone else's home, so that a command added later is safe until it
// says otherwise. Nothing of Forkwatch is meant to be started as root: the
// one thing that runs as root, coredump-off's administrator script, runs
// through macOS's own password prompt (osascript), not through sudo.

import (
	"os"

	"github.com/forkwatch/forkwatch/app/internal/appinfo"
	"github.com/forkwatch/forkwatch/internal/trust"
	"github.com/spf13/cobra"
)

// homeAnnotation is the cobra annotation that says whether a command
// touches a home folder; homeNone: it does not (it reads only the files it
// is given, or prints).
const (
	homeAnnotation = "forkwatch/home"
	homeNone       = "none"
)

// noHome is the Annotations of a command that touches no home folder.
func noHome() map[string]string { return map[string]string{homeAnnotation: homeNone} }

// cobraOwn are the commands cobra adds itself: help, the completion
// scripts and the hidden completion requests (which call a command's
// ValidArgsFunction, never its RunE). They print; they touch no home.
var cobraOwn = map[string]bool{"help": true, "completion": true, cobra.ShellCompRequestCmd: true, cobra.ShellCompNoDescRequestCmd: true}

// touchesHome says whether cmd may touch a home folder: true unless it,
// or a command above it, says homeNone, or it is one of cobra's own.
func touchesHome(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[homeAnnotation] == homeNone || (c.HasParent() && cobraOwn[c.Name()]) {
			return false
		}
	}
	return true
}

// refuseRootWithUserHome is the root command's PersistentPreRunE.
func refuseRootWithUserHome(cmd *cobra.Command, _ []string) error {
	if !touchesHome(cmd) {
		return nil
	}
	return trust.RefuseRootWithUserHome(os.Geteuid(), appinfo.Home(), appinfo.SupportDir(), appinfo.LogDir())
}
