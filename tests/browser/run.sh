#!/usr/bin/env bash
# The browser test suite (scripts/test runs it). Needs web/dist (scripts/setup builds it),
# tests/browser/node_modules (npm ci here) and Debian's chromium at /usr/bin/chromium.
# AGORA_BASE_URL=http://host:port runs the chat tests against a real `agora serve` instead of
# the mock API (see docs/web.md).
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
[ -f ../../web/dist/index.html ] || (cd ../../web && { [ -d node_modules/vite ] || npm ci --no-audit --no-fund; } && npm run build)
exec node --test --test-concurrency=1 --test-timeout=180000 --test-force-exit size.test.mjs chat.test.mjs auth.test.mjs "$@"
