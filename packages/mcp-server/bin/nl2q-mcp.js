#!/usr/bin/env node
// `nl2q-mcp`: the hub as an MCP server on stdio, compiled to dist/ by `pnpm build` (run by `pnpm install`).
import '../dist/stdio.js'
