#!/usr/bin/env bash
# Refreshes the README's history screenshot (docs/history.png) from a
# realistic three-week history (app/screenshots_test.go: real corpus
# reports, a gunicorn crash loop, celery workers, toggles, core files)
# through the real `forkwatch history --page`, rendered by headless
# Chromium. Needs chromium (apt-get install chromium).
#
# The menu screenshot (docs/menu-linux.png) is taken by hand on the
# throwaway desktop: ../shared/tools/xdesk start; xdesk run bin/forkwatch;
# xdesk click-tray; xdesk shot docs/menu-linux.png.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -run '^TestHistoryScreenshot$' ./app -args -screenshots
ls -l docs/history.png
