#!/bin/sh
# Compiles the TypeScript sources into dist/ and the native parts into build/.
set -eu
cd "$(dirname "$0")/.."
make -s -C native
node_modules/.bin/tsc -p tsconfig.json
