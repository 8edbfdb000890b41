#!/usr/bin/env node
// `nl2q`: the hub CLI, compiled to dist/ by `pnpm build` (run by `pnpm install`).
import '../dist/cli/main.js'
