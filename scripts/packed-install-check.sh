#!/usr/bin/env bash
# Packed-install check: installs what `npm publish` would ship and uses it the way a user does.
#
#   1. packs every public package (`pnpm pack`, which also rewrites `workspace:` ranges);
#   2. installs the tarballs, with the adapters' peers, into a scratch project OUTSIDE the
#      workspace (nothing can resolve from the monorepo's node_modules);
#   3. runs an ESM smoke script on Node, Deno 2.9 and Bun 1.4 (they must print the same lines),
#      a CommonJS smoke script, and `tsc --noEmit` (strict, nodenext) over a file that imports
#      every documented entry point, as ESM and as CommonJS;
#   4. imports each `@ballast/adapters/*` subpath with only its documented peers installed, and
#      runs the `ballast` CLI with none (it must name the peer to install and exit 3).
#
# Usage: scripts/packed-install-check.sh [--no-build]   (CI builds once before calling it)
# Deno and Bun come from npm (`deno`, `@oven/bun-linux-x64`) and are cached in .tmp/runtimes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fixtures="$root/scripts/packed-install"
started=$SECONDS
say() { printf '[packed-install %3ss] %s\n' "$((SECONDS - started))" "$*"; }
npm_install() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }

# The documented peers of each adapters subpath: the optional peers named on the install line
# (`pnpm add …`) of its page, docs/adapters-<subpath>.md; a subpath without a page of its own
# needs the framework it is named after. So a page that stops listing a peer obliges the
# subpath to load without it.
declare -A peers=()
while IFS='=' read -r subpath list; do peers[$subpath]=$list; done < <(node -e '
  const fs = require("node:fs");
  const manifest = require("./packages/adapters/package.json");
  const optional = Object.keys(manifest.peerDependencies ?? {});
  for (const key of Object.keys(manifest.exports)) {
    if (key === "./package.json") continue;
    const subpath = key.slice(2);
    const page = `docs/adapters-${subpath}.md`;
    let named = optional.includes(subpath) ? [subpath] : [];
    if (fs.existsSync(page)) {
      const install = fs.readFileSync(page, "utf8").split("\n").find((line) => /^(pnpm add|npm i(nstall)?) /.test(line));
      if (install) named = install.split(/\s+/).filter((word) => optional.includes(word));
    }
    console.log(`${subpath}=${named.join(" ")}`);
  }
')

if [ "${1:-}" != "--no-build" ]; then
  say "building packages"
  pnpm -r --filter './packages/*' build >/dev/null
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ballast-packed-install.XXXXXX")
# BALLAST_KEEP_SCRATCH=1 keeps the scratch project for a look after a failure.
[ "${BALLAST_KEEP_SCRATCH:-}" = 1 ] || trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tarballs" "$scratch/app" "$scratch/bare"

say "packing public packages"
tarballs=()
for dir in packages/*/; do
  private=$(node -p "require('./${dir}package.json').private === true")
  [ "$private" = true ] && continue
  tarball=$(cd "$dir" && pnpm pack --pack-destination "$scratch/tarballs" 2>/dev/null | tail -n 1)
  tarballs+=("$tarball")
  # What users download: no source maps without sources, a licence in every package.
  listing=$(tar -tzf "$tarball")
  grep -q '^package/LICENSE$' <<<"$listing" || { echo "no LICENSE in $tarball" >&2; exit 1; }
  if grep -q '\.map$' <<<"$listing"; then echo "source maps shipped in $tarball" >&2; exit 1; fi
done

# Every tarball is a dependency and an override, so `@ballast/server`'s dependency on
# `@ballast/core` is the packed core too, never one from the registry.
write_manifest() { # dir, extra dependencies as JSON
  node -e '
    const [dir, extra, ...tarballs] = process.argv.slice(1);
    const deps = {};
    for (const file of tarballs) {
      const name = require("node:child_process")
        .execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" });
      deps[JSON.parse(name).name] = `file:${file}`;
    }
    const manifest = { name: "packed-install-app", private: true, type: "module",
      dependencies: { ...deps, ...JSON.parse(extra) }, overrides: deps };
    require("node:fs").writeFileSync(`${dir}/package.json`, JSON.stringify(manifest, null, 2));
  ' "$1" "$2" "${tarballs[@]}"
}

adapter_range() { node -p "require('./packages/adapters/package.json').devDependencies['$1']"; }
app_peers=$(node -e '
  const adapters = require("./packages/adapters/package.json");
  const dev = adapters.devDependencies;
  // Every optional peer, at the version the workspace tests with, and the types Express needs.
  const pick = [...Object.keys(adapters.peerDependencies), "@types/express"];
  const out = Object.fromEntries(pick.map((name) => [name, dev[name] ?? adapters.peerDependencies[name]]));
  out["@types/node"] = require("./package.json").devDependencies["@types/node"];
  console.log(JSON.stringify(out));
')

say "installing the tarballs and the adapters' peers into $scratch/app (and, alongside, without peers into $scratch/bare)"
write_manifest "$scratch/app" "$app_peers"
write_manifest "$scratch/bare" '{}'
(cd "$scratch/bare" && npm_install >"$scratch/bare-install.log" 2>&1) &
bare_install=$!
(cd "$scratch/app" && npm_install)
cp "$fixtures"/* "$scratch/app/"

say "ESM smoke on Node $(node -v)"
(cd "$scratch/app" && node smoke.mjs) | tee "$scratch/node.out"

runtimes="$root/.tmp/runtimes"
if [ ! -x "$runtimes/node_modules/.bin/deno" ] || [ ! -x "$runtimes/node_modules/@oven/bun-linux-x64/bin/bun" ]; then
  say "fetching Deno 2.9 and Bun 1.4 from npm into .tmp/runtimes"
  mkdir -p "$runtimes"
  npm_install --prefix "$runtimes" --no-save deno@2.9 @oven/bun-linux-x64@1.4 >/dev/null
fi
deno="$runtimes/node_modules/.bin/deno"
bun="$runtimes/node_modules/@oven/bun-linux-x64/bin/bun"

say "ESM smoke on Deno $("$deno" --version | head -n 1 | cut -d' ' -f2)"
(cd "$scratch/app" && DENO_NO_UPDATE_CHECK=1 "$deno" run -A --quiet smoke.mjs) >"$scratch/deno.out"
diff -u "$scratch/node.out" "$scratch/deno.out" || { echo "Deno answers differently from Node" >&2; exit 1; }

say "ESM smoke on Bun $("$bun" --version)"
(cd "$scratch/app" && "$bun" smoke.mjs) >"$scratch/bun.out"
diff -u "$scratch/node.out" "$scratch/bun.out" || { echo "Bun answers differently from Node" >&2; exit 1; }

say "CJS smoke on Node"
(cd "$scratch/app" && node smoke.cjs)

say "tsc --noEmit (strict, nodenext) over every documented entry point, ESM and CJS"
(cd "$scratch/app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json)
(cd "$scratch/app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.s3.json)

say "each adapters subpath with only its documented peers"
wait "$bare_install" || { cat "$scratch/bare-install.log" >&2; exit 1; }
for subpath in "${!peers[@]}"; do
  for peer in ${peers[$subpath]}; do
    mkdir -p "$(dirname "$scratch/bare/node_modules/$peer")"
    ln -s "$scratch/app/node_modules/$peer" "$scratch/bare/node_modules/$peer"
  done
  for format in import require; do
    if [ "$format" = import ]; then
      probe="import('@ballast/adapters/$subpath').then((m) => console.log(Object.keys(m).length))"
    else
      probe="console.log(Object.keys(require('@ballast/adapters/$subpath')).length)"
    fi
    if ! count=$(cd "$scratch/bare" && node -e "$probe" 2>"$scratch/err"); then
      echo "@ballast/adapters/$subpath ($format) fails with only [${peers[$subpath]}] installed:" >&2
      head -n 5 "$scratch/err" >&2
      exit 1
    fi
  done
  echo "  @ballast/adapters/$subpath loads with [${peers[$subpath]}] ($count exports)"
  for peer in ${peers[$subpath]}; do rm "$scratch/bare/node_modules/$peer"; done
done

say "the ballast CLI without its peers names what to install (exit 3, no stack)"
set +e
cli_out=$(cd "$scratch/bare" && node_modules/.bin/ballast --help 2>&1)
cli_code=$?
set -e
if [ "$cli_code" != 3 ] || ! grep -q 'npm i kysely' <<<"$cli_out" || grep -q 'node:internal' <<<"$cli_out"; then
  echo "ballast without kysely exited $cli_code with:" >&2
  echo "$cli_out" >&2
  exit 1
fi
# With --json the one document on stdout says the same (stderr left out).
set +e
cli_json=$(cd "$scratch/bare" && node_modules/.bin/ballast backup list --json 2>/dev/null)
set -e
if ! node -e 'const d = JSON.parse(process.argv[1]); if (d.ok !== false || !/npm i kysely/.test(d.error.message)) process.exit(1)' "$cli_json"; then
  echo "ballast --json without kysely printed: $cli_json" >&2
  exit 1
fi

say "packed-install check passed"
