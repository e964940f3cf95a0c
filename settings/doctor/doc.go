// Package doctor checks this Mac: which Python interpreters there are, whether
// a crash of each would write a core file, whether the fork-safety variable
// reaches the processes that need it, and, opt-in, a live probe that forks a
// child from a multithreaded Python and shows whether the Objective-C runtime
// kills it. It reads the system the way the toggles in package settings do,
// and the app only prints what it returns.
//
// The facts it relies on, and where they come from:
//
//   - Core files: "Core dumps are disabled by default under Darwin/macOS";
//     `launchctl limit core` governs processes launchd starts, ulimit/limit
//     those a shell starts, and the file is written in /cores "provided the
//     terminated process had write permission in the directory, and the
//     directory existed" (core(5), macOS 15.2,
//     https://keith.github.io/xcode-man-pages/core.5.html). /cores is not
//     writable by users on Big Sur by default
//     (https://github.com/0xmachos/mOrc/issues/6).
//   - A signal-triggered core dump on current macOS also needs the
//     com.apple.security.get-task-allow entitlement, which notarized
//     hardened-runtime builds lack (https://github.com/eclipse-omr/omr/issues/5813;
//     https://github.com/wazuh/wazuh/issues/23455, where ad-hoc re-signing with
//     the entitlement made cores appear).
//   - The +initialize fork-safety check fires only in the child of a
//     multithreaded parent: objc4's _objc_atfork_child (runtime/objc-os.mm,
//     https://github.com/apple-oss-distributions/objc4/blob/main/runtime/objc-os.mm)
//     sets MultithreadedForkChild only `if (ForkIsMultithreaded &&
//     !DisableInitializeForkSafety)`. The variable is read once at start-up
//     (environ_init, runtime/objc-runtime.mm), and in objc4 750-818 only the
//     exact value YES counts, so the probe starts one thread before it forks
//     and the report flags any other spelling.
package doctor
