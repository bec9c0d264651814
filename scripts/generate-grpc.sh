#!/usr/bin/env bash
# Regenerates the committed gRPC and protobuf code of the ParleyGRPC module:
#
#   Sources/ParleyGRPC/Protos/**/*.proto  -->  Sources/ParleyGRPC/Generated/*.pb.swift, *.grpc.swift
#
# It uses Debian's `protoc` (apt-get install protobuf-compiler) and the two code generator plugins,
# `protoc-gen-swift` (swift-protobuf) and `protoc-gen-grpc-swift-2` (grpc-swift-protobuf), which it
# builds once into .build-protogen/ from a throwaway package (.build-protogen/tools/Package.swift)
# that depends on exactly the versions the library uses. The normal `swift build` never builds the
# plugins nor swift-protobuf's bundled C++ protoc: the generated files are committed.
#
# The plugin versions are read from Package.resolved when it exists (so generator and runtime stay
# equal); otherwise the defaults below are used. PROTOBUF_VERSION, GRPC_SWIFT_VERSION and
# GRPC_SWIFT_PROTOBUF_VERSION in the environment override both.
#
# Usage, from anywhere: scripts/generate-grpc.sh        (re-runnable; rebuilds plugins only when
#                                                          their versions change)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

protos_dir="Sources/ParleyGRPC/Protos"
out_dir="Sources/ParleyGRPC/Generated"
gen_root=".build-protogen"
tools_dir="$gen_root/tools"

# The version of a package pinned in Package.resolved, or nothing.
resolved_version() {
    [ -f Package.resolved ] || return 0
    awk -v id="\"$1\"" '
        $0 ~ "\"identity\" *: *" id { found = 1 }
        found && /"version"/ { gsub(/[",]/, "", $3); print $3; exit }
    ' Package.resolved
}

protobuf_version="${PROTOBUF_VERSION:-$(resolved_version swift-protobuf)}"
grpc_version="${GRPC_SWIFT_VERSION:-$(resolved_version grpc-swift-2)}"
grpc_protobuf_version="${GRPC_SWIFT_PROTOBUF_VERSION:-$(resolved_version grpc-swift-protobuf)}"
protobuf_version="${protobuf_version:-1.39.0}"
grpc_version="${grpc_version:-2.4.3}"
grpc_protobuf_version="${grpc_protobuf_version:-2.4.1}"

if ! command -v protoc >/dev/null 2>&1; then
    echo "error: protoc is missing; install it with: apt-get install -y protobuf-compiler" >&2
    exit 1
fi

# 1. The plugins, built once per set of versions.
mkdir -p "$tools_dir"
manifest="// swift-tools-version:6.1
// Written by scripts/generate-grpc.sh: builds the protoc plugins only. Not part of the project.
import PackageDescription

let package = Package(
    name: \"parley-protogen\",
    dependencies: [
        .package(url: \"https://github.com/apple/swift-protobuf.git\", exact: \"$protobuf_version\"),
        .package(url: \"https://github.com/grpc/grpc-swift-2.git\", exact: \"$grpc_version\"),
        .package(url: \"https://github.com/grpc/grpc-swift-protobuf.git\", exact: \"$grpc_protobuf_version\"),
    ],
    targets: []
)
"
if ! printf '%s' "$manifest" | cmp -s - "$tools_dir/Package.swift"; then
    printf '%s' "$manifest" >"$tools_dir/Package.swift"
    rm -f "$tools_dir/Package.resolved"
fi

build=(swift build --package-path "$tools_dir" --scratch-path "$gen_root/build")
bin="$("${build[@]}" --show-bin-path)"
for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
    if [ ! -x "$bin/$product" ] || [ "$tools_dir/Package.swift" -nt "$bin/$product" ]; then
        echo "Building $product (swift-protobuf $protobuf_version, grpc-swift-2 $grpc_version, grpc-swift-protobuf $grpc_protobuf_version)..."
        "${build[@]}" --product "$product"
        touch "$bin/$product"
    fi
done

# 2. The generated code, written to a temporary folder and then swapped in whole, so that a removed
#    .proto also loses its generated files and a failed run leaves the old files in place.
mapfile -t protos < <(cd "$protos_dir" && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
if [ "${#protos[@]}" -eq 0 ]; then
    echo "error: no .proto files under $protos_dir" >&2
    exit 1
fi
tmp="$(mktemp -d "$gen_root/generated.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
options="Visibility=Public,FileNaming=DropPath"
protoc \
    --plugin="protoc-gen-swift=$bin/protoc-gen-swift" \
    --plugin="protoc-gen-grpc-swift-2=$bin/protoc-gen-grpc-swift-2" \
    --proto_path="$protos_dir" \
    --swift_out="$tmp" --swift_opt="$options" \
    --grpc-swift-2_out="$tmp" --grpc-swift-2_opt="$options" \
    "${protos[@]}"

rm -rf "$out_dir"
mkdir -p "$out_dir"
cp "$tmp"/*.swift "$out_dir"/
echo "Generated with $(protoc --version), swift-protobuf $protobuf_version, grpc-swift-protobuf $grpc_protobuf_version:"
(cd "$out_dir" && ls -1 *.swift | sed 's/^/  /')
