#!/bin/sh
# write-settings.sh HOME_DIR
# Creates HOME_DIR (qwen exits 1 with "ENOENT ... lstat" if HOME is missing)
# and HOME_DIR/.qwen/settings.json turning off every outbound call other
# than the model server, unless a settings.json already exists there.
#   privacy.usageStatisticsEnabled=false  no usage logging to
#                                         gb4w8c3ygj-default-sea.rum.aliyuncs.com
#                                         (without it qwen does a DNS lookup
#                                         for that host on every run)
#   telemetry.enabled=false               no OpenTelemetry export (default off)
#   general.enableAutoUpdate=false        no npm registry update check (only
#                                         done by the interactive UI anyway)
#   $version=4                            the settings schema version of qwen
#                                         0.15.10, kept as it is by 0.24.4; without it qwen migrates the
#                                         file and leaves settings.json.orig
set -eu
if [ $# -ne 1 ]; then
    echo "usage: write-settings.sh HOME_DIR" >&2
    exit 2
fi
mkdir -p "$1/.qwen"
if [ ! -e "$1/.qwen/settings.json" ]; then
    cat > "$1/.qwen/settings.json" <<'EOF'
{
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
  "general": { "enableAutoUpdate": false },
  "$version": 4
}
EOF
fi
