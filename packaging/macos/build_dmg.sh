#!/usr/bin/env bash
# macOS: dist/KazooDesk.app (PyInstaller's BUNDLE, from packaging/pyinstaller/kazoodesk.spec)
# into dist/kazoodesk-<version>-macos-<arch>.dmg, a disk image with the app and a link to
# /Applications to drag it onto. Runs on macOS only (hdiutil); release.yml calls it.
#
# The app is signed ad hoc (PyInstaller does that): Gatekeeper asks users to confirm the first
# start. With CODESIGN_IDENTITY set (a "Developer ID Application" certificate in the keychain)
# the app and the image are signed with it; notarizing is then `xcrun notarytool submit`.
set -euo pipefail
cd "$(dirname "$0")/../.."

app=dist/KazooDesk.app
[ -d "$app" ] || { echo "$app is missing: run PyInstaller first (packaging/README.md)" >&2; exit 1; }
version=$(python3 -c 'import sys; sys.path.insert(0, "app"); import kazoodesk; print(kazoodesk.__version__)')
dmg="dist/kazoodesk-$version-macos-$(uname -m).dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
fi

staging=build/dmg
rm -rf "$staging" "$dmg"
mkdir -p "$staging"
ditto "$app" "$staging/KazooDesk.app"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "KazooDesk $version" -srcfolder "$staging" -fs HFS+ -format UDZO "$dmg"

if [ -n "${CODESIGN_IDENTITY:-}" ]; then
    codesign --sign "$CODESIGN_IDENTITY" --timestamp "$dmg"
fi
echo "$dmg"
