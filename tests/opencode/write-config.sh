#!/bin/sh
# write-config.sh HOME PORT FILE
# Sets up opencode to talk to nothing but the scripted model server on
# 127.0.0.1:PORT (tests/qwen/mock-server.js):
#   - FILE: an opencode config (point OPENCODE_CONFIG at it) whose only
#     provider is that server, model mock/mock, with auto-update and
#     sharing off;
#   - HOME/.config/opencode: opencode installs its plugin package
#     (@opencode-ai/plugin) from the npm registry into each config folder
#     whose node_modules is missing or whose package-lock.json lacks it,
#     at every start; an empty node_modules and a lock that names it
#     make it skip that.
# The environment opencode then needs (set by the caller, see
# tests/opencode/README.md): HOME, OPENCODE_DISABLE_AUTOUPDATE=1,
# OPENCODE_DISABLE_MODELS_FETCH=1 (no models.dev), OPENCODE_DISABLE_SHARE=1,
# OPENCODE_DISABLE_LSP_DOWNLOAD=1, OPENCODE_DISABLE_DEFAULT_PLUGINS=1.
set -eu
[ $# -eq 3 ] || { echo "usage: write-config.sh HOME PORT FILE" >&2; exit 2; }
home=$1 port=$2 file=$3

mkdir -p "$home/.config/opencode/node_modules"
printf '%s\n' '{"packages": {"": {"dependencies": {"@opencode-ai/plugin": "*"}}}}' \
    > "$home/.config/opencode/package-lock.json"
cat > "$file" <<JSON
{
  "\$schema": "https://opencode.ai/config.json",
  "provider": {
    "mock": {
      "npm": "@ai-sdk/openai-compatible",
      "name": "Mock",
      "options": { "baseURL": "http://127.0.0.1:$port/v1", "apiKey": "test" },
      "models": { "mock": { "name": "mock" } }
    }
  },
  "model": "mock/mock",
  "small_model": "mock/mock",
  "autoupdate": false,
  "share": "disabled"
}
JSON
