#!/bin/sh
# Assembles the front end in build/www: our own files from www/, the npm
# libraries it uses (never committed), and a precompressed .gz beside every
# text asset so that the server can send gzip without compressing per request.
set -eu
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/esbuild ] || [ ! -f node_modules/echarts/dist/echarts.min.js ] || [ ! -f node_modules/echarts-gl/dist/echarts-gl.min.js ] ||
	[ ! -f node_modules/world-atlas/countries-110m.json ] || [ ! -f node_modules/topojson-client/dist/topojson-client.min.js ] ||
	[ ! -f node_modules/markdown-it/dist/browser/markdown-it.umd.min.js ] || [ ! -f node_modules/markdown-it-attrs/markdown-it-attrs.browser.js ] ||
	[ ! -f node_modules/dompurify/dist/purify.min.js ]; then
	npm install --no-audit --no-fund --loglevel=error
fi

rm -rf build/www
mkdir -p build/www/vendor
cp -R www/. build/www/
cp node_modules/echarts/dist/echarts.min.js build/www/vendor/echarts.min.js
cp node_modules/echarts/LICENSE build/www/vendor/echarts.LICENSE.txt
cp node_modules/echarts-gl/dist/echarts-gl.min.js build/www/vendor/echarts-gl.min.js
cp node_modules/echarts-gl/LICENSE build/www/vendor/echarts-gl.LICENSE.txt
cp node_modules/topojson-client/dist/topojson-client.min.js build/www/vendor/topojson-client.min.js
cp node_modules/topojson-client/LICENSE build/www/vendor/topojson-client.LICENSE.txt
cp node_modules/world-atlas/countries-110m.json build/www/vendor/countries-110m.json
cp node_modules/world-atlas/LICENSE build/www/vendor/world-atlas.LICENSE.txt
cp node_modules/markdown-it/dist/browser/markdown-it.umd.min.js build/www/vendor/markdown-it.min.js
cp node_modules/markdown-it/LICENSE build/www/vendor/markdown-it.LICENSE.txt
cp node_modules/markdown-it-attrs/markdown-it-attrs.browser.js build/www/vendor/markdown-it-attrs.min.js
cp node_modules/markdown-it-attrs/LICENSE build/www/vendor/markdown-it-attrs.LICENSE.txt
cp node_modules/dompurify/dist/purify.min.js build/www/vendor/purify.min.js
cp node_modules/dompurify/LICENSE build/www/vendor/dompurify.LICENSE.txt

# ECharts' modular build: its core (renderer and the components the charts
# use) and one module per chart kind, sharing chunks, so that a page loads
# only the kinds it shows (www/js/vendor.js; the entries are scripts/echarts).
node_modules/.bin/esbuild scripts/echarts/*.js --bundle --splitting --format=esm --minify \
	--outdir=build/www/vendor/echarts --chunk-names='chunk-[hash]' --log-level=warning \
	--metafile=build/echarts-meta.json
# Each of those modules' chunks, for modulepreload hints (so that they are
# not discovered one level at a time): {"core": ["/vendor/echarts/chunk-...js", ...], ...}
chunks=$(node -e '
const out = require("./build/echarts-meta.json").outputs;
const url = (f) => f.replace(/^build\/www/, "");
const deps = (f, seen) => { for (const i of out[f].imports || []) if (i.kind === "import-statement" && !seen.has(i.path)) { seen.add(i.path); deps(i.path, seen); } return seen; };
const map = {};
for (const f of Object.keys(out)) if (out[f].entryPoint) map[f.replace(/^.*\//, "").replace(/\.js$/, "")] = [...deps(f, new Set())].map(url).sort();
process.stdout.write(JSON.stringify(map));')
# The application as one module (www/js/main.js and what it imports): one
# request instead of a cascade of ~30 discovered import by import.
node_modules/.bin/esbuild www/js/main.js --bundle --format=esm --minify --external:'/vendor/*' \
	"--define:PG_DASH_ECHARTS_CHUNKS=$chunks" --outfile=build/www/js/app.js --log-level=warning
sed -i 's#<script type="module" src="/js/main.js"></script>#<script type="module" src="/js/app.js"></script>#' build/www/index.html
grep -q 'src="/js/app.js"' build/www/index.html

find build/www -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \
	-o -name '*.json' -o -name '*.svg' -o -name '*.txt' \) -size +511c |
while read -r f; do
	gzip -9 -n -c "$f" > "$f.gz"
	touch -r "$f" "$f.gz"
done
